import * as os from 'node:os';
import { InvalidRunStateError, type Run, type TrackingStore } from '@mlbench/tracking';

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
 * `abandoned`. Only runs started on this host can be checked; runs from other hosts, and runs
 * recorded before the store kept a pid, are left alone. A pid reused by an unrelated process makes
 * a dead run look alive until that process ends (the safe direction: never abandon a live run).
 */
export async function markAbandonedRuns(store: TrackingStore, probe: ProcessProbe = localProcesses): Promise<Run[]> {
  const running = await store.searchRuns({ status: 'running', limit: 100_000 });
  const abandoned: Run[] = [];
  for (const run of running) {
    if (run.pid === null || run.hostname !== probe.hostname || probe.isAlive(run.pid)) continue;
    try {
      abandoned.push(
        await store.failRun(
          run.id,
          `abandoned: its process ${run.pid} on ${run.hostname} ended without finishing the run (killed or crashed); detected at a later start`,
          'abandoned',
        ),
      );
    } catch (error) {
      if (!(error instanceof InvalidRunStateError)) throw error; // finished meanwhile: nothing to do
    }
  }
  return abandoned;
}
