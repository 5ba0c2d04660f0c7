import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSqliteStore } from '@mlbench/tracking';
import { EXIT, runCli } from './cli';
import { REPO_ROOT, captureIo, finalMetrics } from './test-support';

/**
 * The accuracy regression test: the canonical experiment on the real tf_flowers photos.
 * It uses the repository's feature cache, so it is cold (several minutes) on a fresh clone
 * such as CI, and takes seconds afterwards.
 */
jest.setTimeout(40 * 60_000);

const CONFIG = path.join(REPO_ROOT, 'experiments/flowers-mobilenetv2-frozen.yaml');
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'canonical-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('canonical experiment: frozen MobileNetV2 + softmax on tf_flowers', () => {
  const args = (): string[] => ['--config', CONFIG, '--db', path.join(dir, 'runs.sqlite'), '--cache-dir', path.join(REPO_ROOT, 'results/cache')];

  it('reaches at least 87% test accuracy, twice, with the same split and metrics', async () => {
    const first = captureIo();
    expect(await runCli(args(), first)).toBe(EXIT.ok);
    const second = captureIo();
    expect(await runCli(args(), second)).toBe(EXIT.ok);
    expect(second.stdout.join('\n')).toMatch(/features +0 extracted, 3670 from cache/);

    const store = await openSqliteStore(path.join(dir, 'runs.sqlite'));
    try {
      const [b, a] = await store.searchRuns({ name: 'flowers-mobilenetv2-frozen' });
      const datasetA = await store.getDatasetInput(a.id);
      const datasetB = await store.getDatasetInput(b.id);
      expect(datasetA?.classCounts).toEqual({ daisy: 633, dandelion: 898, roses: 641, sunflowers: 699, tulips: 799 });
      expect(datasetB?.fingerprint).toBe(datasetA?.fingerprint);
      expect(datasetB?.splitHash).toBe(datasetA?.splitHash);

      const metricsA = finalMetrics(await store.getMetrics(a.id));
      const metricsB = finalMetrics(await store.getMetrics(b.id));
      console.log(`canonical run ${a.id}: test accuracy ${metricsA['test.accuracy']}, macro-F1 ${metricsA['test.macro_f1']}`);
      expect(metricsA['test.count']).toBe(735);
      expect(metricsA['test.accuracy']).toBeGreaterThanOrEqual(0.87);
      expect(metricsA['test.macro_f1']).toBeGreaterThanOrEqual(0.86);
      for (const key of Object.keys(metricsA).filter((k) => /^(train|val|test)\./.test(k))) {
        expect({ key, diff: Math.abs(metricsA[key] - metricsB[key]) < 1e-6 }).toEqual({ key, diff: true });
      }
      const predsA = await store.getPredictions(a.id, 'test');
      const predsB = await store.getPredictions(b.id, 'test');
      expect(predsB.map((p) => p.predictedLabel)).toEqual(predsA.map((p) => p.predictedLabel));
    } finally {
      await store.close();
    }
  });
});
