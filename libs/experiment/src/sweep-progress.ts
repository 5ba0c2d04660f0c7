import type { Run } from '@mlbench/tracking';

/** Where a sweep's points are, from its run rows (each attempt of a point is a row). */
export interface SweepProgress {
  size: number;
  /** Points with a completed run. */
  done: number;
  /** Points whose newest attempt is running. */
  running: number;
  /** Points whose newest attempt failed (a queue may still retry them). */
  failed: number;
  /** Everything else: not started yet, or re-queued after an interrupted or abandoned attempt. */
  queued: number;
  /** Completed runs beyond one per point: 0 unless a point was recorded twice. */
  duplicates: number;
}

/** Pure: counts a sweep's points by the newest attempt of each; a completed attempt wins. */
export function sweepProgress(size: number, runs: readonly Run[]): SweepProgress {
  const byPoint = new Map<number, Run[]>();
  for (const run of runs) {
    if (run.sweepIndex === null) continue;
    byPoint.set(run.sweepIndex, [...(byPoint.get(run.sweepIndex) ?? []), run]);
  }
  let done = 0;
  let running = 0;
  let failed = 0;
  let duplicates = 0;
  for (const attempts of byPoint.values()) {
    const completed = attempts.filter((r) => r.status === 'completed').length;
    if (completed > 0) {
      done++;
      duplicates += completed - 1;
      continue;
    }
    const newest = attempts.reduce((a, b) => (b.startTime > a.startTime ? b : a));
    if (newest.status === 'running') running++;
    else if (newest.status === 'failed') failed++;
  }
  return { size, done, running, failed, queued: Math.max(0, size - done - running - failed), duplicates };
}
