/**
 * Completed runs checked once for every page that gives a verdict (leaderboards, sweep best
 * configurations, study arms): a run passes as a seed result whose metrics are recomputed from
 * its stored test predictions (`seedResultOfRecordedRun`), or is left out with the reason.
 */
import { seedResultOfRecordedRun, type SeedResult } from '@mlbench/experiment/results';
import type { Run, TrackingStore } from '@mlbench/tracking';
import type { SeedResultCache } from './seed-result-cache';

/** A completed run left out of verdicts, with why on one line (edited numbers, no seed, no dataset): the refusal's lines joined, its command hint left out. */
export interface ExcludedRun {
  runId: string;
  name: string;
  reason: string;
}

export interface CheckedRuns {
  /** Completed runs that passed every check, by run id. */
  results: ReadonlyMap<string, SeedResult>;
  /** Completed runs that failed a check, by run id. */
  excluded: ReadonlyMap<string, ExcludedRun>;
}

/** Checks the completed runs among `runs` (reusing `cache` where the run is unchanged). */
export async function loadCheckedRuns(store: TrackingStore, runs: readonly Run[], cache?: SeedResultCache): Promise<CheckedRuns> {
  const results = new Map<string, SeedResult>();
  const excluded = new Map<string, ExcludedRun>();
  for (const run of runs.filter((r) => r.status === 'completed')) {
    const cached = cache?.get(run);
    if (cached) {
      results.set(run.id, cached);
      continue;
    }
    try {
      const result = await seedResultOfRecordedRun(store, run);
      cache?.set(run, result);
      results.set(run.id, result);
    } catch (error) {
      excluded.set(run.id, { runId: run.id, name: run.name, reason: exclusionReason(error) });
    }
  }
  return { results, excluded };
}

/** The refusal on one line: all its lines joined, with what did not match (the command hint left out). */
function exclusionReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const lines = error.message.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('(check with'));
  return lines.join(' ');
}

/** The check of completed runs not in `checked` yet (a page built outside a report). */
export async function withCheckedRuns(store: TrackingStore, runs: readonly Run[], checked?: CheckedRuns): Promise<CheckedRuns> {
  const missing = runs.filter((r) => r.status === 'completed' && !checked?.results.has(r.id) && !checked?.excluded.has(r.id));
  if (checked && missing.length === 0) return checked;
  const fresh = await loadCheckedRuns(store, missing);
  return { results: new Map([...(checked?.results ?? []), ...fresh.results]), excluded: new Map([...(checked?.excluded ?? []), ...fresh.excluded]) };
}
