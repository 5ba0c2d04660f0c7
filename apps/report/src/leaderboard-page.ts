/**
 * Leaderboard pages, one per benchmark task (dataset fingerprint, split fractions and procedure,
 * metric): every configuration's seed group ranked by mean test accuracy recomputed from the
 * stored predictions, with its interval, seeds, cost, and significance against the leader.
 */
import { buildLeaderboards, describeTask, formatP, type Leaderboard, type LeaderboardEntry } from '@mlbench/experiment/results';
import { loadCheckedRuns, type CheckedRuns, type ExcludedRun } from './checked-runs';
import type { Run, TrackingStore } from '@mlbench/tracking';
import { duration, MISSING, percent, shortId } from './format';
import type { SeedResultCache } from './seed-result-cache';

export interface LeaderboardData {
  leaderboards: Leaderboard[];
  /** Completed runs left out, with the reason (edited numbers, no seed in the config, no dataset). */
  excluded: ExcludedRun[];
}

/** Leaderboards of checked runs: a run that failed a check is left out with its reason. */
export function leaderboardData(checked: CheckedRuns): LeaderboardData {
  return { leaderboards: buildLeaderboards([...checked.results.values()]), excluded: [...checked.excluded.values()] };
}

/** Completed runs as checked seed results, ranked per task. */
export async function loadLeaderboardData(store: TrackingStore, runs: readonly Run[], cache?: SeedResultCache): Promise<LeaderboardData> {
  return leaderboardData(await loadCheckedRuns(store, runs, cache));
}

export const leaderboardPagePath = (taskKey: string): string => `tasks/${taskKey}.html`;

export interface LeaderboardRow {
  rank: number;
  name: string;
  /** What differs from the leader's configuration. */
  changes: string;
  seeds: number;
  seedList: string;
  singleSeed: boolean;
  /** Same wording as the study page: "89.09% ± 1.30". */
  accuracy: string;
  /** "87.48% – 90.70%", or a note for one seed. */
  interval: string;
  /** Versus the leader: difference and Holm-adjusted p, in words. */
  difference: string;
  pValue: string;
  verdict: string;
  significant: boolean;
  leader: boolean;
  parameters: string;
  extraction: string;
  training: string;
  runs: readonly { seed: number; shortId: string; href: string; accuracy: string }[];
  notes: readonly string[];
}

export interface LeaderboardPageModel {
  title: string;
  task: { key: string; description: string; fingerprint: string; split: string; procedure: string; metric: string; classes: string };
  rows: readonly LeaderboardRow[];
  method: string;
  indexHref: string;
}

const pp = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)} pp`;
const meanStd = (e: LeaderboardEntry): string => `${percent(e.mean)} ± ${(100 * e.std).toFixed(2)}`;

export function buildLeaderboardPage(board: Leaderboard, links: { indexHref: string; runHref: (id: string) => string }): LeaderboardPageModel {
  const { task } = board;
  const rows = board.entries.map((e): LeaderboardRow => {
    const v = e.versusLeader;
    let verdict = 'leader';
    if (v) {
      if (e.singleSeed) verdict = 'single seed: not tested';
      else if (!v.test) verdict = 'not tested (the leader has one seed)';
      else verdict = v.significant ? `significantly worse than the leader (${v.note})` : `not significantly different from the leader (${v.note})`;
    }
    return {
      rank: e.rank,
      name: e.name,
      changes: e.rank === 1 ? 'leader' : e.differencesFromLeader.join('; ') || 'same configuration',
      seeds: e.n,
      seedList: e.runs.map((r) => r.seed).join(', '),
      singleSeed: e.singleSeed,
      accuracy: meanStd(e),
      interval: e.interval ? `${percent(e.interval.low)} – ${percent(e.interval.high)}` : 'one seed: no interval',
      difference: v ? pp(v.difference) : MISSING,
      pValue: v?.adjustedP !== null && v?.adjustedP !== undefined ? `p ${formatP(v.adjustedP).startsWith('<') ? '' : '= '}${formatP(v.adjustedP)}` : MISSING,
      verdict,
      significant: v?.significant ?? false,
      leader: e.rank === 1,
      parameters: e.parameters === null ? MISSING : e.parameters.toLocaleString('en-US'),
      extraction: e.extractionSeconds === null ? MISSING : e.extractionSeconds === 0 ? 'cached' : duration(e.extractionSeconds * 1000),
      training: e.trainSeconds === null ? MISSING : `${duration(e.trainSeconds * 1000)} per seed`,
      runs: e.runs.filter((r) => r.runId !== null).map((r) => ({ seed: r.seed, shortId: shortId(r.runId as string), href: links.runHref(r.runId as string), accuracy: percent(r.accuracy) })),
      notes: e.notes,
    };
  });
  return {
    title: `Leaderboard ${task.key}`,
    task: {
      key: task.key,
      description: describeTask(task),
      fingerprint: task.datasetFingerprint,
      split: `train ${task.split.train} / val ${task.split.val} / test ${task.split.test}`,
      procedure: task.splitProcedure,
      metric: task.metric,
      classes: task.classes.join(', '),
    },
    rows,
    method:
      `Every number is recomputed from the runs' stored per-image test predictions (runs whose logged metrics disagree with them are left out). ` +
      `A configuration is a seed group: runs that differ only by seed. Interval: 95% Student-t interval of the mean over seeds. ` +
      `Against the leader: paired t-test over the seeds both have (same seed, same split), Welch's t-test otherwise, two-sided; ` +
      `p-values Holm-adjusted over all entries, significant below ${board.alpha}. A single-seed entry is shown but never tested.`,
    indexHref: links.indexHref,
  };
}
