import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { openSqliteStore } from '@mlbench/tracking';
import { AuditCache } from './audit-cache';
import { parseConfig } from './config';
import { isResultMetric } from './metric-keys';
import { runExperiment, type RunSummary } from './pipeline';
import { reproduceRun } from './reproduce';
import { tinyConfig } from './testing';

jest.setTimeout(180_000);

const MODEL = path.resolve(__dirname, '../../../../shared/models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');

describe('the label audit cache', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'audit-cache-'));
    await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 12, seed: 'audit-cache' });
    await fs.rename(path.join(dir, 'data', 'amber', 'img_002.jpg'), path.join(dir, 'data', 'jade', 'moved_amber_img_002.jpg'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const db = (): string => path.join(dir, 'runs.sqlite');
  const cacheDir = (): string => path.join(dir, 'cache');
  const run = (): Promise<RunSummary> => {
    const yaml = tinyConfig({
      name: 'audit-cache-test', seed: 9, split: [0.5, 0.25, 0.25], source: MODEL, engine: 'tfjs',
      train: { learningRate: 0.05, epochs: 8, batchSize: 8 }, extra: 'audit: { enabled: true, folds: 3 }\n',
    });
    return runExperiment(parseConfig(yaml, path.join(dir, 'audit.yaml')), { dbPath: db(), cacheDir: cacheDir() });
  };
  /** What a run recorded: result metrics and audit metrics (not timings), predictions, verdicts. */
  const recorded = async (runId: string) => {
    const store = await openSqliteStore(db());
    try {
      const metrics = (await store.getMetrics(runId)).filter((m) => (isResultMetric(m.key) || m.key.startsWith('audit.')) && m.key !== 'audit.seconds');
      return { metrics, predictions: await store.getPredictions(runId), verdicts: await store.getAuditResults(runId) };
    } finally {
      await store.close();
    }
  };
  const entries = async (): Promise<string[]> => (await fs.readdir(path.join(cacheDir(), 'audit'))).filter((f) => f.endsWith('.json'));

  it('records the same run from a cached audit as from a computed one, and recomputes a damaged entry', async () => {
    const fresh = await run();
    expect(fresh.audit?.cached).toBeUndefined();
    const [entry] = await entries();
    expect(await entries()).toHaveLength(1);

    const cached = await run();
    expect(cached.audit?.cached?.computedSeconds).toBeCloseTo(fresh.audit?.seconds ?? NaN, 6);
    const a = await recorded(fresh.run.id);
    const b = await recorded(cached.run.id);
    expect(a.verdicts).toHaveLength(36);
    expect(a.metrics.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
    expect(cached.test).toEqual(fresh.test);
    expect(cached.audit).toMatchObject({ folds: 3, labelIssues: fresh.audit?.labelIssues, noConfidentClass: fresh.audit?.noConfidentClass });

    // Untrusted on read: a wrong fold assignment, a probability out of [0, 1] or text
    // that is not JSON is a miss; the audit is computed again (the same) and the entry rewritten.
    const file = path.join(cacheDir(), 'audit', entry);
    const good = JSON.parse(await fs.readFile(file, 'utf8')) as { folds: number[]; probabilities: number[][] };
    const damaged = [
      JSON.stringify({ ...good, folds: good.folds.map((f) => (f + 1) % 3) }),
      JSON.stringify({ ...good, probabilities: good.probabilities.map((row, i) => (i === 5 ? row.map(() => 1.5) : row)) }),
      '{"version": 1, "key": ',
    ];
    for (const text of damaged) {
      await fs.writeFile(file, text);
      const again = await run();
      expect(again.audit?.cached).toBeUndefined();
      expect(await recorded(again.run.id)).toEqual(a);
      expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ ...good, computedSeconds: again.audit?.seconds });
    }
    expect(await entries()).toEqual([entry]);
  });

  it('reproduce computes the audit again: a wrong but valid-looking entry fools a run, not reproduce', async () => {
    const original = await run();
    const truth = await recorded(original.run.id);
    const [entry] = await entries();
    const file = path.join(cacheDir(), 'audit', entry);
    const good = JSON.parse(await fs.readFile(file, 'utf8')) as { probabilities: number[][] };
    // Passes every check on read (shape, range, folds) but is not the audit of these inputs.
    const poisoned = { ...good, probabilities: good.probabilities.map((row) => [...row].reverse()) };
    await fs.writeFile(file, JSON.stringify(poisoned));
    const fooled = await run();
    expect(fooled.audit?.cached).toBeDefined();
    expect((await recorded(fooled.run.id)).verdicts).not.toEqual(truth.verdicts);

    const reproduced = await reproduceRun(original.run.id, { dbPath: db(), cacheDir: cacheDir() });
    expect(await recorded(reproduced.freshRunId)).toEqual(truth);
    expect(reproduced.diff.differences).toEqual([]);
    // Off means off: reproduce neither read nor rewrote the entry.
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual(poisoned);
  });

  it('reads an entry within a bound from its expected size: a larger file or a named pipe is a miss, at once', async () => {
    const cache = new AuditCache(path.join(dir, 'bounded'));
    const folds = Array.from({ length: 40 }, (_, i) => i % 4);
    // The longest numbers JSON writes for probabilities: the bound must still admit the entry.
    const probabilities = folds.map((_, i) => [1.2345678901234567e-10, 0.12345678901234567, 2.2250738585072014e-308 * (i + 1)]);
    await cache.put('long', { folds, probabilities, computedSeconds: 123456.789012345 });
    expect(await cache.get('long', folds, 3)).toEqual({ folds, probabilities, computedSeconds: 123456.789012345 });

    // Valid JSON of the right shape, padded past the bound: not read, a miss.
    const text = await fs.readFile(cache.fileFor('long'), 'utf8');
    const bound = AuditCache.maxEntryBytes(folds.length, 3);
    expect(Buffer.byteLength(text)).toBeLessThan(bound);
    await fs.writeFile(cache.fileFor('padded'), text.replace('"long"', '"padded"') + ' '.repeat(bound));
    expect(await cache.get('padded', folds, 3)).toBeNull();

    // A named pipe with no writer: opening it would block forever.
    execFileSync('mkfifo', [cache.fileFor('pipe')]);
    expect(await cache.get('pipe', folds, 3)).toBeNull();
  });

  it('keys on the feature values, the labels and the settings', () => {
    const features = Float32Array.from({ length: 12 }, (_, i) => i / 12);
    const base = { features, dim: 2, labels: [0, 1, 0, 1, 0, 1], options: { folds: 2, seed: 1, head: { epochs: 3 } }, backend: 'wasm', engineVersion: '4.22.0' };
    const key = AuditCache.keyFor(base);
    expect(AuditCache.keyFor({ ...base, features: features.slice() })).toBe(key);
    const changed = features.slice();
    changed[7] = Math.fround(changed[7] + 1e-6);
    for (const other of [
      { ...base, features: changed },
      { ...base, labels: [1, 0, 0, 1, 0, 1] },
      { ...base, options: { folds: 2, seed: 2, head: { epochs: 3 } } },
      { ...base, options: { folds: 2, seed: 1, head: { epochs: 4 } } },
      { ...base, backend: 'cpu' },
      { ...base, engineVersion: '4.23.0' },
    ]) {
      expect(AuditCache.keyFor(other)).not.toBe(key);
    }
  });
});
