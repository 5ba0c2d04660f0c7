import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { openSqliteStore } from '@mlbench/tracking';
import { EXIT, runCli } from './cli';
import { SHARED, captureIo, finalMetrics } from './test-support';

// The whole pipeline on a small generated dataset and the small real MobileNetV1 0.5/160.
jest.setTimeout(120_000);

let dir: string;
let db: string;
let cacheDir: string;
const model = path.join(SHARED, 'models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');

const config = (overrides: { epochs?: string; dataset?: string } = {}): string => `
name: synthetic-smoke
seed: 7
dataset:
  path: ${overrides.dataset ?? 'data'}
  split: { train: 0.6, val: 0.2, test: 0.2 }
preprocess:
  size: [160, 160]
model:
  extractor:
    source: ${model}
    batchSize: 8
train:
  learningRate: 0.01
  epochs: ${overrides.epochs ?? '8'}
  batchSize: 8
`;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'runner-'));
  db = path.join(dir, 'runs.sqlite');
  cacheDir = path.join(dir, 'cache');
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 10, seed: 'cli' });
  await fs.writeFile(path.join(dir, 'exp.yaml'), config());
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('runner --config (synthetic dataset)', () => {
  it('runs, prints the summary and records everything', async () => {
    const io = captureIo();
    const code = await runCli(['--config', path.join(dir, 'exp.yaml'), '--db', db, '--cache-dir', cacheDir], io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(EXIT.ok);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/tfjs +4\.\d+\.\d+, backend wasm/);
    expect(text).toMatch(/engine +(onnx|tfjs) \d+\.\d+\.\d+ \((cpu|wasm), \d+ threads?\) extracts the features/);
    expect(text).toMatch(/split +train 18, val 6, test 6/);
    expect(text).toMatch(/epoch 8\/8 +loss \d\.\d{4} +acc/);
    expect(text).toMatch(/test accuracy +\d+\.\d\d%/);
    expect(text).toMatch(/features +30 extracted, 0 from cache/);

    const store = await openSqliteStore(db);
    try {
      const [run] = await store.searchRuns({ name: 'synthetic-smoke' });
      expect(run.status).toBe('completed');
      expect(run.seed).toBe(7);
      expect(run.environment['tfjs.backend']).toBe('wasm');
      const metrics = finalMetrics(await store.getMetrics(run.id));
      // Colour classes are trivially separable for ImageNet features.
      expect(metrics['test.accuracy']).toBeGreaterThanOrEqual(5 / 6);
      expect(metrics['test.count']).toBe(6);
      const curve = (await store.getMetrics(run.id)).filter((m) => m.key === 'val.accuracy' && m.step !== null);
      expect(curve.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await store.getSplit(run.id)).toHaveLength(30);
      const predictions = await store.getPredictions(run.id);
      expect(predictions).toHaveLength(12);
      for (const p of predictions) expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      const params = Object.fromEntries((await store.getParams(run.id)).map((p) => [p.key, p.value]));
      expect(params['train.learningRate']).toBe('0.01');
      expect(params['dataset.split.val']).toBe('0.2');
      const dataset = await store.getDatasetInput(run.id);
      expect(dataset?.classes).toEqual(['amber', 'cobalt', 'jade']);
      expect(dataset?.splitCounts.test).toEqual({ amber: 2, cobalt: 2, jade: 2 });
      const extractor = await store.getExtractor(run.id);
      expect(extractor.featureDim).toBe('512');
    } finally {
      await store.close();
    }
  });

  it('reuses cached features on the second run and reproduces the metrics exactly', async () => {
    const io = captureIo();
    expect(await runCli(['--config', path.join(dir, 'exp.yaml'), '--db', db, '--cache-dir', cacheDir], io)).toBe(EXIT.ok);
    expect(io.stdout.join('\n')).toMatch(/features +0 extracted, 30 from cache/);
    const store = await openSqliteStore(db);
    try {
      const [second, first] = await store.searchRuns({ name: 'synthetic-smoke' });
      expect((await store.getDatasetInput(second.id))?.splitHash).toBe((await store.getDatasetInput(first.id))?.splitHash);
      const a = finalMetrics(await store.getMetrics(first.id));
      const b = finalMetrics(await store.getMetrics(second.id));
      for (const key of Object.keys(a).filter((k) => /^(train|val|test)\./.test(k))) expect(Math.abs(a[key] - b[key])).toBeLessThan(1e-6);
    } finally {
      await store.close();
    }
  });

  it('rejects a bad config with exit code 2, the field named, and no run recorded', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await fs.writeFile(bad, config({ epochs: 'ten' }).replace('synthetic-smoke', 'bad-config'));
    const io = captureIo();
    expect(await runCli(['--config', bad, '--db', db, '--cache-dir', cacheDir], io)).toBe(EXIT.badInput);
    expect(io.stderr.join('\n')).toContain('train.epochs: expected a positive integer, got "ten"');
    const store = await openSqliteStore(db);
    try {
      expect(await store.searchRuns({ name: 'bad-config' })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('names a missing dataset folder with exit code 2', async () => {
    const missing = path.join(dir, 'missing.yaml');
    await fs.writeFile(missing, config({ dataset: 'no-such-folder' }));
    const io = captureIo();
    expect(await runCli(['--config', missing, '--db', db, '--cache-dir', cacheDir], io)).toBe(EXIT.badInput);
    expect(io.stderr.join('\n')).toMatch(/dataset folder .*no-such-folder does not exist/);
  });
});
