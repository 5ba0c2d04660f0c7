import { maxOf } from '@mlbench/common';
import { holmAdjust, pairedMeanDifference, summarizeSample, twoSidedPValue, welchMeanDifference } from '@mlbench/metrics';
import { configDifferences, LOCATION_KEYS } from './seed-gate';
import type { SeedResult } from './seed-results';
import type { BenchmarkTask } from './task';

/** Significance of an entry's difference from the leader. */
export interface VersusLeader {
  test: 'paired-t' | 'welch-t' | null;
  /** Seeds both have (with the same split) when paired. */
  pairedSeeds: number;
  /** Entry mean minus leader mean (over the paired seeds when paired). */
  difference: number;
  pValue: number | null;
  /** Holm-adjusted over every entry compared with the leader. */
  adjustedP: number | null;
  significant: boolean;
  /** Why there is no test, or how it was done. */
  note: string;
}

export interface LeaderboardEntry {
  rank: number;
  /** Config identity without seed. */
  configKey: string;
  name: string;
  /** The config (without seed) of the group, for labels. */
  config: Record<string, unknown>;
  /** Config keys that differ from the leader's (empty for the leader). */
  differencesFromLeader: string[];
  runs: { runId: string | null; seed: number; accuracy: number }[];
  n: number;
  mean: number;
  std: number;
  /** 95% Student-t interval of the mean (null for a single seed). */
  interval: { low: number; high: number } | null;
  singleSeed: boolean;
  /** Null for the leader. */
  versusLeader: VersusLeader | null;
  /** Head parameters trained. */
  parameters: number | null;
  /** Seconds of feature extraction charged to the group (the most any of its runs took; 0 when every run read the cache). */
  extractionSeconds: number | null;
  /** Mean training seconds per seed. */
  trainSeconds: number | null;
  /** Messages about the group (e.g. a repeated seed). */
  notes: string[];
}

export interface Leaderboard {
  task: BenchmarkTask;
  entries: LeaderboardEntry[];
  alpha: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const present = (xs: readonly (number | null)[]): number[] => xs.filter((x): x is number => x !== null && Number.isFinite(x));

/**
 * Leaderboards: seed results grouped by task (never across tasks), then by configuration (runs
 * differing only by seed), ranked by mean test accuracy recomputed from predictions. Every entry
 * but the leader is tested against the leader (paired t over shared seeds with the same split,
 * else Welch; two-sided), p-values Holm-adjusted; single-seed entries are never significant.
 */
export function buildLeaderboards(results: readonly SeedResult[], alpha = 0.05): Leaderboard[] {
  const byTask = new Map<string, SeedResult[]>();
  for (const r of results) byTask.set(r.task.key, [...(byTask.get(r.task.key) ?? []), r]);
  return [...byTask.values()].map((taskResults) => buildLeaderboard(taskResults, alpha)).sort((a, b) => b.entries.length - a.entries.length || a.task.key.localeCompare(b.task.key));
}

function buildLeaderboard(results: readonly SeedResult[], alpha: number): Leaderboard {
  const byConfig = new Map<string, SeedResult[]>();
  for (const r of results) byConfig.set(r.configKey, [...(byConfig.get(r.configKey) ?? []), r]);
  const runsOfEntry = new Map<LeaderboardEntry, SeedResult[]>();
  const entries: LeaderboardEntry[] = [...byConfig.entries()].map(([configKey, members]) => {
    // A repeated seed is one sample twice: keep the first recorded, and say so.
    const bySeed = new Map<number, SeedResult>();
    const notes: string[] = [];
    for (const m of members) {
      const kept = bySeed.get(m.seed);
      if (kept) notes.push(`seed ${m.seed} recorded again by ${m.source}: only ${kept.source} counts (one run per seed)`);
      else bySeed.set(m.seed, m);
    }
    const runs = [...bySeed.values()].sort((a, b) => a.seed - b.seed);
    const values = runs.map((r) => r.metrics['test.accuracy']);
    const s = summarizeSample(values);
    const extraction = present(runs.map((r) => r.cost.extractionSeconds));
    const train = present(runs.map((r) => r.cost.trainSeconds));
    const entry: LeaderboardEntry = {
      rank: 0,
      configKey,
      name: runs[0].name,
      config: runs[0].config,
      differencesFromLeader: [],
      runs: runs.map((r) => ({ runId: r.runId, seed: r.seed, accuracy: r.metrics['test.accuracy'] })),
      n: runs.length,
      mean: s.mean,
      std: s.std,
      interval: s.interval ? { low: s.interval.low, high: s.interval.high } : null,
      singleSeed: runs.length === 1,
      versusLeader: null,
      parameters: present(runs.map((r) => r.cost.headParameters))[0] ?? null,
      extractionSeconds: extraction.length > 0 ? maxOf(extraction) : null,
      trainSeconds: train.length > 0 ? mean(train) : null,
      notes,
    };
    runsOfEntry.set(entry, runs);
    return entry;
  });
  // Ranked by mean; ties by more seeds, then name.
  entries.sort((a, b) => b.mean - a.mean || b.n - a.n || a.name.localeCompare(b.name));
  entries.forEach((e, i) => (e.rank = i + 1));
  const runsOf = (e: LeaderboardEntry): SeedResult[] => runsOfEntry.get(e) ?? [];
  const leader = entries[0];
  const tested: { entry: LeaderboardEntry; p: number }[] = [];
  for (const entry of entries.slice(1)) {
    entry.differencesFromLeader = configDifferences(leader.config, entry.config, LOCATION_KEYS);
    const leaderRuns = new Map(runsOf(leader).map((r) => [r.seed, r]));
    const shared = runsOf(entry).filter((r) => leaderRuns.get(r.seed)?.splitHash === r.splitHash);
    const difference = entry.mean - leader.mean;
    if (entry.singleSeed || leader.singleSeed) {
      entry.versusLeader = { test: null, pairedSeeds: 0, difference, pValue: null, adjustedP: null, significant: false, note: entry.singleSeed ? 'single seed: no test, never significant' : 'the leader has a single seed: no test' };
      continue;
    }
    let d;
    let note: string;
    if (shared.length >= 2) {
      d = pairedMeanDifference(shared.map((r) => r.metrics['test.accuracy']), shared.map((r) => (leaderRuns.get(r.seed) as SeedResult).metrics['test.accuracy']));
      note = `paired t over ${shared.length} shared seeds`;
    } else {
      d = welchMeanDifference(runsOf(entry).map((r) => r.metrics['test.accuracy']), runsOf(leader).map((r) => r.metrics['test.accuracy']));
      note = `Welch t (${shared.length === 0 ? 'no shared seed' : 'one shared seed'})`;
    }
    const p = twoSidedPValue(d);
    entry.versusLeader = { test: d.test, pairedSeeds: d.test === 'paired-t' ? shared.length : 0, difference: d.difference, pValue: p, adjustedP: null, significant: false, note };
    tested.push({ entry, p });
  }
  const adjusted = holmAdjust(tested.map((t) => t.p));
  tested.forEach(({ entry }, i) => {
    const v = entry.versusLeader as VersusLeader;
    v.adjustedP = adjusted[i];
    v.significant = adjusted[i] < alpha;
  });
  return { task: results[0].task, entries, alpha };
}
