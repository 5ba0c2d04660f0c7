import * as os from 'node:os';
import { InvalidRunStateError, heartbeatSettings, type Run, type TrackingStore } from '@mlbench/tracking';

/** Tells whether a process on this machine is alive. */
export interface ProcessProbe {
  hostname: string;
  isAlive(pid: number): boolean;
}

/** `process.kill(pid, 0)`: no signal is sent; ESRCH means gone, EPERM means alive but not ours. */
export const localProcesses: ProcessProbe = {
  hostname: os.hostname(),
  isAlive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
};

/**
 * Marks `running` runs whose process is gone (killed with -9, crashed, machine rebooted) as
 * `abandoned`. Runs started on this host are checked by pid (the fast path: a live pid is never
 * abandoned); runs from any other host, or without a pid, when their heartbeat is older than the
 * grace period (see heartbeat.ts in @mlbench/tracking). A pid reused by an unrelated process makes
 * a dead run look alive until that process ends (the safe direction: never abandon a live run).
 */
export async function markAbandonedRuns(
  store: TrackingStore,
  probe: ProcessProbe = localProcesses,
  options: { graceMs?: number; now?: () => Date } = {},
): Promise<Run[]> {
  const graceMs = options.graceMs ?? heartbeatSettings().graceMs;
  const now = (options.now ?? (() => new Date()))();
  const running = await store.searchRuns({ status: 'running', limit: 100_000 });
  const silent = new Set(
    (await store.searchRuns({ status: 'running', heartbeatBefore: new Date(now.getTime() - graceMs).toISOString(), limit: 100_000 })).map((r) => r.id),
  );
  const abandoned: Run[] = [];
  for (const run of running) {
    let reason: string;
    if (run.pid !== null && run.hostname === probe.hostname) {
      if (probe.isAlive(run.pid)) continue;
      reason = `abandoned: its process ${run.pid} on ${run.hostname} ended without finishing the run (killed or crashed); detected at a later start`;
    } else if (silent.has(run.id)) {
      reason =
        `abandoned: its process ${run.pid ?? '?'} on ${run.hostname ?? '?'} sent no heartbeat for more than ${Math.round(graceMs / 1000)} s ` +
        `(killed, crashed or its machine is gone); detected from ${probe.hostname}`;
    } else {
      continue;
    }
    try {
      abandoned.push(await store.failRun(run.id, reason, 'abandoned'));
    } catch (error) {
      if (!(error instanceof InvalidRunStateError)) throw error; // finished meanwhile: nothing to do
    }
  }
  return abandoned;
}
