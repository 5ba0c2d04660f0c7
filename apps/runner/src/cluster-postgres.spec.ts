/**
 * The cluster on the PostgreSQL store: `runner submit` and three `runner worker` processes against a
 * real Redis (Debian redis-server, AOF on) and one real PostgreSQL server (throwaway cluster, see
 * libs/tracking/src/testing/postgres-server.ts). One worker is killed with kill -9 in the middle of
 * a point: BullMQ's stalled check re-queues it, another worker marks the dead attempt's row
 * abandoned and completes it; every point ends with exactly one completed run, every image is
 * extracted once for the whole cluster.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { extractedKey } from '@mlbench/cluster';
import { startRedisServer, type RedisServer } from '@mlbench/cluster/src/testing/redis-server';
import { tinySweepConfig, writeTinySweepData } from '@mlbench/cluster/src/testing/tiny-sweep';
import { openSqliteStore, openTrackingStore, type Run, type TrackingStore } from '@mlbench/tracking';
import { startPostgres, type PostgresServer } from '@mlbench/tracking/src/testing';
import { spawnCli } from './test-support';

jest.setTimeout(300_000);

const STALL_SECONDS = 2;
const QUEUE = 'cluster-pg';
let redis: RedisServer;
let pg: PostgresServer;
let dir: string;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedisServer(), startPostgres()]);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cluster-pg-'));
  await writeTinySweepData(dir, 'cluster-pg');
}, 120_000);
afterAll(async () => {
  await redis?.stop();
  await pg?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

it('three workers record into one PostgreSQL store; kill -9 of one mid-point: its attempt is abandoned, every point completes exactly once, each image is extracted once', async () => {
  const file = path.join(dir, 'pg-sweep.yaml');
  await fs.writeFile(file, tinySweepConfig({ name: 'pg-sweep', epochs: 150, sweep: ['seed: [1, 2, 3, 4]'] }));
  const db = await pg.createDatabase('cluster');
  const common = ['--queue', redis.url, '--queue-name', QUEUE, '--db', db, '--cache-dir', path.join(dir, 'cache')];
  const submit = spawnCli(['submit', '--config', file, ...common]);
  expect({ code: (await submit.exited).code, stderr: submit.stderr.join('\n') }).toEqual({ code: 0, stderr: '' });

  const worker = (...extra: string[]) => spawnCli(['worker', ...common, '--stall-seconds', String(STALL_SECONDS), ...extra]);
  const a = worker('--verbose');
  await a.waitFor(/epoch +\d+\/150/);
  // Frozen first (renews no lock, as a dead worker), so the others cannot find the queue empty before it dies.
  a.child.kill('SIGSTOP');
  const others = [worker('--until-empty'), worker('--until-empty')];
  await Promise.all(others.map((w) => w.waitFor(/ready: queue/)));
  a.child.kill('SIGKILL');
  expect((await a.exited).signal).toBe('SIGKILL');
  const exits = await Promise.all(others.map((w) => w.exited));
  expect(exits.map((e) => e.code)).toEqual([0, 0]);

  const store = await openTrackingStore(db);
  let runs: Run[];
  try {
    const sweep = (await store.searchSweeps({}))[0];
    expect(sweep.status).toBe('completed');
    runs = await store.searchRuns({ sweepId: sweep.id });
  } finally {
    await store.close();
  }
  const completedPerPoint = [0, 1, 2, 3].map((i) => runs.filter((r) => r.sweepIndex === i && r.status === 'completed').length);
  expect(completedPerPoint).toEqual([1, 1, 1, 1]);
  const abandoned = runs.filter((r) => r.status === 'abandoned');
  expect(abandoned).toHaveLength(1);
  expect(abandoned[0].pid).toBe(a.child.pid);
  expect(abandoned[0].error).toMatch(/abandoned: .*(lost its queue lock|ended without finishing)/);
  expect(runs.filter((r) => r.status !== 'completed' && r.status !== 'abandoned')).toEqual([]);

  const client = new Redis(redis.port, '127.0.0.1');
  try {
    const keys = await client.keys(extractedKey(QUEUE, '*'));
    const extracted = (await Promise.all(keys.map((k) => client.get(k)))).reduce((sum, v) => sum + Number(v ?? 0), 0);
    expect(extracted).toBe(30);
  } finally {
    client.disconnect();
  }
});

/** Every `.f32` file of a local feature cache, by image sha256, under its (one) cache key. */
async function localFeatures(cacheDir: string): Promise<{ key: string; files: Map<string, Buffer> }> {
  const keys = await fs.readdir(path.join(cacheDir, 'features'));
  expect(keys).toHaveLength(1);
  const files = new Map<string, Buffer>();
  const root = path.join(cacheDir, 'features', keys[0]);
  for (const shard of await fs.readdir(root)) {
    if (shard.endsWith('.json')) continue;
    for (const name of await fs.readdir(path.join(root, shard))) files.set(name.replace(/\.f32$/, ''), await fs.readFile(path.join(root, shard, name)));
  }
  return { key: keys[0], files };
}

/** Per sweep point: test accuracy and every test prediction of its completed run. */
async function resultsByPoint(store: TrackingStore): Promise<Record<number, unknown>> {
  const sweep = (await store.searchSweeps({}))[0];
  const out: Record<number, unknown> = {};
  for (const run of await store.searchRuns({ sweepId: sweep.id, status: 'completed' })) {
    const accuracy = (await store.getMetrics(run.id)).find((m) => m.key === 'test.accuracy')?.value;
    out[run.sweepIndex ?? -1] = { accuracy, predictions: await store.getPredictions(run.id, 'test') };
  }
  return out;
}

it('two workers on different machines (no shared disk: each its own --cache-dir), cold cache: each image is extracted once for the whole cluster, through the store; features and results equal a local run', async () => {
  const file = path.join(dir, 'pg-cache.yaml');
  await fs.writeFile(file, tinySweepConfig({ name: 'pg-cache', epochs: 40, sweep: ['seed: [1, 2, 3, 4]'] }));
  const db = await pg.createDatabase('sharedcache');
  const queue = ['--queue', redis.url, '--queue-name', 'cluster-pg-cache', '--db', db];
  const caches = [path.join(dir, 'machine-a'), path.join(dir, 'machine-b')];
  const submit = spawnCli(['submit', '--config', file, ...queue, '--cache-dir', path.join(dir, 'submitter')]);
  expect({ code: (await submit.exited).code, stderr: submit.stderr.join('\n') }).toEqual({ code: 0, stderr: '' });
  // Started together on a cold cache: both want the same 30 images at once.
  const workers = caches.map((cache) => spawnCli(['worker', ...queue, '--cache-dir', cache, '--stall-seconds', String(STALL_SECONDS), '--until-empty']));
  const exits = await Promise.all(workers.map((w) => w.exited));
  expect(exits.map((e) => e.code)).toEqual([0, 0]);
  // Both machines ran points (so both needed the features).
  expect(workers.map((w) => w.stdout.filter((l) => /: completed, run /.test(l)).length > 0)).toEqual([true, true]);

  const client = new Redis(redis.port, '127.0.0.1');
  try {
    const keys = await client.keys(extractedKey('cluster-pg-cache', '*'));
    const extracted = (await Promise.all(keys.map((k) => client.get(k)))).reduce((sum, v) => sum + Number(v ?? 0), 0);
    expect(extracted).toBe(30);
  } finally {
    client.disconnect();
  }

  const local = path.join(dir, 'local');
  const run = spawnCli(['run', '--config', file, '--db', path.join(dir, 'local.sqlite'), '--cache-dir', local]);
  expect((await run.exited).code).toBe(0);
  const reference = await localFeatures(local);
  expect(reference.files.size).toBe(30);

  const store = await openTrackingStore(db);
  const localStore = await openSqliteStore(path.join(dir, 'local.sqlite'));
  try {
    // The vectors in the store and in each machine's folder (its first-level cache) are the local run's, bit for bit.
    const shared = await store.sharedFeatures?.getMany(reference.key, 8 * 8 * 3, [...reference.files.keys()]);
    expect(shared?.size).toBe(30);
    for (const [sha, bytes] of reference.files) expect(Buffer.from(shared?.get(sha)?.buffer ?? new ArrayBuffer(0)).equals(bytes)).toBe(true);
    for (const cache of caches) {
      const machine = await localFeatures(cache);
      expect(machine.key).toBe(reference.key);
      expect([...machine.files].every(([sha, bytes]) => reference.files.get(sha)?.equals(bytes))).toBe(true);
      expect(machine.files.size).toBe(30);
    }
    const cluster = await resultsByPoint(store);
    expect(Object.keys(cluster)).toEqual(['0', '1', '2', '3']);
    expect(cluster).toEqual(await resultsByPoint(localStore));
  } finally {
    await store.close();
    await localStore.close();
  }
});
