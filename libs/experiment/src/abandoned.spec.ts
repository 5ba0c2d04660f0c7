import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describeEachEngine } from '@mlbench/tracking/src/testing/store-engines';
import { markAbandonedRuns, type ProcessProbe } from './abandoned';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SCRIPT = path.resolve(__dirname, '../../tracking/src/testing/heartbeat-process.ts');

/** This process, seen as another machine: it cannot check pids of host-a. */
const elsewhere: ProcessProbe = { hostname: 'host-b', isAlive: () => true };

describeEachEngine('abandoned runs', (engine) => {
  it('a kill -9ed run on another host is marked abandoned once its heartbeat is older than the grace period', async () => {
    const location = await engine().freshLocation();
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), SCRIPT, location, 'host-a', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const runId = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /run ([0-9a-f]{32})/.exec(out);
          if (match) resolve(match[1]);
        });
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.once('exit', (code) => reject(new Error(`heartbeat process exited (${code}) before creating its run: ${err}`)));
      });
      const store = await engine().open(location);
      try {
        // Alive and beating: older than the grace period by start time, but never silent that long.
        await sleep(3500);
        expect(await markAbandonedRuns(store, elsewhere, { graceMs: 3000 })).toEqual([]);
        expect((await store.getRun(runId))?.status).toBe('running');

        child.kill('SIGKILL');
        await exited;
        expect(await markAbandonedRuns(store, elsewhere, { graceMs: 3000 })).toEqual([]); // still within the grace period
        await sleep(3300);
        const [abandoned, ...others] = await markAbandonedRuns(store, elsewhere, { graceMs: 3000 });
        expect(others).toEqual([]);
        expect(abandoned).toMatchObject({ id: runId, status: 'abandoned', hostname: 'host-a' });
        expect(abandoned.error).toMatch(/^abandoned: its process \d+ on host-a sent no heartbeat for more than 3 s .*detected from host-b$/);
        // Same host: the pid check decides at once, heartbeat or not.
        const local = await store.createRun({ name: 'local', seed: 1, configHash: 'h', configText: 't', resolvedConfig: {}, environment: {}, hostname: 'host-b', pid: 999_999 });
        const [gone] = await markAbandonedRuns(store, { hostname: 'host-b', isAlive: () => false }, { graceMs: 60_000 });
        expect(gone).toMatchObject({ id: local.id, status: 'abandoned' });
      } finally {
        await store.close();
      }
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
