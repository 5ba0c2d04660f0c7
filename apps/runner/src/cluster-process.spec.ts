/**
 * `runner submit` and `runner worker` as real processes against a real Redis (Debian redis-server
 * on a free port, AOF on) and one SQLite store: several workers on a cold cache, kill -9 of a
 * worker mid-point, SIGTERM drain, and a Redis restart mid-sweep. Short lock/stall intervals (2 s).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { redisOptions } from '@mlbench/cluster';
import { startRedisServer, type RedisServer } from '@mlbench/cluster/src/testing/redis-server';
import { tinySweepConfig, writeTinySweepData } from '@mlbench/cluster/src/testing/tiny-sweep';
import { openSqliteStore, type Run } from '@mlbench/tracking';
import { REPO_ROOT, spawnCli, type CliProcess } from './test-support';

jest.setTimeout(240_000);

const STALL_SECONDS = 2;
let redis: RedisServer;
let dir: string;
let count = 0;

const config = (name: string, epochs: number, seeds: number[]): string => tinySweepConfig({ name, epochs, sweep: [`seed: [${seeds.join(', ')}]`] });

beforeAll(async () => {
  redis = await startRedisServer();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cluster-process-'));
  await writeTinySweepData(dir);
});
afterAll(async () => {
  await redis?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

interface Setup {
  db: string;
  common: string[];
  submit(): Promise<void>;
  worker(...extra: string[]): CliProcess;
  runs(): Promise<Run[]>;
}

async function setup(epochs: number, seeds: number[], url = (): string => redis.url): Promise<Setup> {
  const name = `cp-${++count}`;
  const file = path.join(dir, `${name}.yaml`);
  await fs.writeFile(file, config(name, epochs, seeds));
  const db = path.join(dir, `${name}.sqlite`);
  const common = ['--queue-name', name, '--db', db, '--cache-dir', path.join(dir, `cache-${name}`)];
  return {
    db,
    common,
    async submit() {
      const sub = spawnCli(['submit', '--config', file, '--queue', url(), ...common]);
      const { code } = await sub.exited;
      expect({ code, stderr: sub.stderr.join('\n') }).toEqual({ code: 0, stderr: '' });
    },
    worker: (...extra) => spawnCli(['worker', '--queue', url(), ...common, '--stall-seconds', String(STALL_SECONDS), ...extra]),
    async runs() {
      const store = await openSqliteStore(db);
      try {
        return await store.searchRuns({ name });
      } finally {
        await store.close();
      }
    },
  };
}

const statusesByPoint = (runs: readonly Run[]): Record<number, string[]> => {
  const by: Record<number, string[]> = {};
  for (const r of runs) (by[r.sweepIndex ?? -1] ??= []).push(r.status);
  for (const k of Object.keys(by)) by[Number(k)].sort();
  return by;
};

const kill = (p: CliProcess, signal: NodeJS.Signals): void => void p.child.kill(signal);

/** A worker process whose main thread blocks for `blockMs` after a point's feature pass (libs/cluster/src/testing/stalling-worker.ts). */
function stallingWorker(s: Setup, flag: string, blockMs: number): { lines: string[]; exited: Promise<number | null> } {
  const args = { queue: redis.url, queueName: s.common[1], db: s.db, cacheDir: s.common[5], stallMs: STALL_SECONDS * 1000, flag, blockMs };
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'libs/cluster/src/testing/stalling-worker.ts'), JSON.stringify(args)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { lines, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

describe('workers as processes', () => {
  it('a worker whose event loop blocks longer than the lock (a long extraction stretch) keeps its point: no other worker takes it, one run', async () => {
    const s = await setup(5, [9]);
    await s.submit();
    const flag = path.join(dir, `${s.common[1]}.blocked`);
    // Blocked for 5 lock durations: without renewal the lock expires and the other worker's
    // stalled check hands the point over while the first still runs it.
    const workers = [stallingWorker(s, flag, 5 * STALL_SECONDS * 1000), stallingWorker(s, flag, 5 * STALL_SECONDS * 1000)];
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes).toEqual([0, 0]);
    expect(existsSync(flag)).toBe(true);
    const events = workers.flatMap((w) => w.lines.map((l) => JSON.parse(l) as { type: string }));
    expect(events.filter((e) => e.type === 'blocking')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'point-start')).toHaveLength(1);
    expect(statusesByPoint(await s.runs())).toEqual({ 0: ['completed'] });
  });


  it('three workers on a cold cache run every point once and extract every image once', async () => {
    const s = await setup(20, [1, 2, 3, 4, 5, 6]);
    await s.submit();
    const workers = [s.worker('--until-empty'), s.worker('--until-empty'), s.worker('--until-empty')];
    const exits = await Promise.all(workers.map((w) => w.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
    const runs = await s.runs();
    expect(statusesByPoint(runs)).toEqual(Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [i, ['completed']])));
    const store = await openSqliteStore(s.db);
    try {
      const extracted = await Promise.all(runs.map(async (r) => (await store.getMetrics(r.id)).find((m) => m.key === 'extraction.extracted')?.value ?? 0));
      // 30 images, extracted once for the whole cluster (the per-key lock makes the others wait, then read the cache).
      expect(extracted.reduce((a, b) => a + b, 0)).toBe(30);
      expect((await store.searchSweeps({}))[0].status).toBe('completed');
    } finally {
      await store.close();
    }
    const done = workers.map((w) => w.stdout.filter((l) => /: completed, run /.test(l)).length);
    expect(done.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('kill -9 of a worker mid-point: BullMQ re-queues the stalled point, another worker runs it, the dead attempt is abandoned', async () => {
    const s = await setup(200, [7]);
    await s.submit();
    const a = s.worker('--verbose');
    await a.waitFor(/epoch +\d+\/200/);
    // Frozen at once: a fast machine would otherwise finish the point while b starts up (b then
    // finds the queue empty). A frozen worker renews no lock, as a dead one.
    kill(a, 'SIGSTOP');
    const b = s.worker('--until-empty');
    await b.waitFor(/ready: queue/);
    kill(a, 'SIGKILL');
    const killedAt = Date.now();
    expect((await a.exited).signal).toBe('SIGKILL');
    await b.waitFor(/point 1\/1 .* started/);
    const recoveredMs = Date.now() - killedAt;
    // Lock expiry plus two stalled checks (BullMQ marks, then moves), plus one poll.
    expect(recoveredMs).toBeLessThan((3 * STALL_SECONDS + 3) * 1000);
    expect((await b.exited).code).toBe(0);
    const runs = await s.runs();
    expect(statusesByPoint(runs)).toEqual({ 0: ['abandoned', 'completed'] });
    expect(runs.find((r) => r.status === 'abandoned')?.error).toMatch(/abandoned: .*(lost its queue lock|ended without finishing)/);
  });

  it('SIGTERM drains: the point is interrupted, goes back to the queue, and the next worker completes it', async () => {
    const s = await setup(200, [8]);
    await s.submit();
    const a = s.worker('--verbose');
    await a.waitFor(/epoch +\d+\/200/);
    kill(a, 'SIGTERM');
    expect((await a.exited).code).toBe(130);
    expect(a.stdout.join('\n')).toMatch(/back to the queue: drained \(SIGTERM\)/);
    expect(statusesByPoint(await s.runs())).toEqual({ 0: ['interrupted'] });
    const queue = new Queue(s.common[1], { connection: redisOptions(redis.url) });
    try {
      expect(await queue.getJobCountByTypes('wait', 'active', 'delayed')).toBe(1);
    } finally {
      await queue.close();
    }
    const b = s.worker('--until-empty');
    expect((await b.exited).code).toBe(0);
    expect(statusesByPoint(await s.runs())).toEqual({ 0: ['completed', 'interrupted'] });
  });

  it('a Redis restart mid-sweep (AOF on) loses no point and runs none twice', async () => {
    const own = await startRedisServer();
    try {
      const s = await setup(40, [1, 2, 3, 4, 5, 6], () => own.url);
      await s.submit();
      const w = s.worker('--until-empty');
      await w.waitFor(/point 2\/6 .*: completed/);
      await own.restart();
      expect((await w.exited).code).toBe(0);
      expect(statusesByPoint(await s.runs())).toEqual(Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [i, ['completed']])));
    } finally {
      await own.stop();
    }
  });
});
