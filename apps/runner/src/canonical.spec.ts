import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openSqliteStore } from '@mlbench/tracking';
import { EXIT, runCli } from './cli';
import { REPO_ROOT, captureIo, finalMetrics, useTempDir } from './test-support';

/**
 * The accuracy regression test: the canonical experiment on the real tf_flowers photos.
 * It uses the repository's feature cache, so it is cold (several minutes) on a fresh clone
 * such as CI, and takes seconds afterwards.
 */
jest.setTimeout(40 * 60_000);

const CONFIG = path.join(REPO_ROOT, 'experiments/flowers-mobilenetv2-frozen.yaml');
const temp = useTempDir('canonical-');

/** The canonical config trained far too little: a run the gate must fail. */
const deliberatelyWorse = (text: string): string =>
  text
    .replace(/^name: .*$/m, 'name: flowers-deliberately-worse')
    .replace(/learningRate: .*$/m, 'learningRate: 0.00001')
    .replace(/epochs: .*$/m, 'epochs: 1')
    .replace(/\.\.\/\.\.\/shared/g, path.join(REPO_ROOT, '../shared'));

describe('canonical experiment: frozen MobileNetV2 + softmax on tf_flowers', () => {
  const args = (): string[] => ['--config', CONFIG, '--db', path.join(temp.path, 'runs.sqlite'), '--cache-dir', path.join(REPO_ROOT, 'results/cache')];

  it('reaches at least 87% test accuracy, twice, with the same split and metrics', async () => {
    const first = captureIo();
    expect(await runCli(args(), first)).toBe(EXIT.ok);
    const second = captureIo();
    expect(await runCli(args(), second)).toBe(EXIT.ok);
    expect(second.stdout.join('\n')).toMatch(/features +0 extracted, 3670 from cache/);
    // The first run computed the label audit or read it; the second reads it (audit-cache.ts).
    expect(second.stdout.join('\n')).toMatch(/label audit +99 suspected label issues, 806 with no confident class \(5-fold, from the audit cache/);

    const store = await openSqliteStore(path.join(temp.path, 'runs.sqlite'));
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
      expect(metricsA['test.accuracy']).toBe(0.8884353741496599);
      for (const key of Object.keys(metricsA).filter((k) => k.startsWith('audit.') && k !== 'audit.seconds')) expect({ key, value: metricsB[key] }).toEqual({ key, value: metricsA[key] });
      expect(await store.getAuditResults(b.id)).toEqual(await store.getAuditResults(a.id));
      const predsA = await store.getPredictions(a.id, 'test');
      const predsB = await store.getPredictions(b.id, 'test');
      expect(predsB.map((p) => p.predictedLabel)).toEqual(predsA.map((p) => p.predictedLabel));
    } finally {
      await store.close();
    }
  });
});

describe('canonical experiment: reproduce and gate', () => {
  const db = (): string => path.join(temp.path, 'runs.sqlite');
  const cli = async (...args: string[]): Promise<{ code: number; out: string }> => {
    const io = captureIo();
    const code = await runCli([...args, '--db', db(), '--cache-dir', path.join(REPO_ROOT, 'results/cache')], io);
    return { code, out: [...io.stdout, ...io.stderr].join('\n') };
  };
  const firstRunId = async (): Promise<string> => {
    const store = await openSqliteStore(db());
    try {
      const runs = await store.searchRuns({ name: 'flowers-mobilenetv2-frozen', status: 'completed' });
      return runs[runs.length - 1].id;
    } finally {
      await store.close();
    }
  };

  it('reproduces a recorded canonical run exactly', async () => {
    const runId = await firstRunId();
    const { code, out } = await cli('reproduce', runId);
    expect(out).toContain(`reproduces ${runId}`);
    expect(code).toBe(EXIT.ok);
  });

  it('passes the CI gate on the canonical run and fails a deliberately worse run against it', async () => {
    const runId = await firstRunId();
    const pass = await cli('gate', runId, '--min', 'test.accuracy=0.87', '--min', 'test.macro_f1=0.86');
    expect(pass.out).toContain('gate passed');
    expect(pass.code).toBe(EXIT.ok);

    // Same data and extractor (features cached), but one epoch at a tiny learning rate.
    const worse = path.join(temp.path, 'worse.yaml');
    const text = await fs.readFile(CONFIG, 'utf8');
    await fs.writeFile(
      worse,
      deliberatelyWorse(text),
    );
    const fail = await cli('gate', '--config', worse, '--baseline', runId, '--max-drop', 'test.accuracy=0.01');
    expect(fail.out).toMatch(/FAIL +test\.accuracy +max-drop 0\.01/);
    expect(fail.code).toBe(EXIT.failed);
  });
});

/**
 * The CI regression gate over seeds: the canonical config over three seeds (features cached by the
 * runs above) against the reference committed in experiments/reference, with a one-sided
 * non-inferiority test (1 point, alpha 0.05).
 */
const REFERENCE = path.join(REPO_ROOT, 'experiments/reference/flowers-mobilenetv2-frozen.seeds.json');
const seedGate = async (...args: string[]): Promise<{ code: number; out: string }> => {
  const io = captureIo();
  const code = await runCli(['gate', ...args, '--reference', REFERENCE, '--db', path.join(temp.path, 'seed-gate.sqlite'), '--cache-dir', path.join(REPO_ROOT, 'results/cache')], io);
  return { code, out: [...io.stdout, ...io.stderr].join('\n') };
};

describe('CI gate: canonical config over seeds against the committed reference', () => {
  it('passes the canonical config over seeds 1, 2, 3', async () => {
    const { code, out } = await seedGate('--config', CONFIG, '--seeds', '1,2,3');
    console.log(out.slice(out.indexOf('\ngate ')));
    expect(out).toContain('pairing   paired by seed: 3 seeds in both groups');
    expect(out).toMatch(/\nPASS: the candidate is not worse than the baseline by more than 1\.00 point of test accuracy/);
    expect(code).toBe(EXIT.ok);
  });

  it('fails a deliberately worse configuration (one epoch at a tiny learning rate)', async () => {
    const worse = path.join(temp.path, 'worse-seeds.yaml');
    const text = await fs.readFile(CONFIG, 'utf8');
    await fs.writeFile(
      worse,
      deliberatelyWorse(text),
    );
    const { code, out } = await seedGate('--config', worse, '--seeds', '1,2,3', '--format', 'markdown');
    console.log(out.slice(out.indexOf('### mlbench gate')));
    expect(out).toMatch(/### mlbench gate: ❌ FAIL/);
    expect(out).toMatch(/\*\*FAIL: regression\. The candidate is worse than the baseline by [\d.]+ points of test accuracy/);
    expect(code).toBe(EXIT.failed);
  });
});
