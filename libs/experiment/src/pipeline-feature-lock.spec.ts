/**
 * The feature lock of a run sharing its cache through a real throwaway PostgreSQL store: a failure
 * while the lock is held (here the shared read after taking it) still releases it, so the next
 * worker of the cluster is not blocked for good.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { openPostgresStore, type SharedFeatureCache, type TrackingStore } from '@mlbench/tracking';
import { startPostgres, type PostgresServer } from '@mlbench/tracking/src/testing';
import { parseConfig } from './config';
import { runExperiment } from './pipeline';
import { tinyConfig } from './testing';

jest.setTimeout(180_000);

const REPO_ROOT = path.resolve(__dirname, '../../..');
const SMALL_MODEL = path.resolve(REPO_ROOT, '../shared/models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');

let dir: string;
let pg: PostgresServer;
let store: TrackingStore;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pipeline-feature-lock-'));
  pg = await startPostgres();
  store = await openPostgresStore(await pg.createDatabase('lock'));
});
afterAll(async () => {
  await store?.close();
  await pg?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

it('releases the feature lock when the shared copy taken under it fails', async () => {
  const real = store.sharedFeatures;
  if (!real) throw new Error('a PostgreSQL store shares its feature cache');
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt'], imagesPerClass: 4, seed: 'feature-lock' });
  let reads = 0;
  // The real shared cache, whose second read (the one after the lock is taken) fails as a dropped connection would.
  const shared: SharedFeatureCache = {
    location: real.location,
    getMany: (key, dim, hashes) => (++reads === 2 ? Promise.reject(new Error('connection lost')) : real.getMany(key, dim, hashes)),
    putMany: (key, entries) => real.putMany(key, entries),
    tryLock: (key) => real.tryLock(key),
  };
  let lockedKey: string | undefined;
  let released = 0;
  const lockFeatures = async (key: string): Promise<() => Promise<void>> => {
    const release = await real.tryLock(key);
    if (!release) throw new Error('the lock is free at the start');
    lockedKey = key;
    return async () => {
      released += 1;
      await release();
    };
  };
  const loaded = parseConfig(
    tinyConfig({ name: 'lock', seed: 1, split: [0.5, 0.25, 0.25], source: SMALL_MODEL, engine: 'onnx', train: { learningRate: 0.05, epochs: 1, batchSize: 4 } }),
    path.join(dir, 'lock.yaml'),
  );
  await expect(runExperiment(loaded, { dbPath: 'unused', cacheDir: path.join(dir, 'cache'), store, sharedFeatures: shared, lockFeatures })).rejects.toThrow('connection lost');
  expect(reads).toBe(2);
  expect(released).toBe(1);
  // Free for the cluster's next session, and nothing recorded (the run had not started).
  const again = lockedKey ? await real.tryLock(lockedKey) : null;
  expect(again).not.toBeNull();
  await again?.();
  expect(await store.searchRuns()).toEqual([]);
});
