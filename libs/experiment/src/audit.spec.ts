import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shuffleInPlace } from '@mlbench/common';
import { confidentLearning, stratifiedKFold } from '@mlbench/metrics';
import seedrandom from 'seedrandom';
import { writeSyntheticDataset } from '@mlbench/data';
import { initBackend } from '@mlbench/model';
import { openSqliteStore } from '@mlbench/tracking';
import { auditLabels, auditMetrics } from './audit';
import { cleanEvaluationMetrics } from './evaluation';
import { parseConfig } from './config';
import { FoldWorkerPool, type FoldTrainer } from './fold-workers';
import { runExperiment } from './pipeline';
import { tinyConfig } from './testing';

jest.setTimeout(180_000);

const MODEL = path.resolve(__dirname, '../../../../shared/models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');

/** 4 well-separated Gaussian blobs in 8 dimensions, 60 points each, with 12 labels flipped (seeded). */
function blobs(): { features: Float32Array; dim: number; truth: number[]; given: number[]; flipped: number[] } {
  const rng = seedrandom('audit-blobs');
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const dim = 8;
  const k = 4;
  const truth: number[] = [];
  const rows: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < 60; i++) {
      truth.push(c);
      for (let d = 0; d < dim; d++) rows.push((d === c ? 4 : 0) + 0.5 * gauss());
    }
  }
  const order = shuffleInPlace(truth.map((_, i) => i), rng);
  const flipped = order.slice(0, 12).sort((a, b) => a - b);
  const given = [...truth];
  for (const i of flipped) given[i] = (truth[i] + 1 + Math.floor(rng() * (k - 1))) % k;
  return { features: Float32Array.from(rows), dim, truth, given, flipped };
}

const head = { numClasses: 4, dropout: 0, l2: 0, optimizer: 'adam' as const, learningRate: 0.05, epochs: 15, batchSize: 16 };

beforeAll(async () => {
  await initBackend('auto');
});

describe('auditLabels', () => {
  it('gives bit-identical probabilities when worker threads train the folds', async () => {
    const data = blobs();
    const alone = await auditLabels(data.features, data.dim, data.given, { folds: 5, seed: 3, head });
    const backend = (await initBackend('auto')).backend;
    expect(backend === 'wasm' || backend === 'cpu').toBe(true);
    const pool = FoldWorkerPool.start(2, { backend: backend as 'wasm' | 'cpu' });
    try {
      let jobs = 0;
      const counted = pool.trainers().map((train): FoldTrainer => (job) => (jobs++, train(job)));
      const shared = await auditLabels(data.features, data.dim, data.given, { folds: 5, seed: 3, head }, { foldTrainers: counted, trainOnThisThread: false });
      expect(jobs).toBe(5);
      expect(shared.probabilities).toEqual(alone.probabilities);
      expect(shared.folds).toEqual(alone.folds);
      expect(shared.verdicts).toEqual(alone.verdicts);
    } finally {
      await pool.close();
    }
  });

  it('runs other work on this thread first while fold trainers start, and fails without starting more folds when it fails', async () => {
    const data = blobs();
    const alone = await auditLabels(data.features, data.dim, data.given, { folds: 5, seed: 3, head });
    const order: string[] = [];
    const logged = (name: string): FoldTrainer => async () => {
      order.push(name);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return new Float32Array(0);
    };
    // A helper that trains for real beside this thread, and this thread busy with its own work first.
    const backend = (await initBackend('auto')).backend as 'wasm' | 'cpu';
    const pool = FoldWorkerPool.start(1, { backend });
    try {
      let firstFoldBeforeOwnWorkEnded = false;
      let ownWorkDone = false;
      const [helper] = pool.trainers();
      const watched: FoldTrainer = (job) => {
        if (!ownWorkDone) firstFoldBeforeOwnWorkEnded = true;
        return helper(job);
      };
      const together = await auditLabels(data.features, data.dim, data.given, { folds: 5, seed: 3, head }, {
        foldTrainers: [watched],
        beforeThisThread: async () => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          ownWorkDone = true;
        },
      });
      expect(firstFoldBeforeOwnWorkEnded).toBe(true);
      expect(together.probabilities).toEqual(alone.probabilities);
    } finally {
      await pool.close();
    }
    await expect(
      auditLabels(data.features, data.dim, data.given, { folds: 5, seed: 3, head }, {
        trainOnThisThread: false,
        foldTrainers: [logged('helper')],
        beforeThisThread: async () => {
          throw new Error('own work failed');
        },
      }),
    ).rejects.toThrow('own work failed');
    expect(order.length).toBeLessThanOrEqual(1);
  });

  it('finds injected label flips in separable features and suggests the true class', async () => {
    const data = blobs();
    const folds: number[] = [];
    const audit = await auditLabels(data.features, data.dim, data.given, { folds: 5, seed: 3, head }, { onFold: (f) => folds.push(f) });
    expect(folds).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(audit.folds)).toEqual(new Set([0, 1, 2, 3, 4]));
    expect(audit.probabilities).toHaveLength(240);
    for (const row of audit.probabilities) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect([...audit.verdicts.labelIssues].sort((a, b) => a - b)).toEqual(data.flipped);
    for (const i of data.flipped) expect(audit.verdicts.verdicts[i].suggestedLabel).toBe(data.truth[i]);
    expect(audit.verdicts.labelIssues.map((i) => audit.verdicts.verdicts[i].rank)).toEqual(Array.from({ length: 12 }, (_, r) => r + 1));
  });

  it('is deterministic for a seed', async () => {
    const data = blobs();
    const a = await auditLabels(data.features, data.dim, data.given, { folds: 3, seed: 9, head: { ...head, epochs: 3 } });
    const b = await auditLabels(data.features, data.dim, data.given, { folds: 3, seed: 9, head: { ...head, epochs: 3 } });
    expect(b.folds).toEqual(a.folds);
    expect(b.probabilities).toEqual(a.probabilities);
  });

  it('refuses more folds than images, naming the setting', async () => {
    await expect(auditLabels(new Float32Array(6), 2, [0, 1, 0], { folds: 5, seed: 1, head: { ...head, numClasses: 2 } })).rejects.toThrow(/audit\.folds: 5 folds need at least 5 images/);
  });
});

describe('auditMetrics', () => {
  it('summarizes an audit of 200000 images (one fold entry per image: no argument spread)', () => {
    // 3 classes; every 10th image's out-of-fold probabilities favour the next class.
    const n = 200_000;
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const probabilities = labels.map((y, i) => {
      const row = [0.1, 0.1, 0.1];
      row[i % 10 === 0 ? (y + 1) % 3 : y] = 0.8;
      return row;
    });
    const folds = stratifiedKFold(labels, 5, 'audit:big');
    const audit = { folds, probabilities, verdicts: confidentLearning(labels, probabilities, 3), seconds: 1.5 };
    const metrics = new Map(auditMetrics(audit, labels, ['a', 'b', 'c']).map((m) => [m.key, m.value]));
    expect(metrics.get('audit.folds')).toBe(5);
    expect(metrics.get('audit.oof_accuracy')).toBe(0.9);
    expect(metrics.get('audit.label_issues')).toBe(n / 10);
    expect(metrics.get('audit.seconds')).toBe(1.5);
  });
});

describe('cleanEvaluationMetrics', () => {
  it('evaluates the split without its flagged images', () => {
    // Images 10..13 in the split; 11 (wrong) is flagged: clean accuracy 3/3, overall would be 3/4.
    const set = { indices: [10, 11, 12, 13], labels: [0, 1, 1, 0] };
    const rows = [
      [0.9, 0.1],
      [0.8, 0.2],
      [0.3, 0.7],
      [0.6, 0.4],
    ];
    const metrics = Object.fromEntries(cleanEvaluationMetrics('test', set, rows, new Set([11, 99]), 2).map((m) => [m.key, m.value]));
    expect(metrics['test_clean.accuracy']).toBe(1);
    expect(metrics['test_clean.count']).toBe(3);
    expect(metrics['test_clean.log_loss']).toBeCloseTo(-(Math.log(0.9) + Math.log(0.7) + Math.log(0.6)) / 3, 12);
  });
});

describe('a run with audit', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'audit-run-'));
    await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 12, seed: 'audit' });
    // Mislabel three images by moving them into another class's folder.
    for (const [from, to, name] of [['amber', 'cobalt', 'img_001.jpg'], ['amber', 'jade', 'img_005.jpg'], ['jade', 'amber', 'img_007.jpg']]) {
      await fs.rename(path.join(dir, 'data', from, name), path.join(dir, 'data', to, `moved_${from}_${name}`));
    }
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const yaml = (audit: string): string =>
    tinyConfig({ name: 'audit-test', seed: 4, split: [0.5, 0.25, 0.25], source: MODEL, engine: 'tfjs', train: { learningRate: 0.05, epochs: 10, batchSize: 8 }, extra: `${audit}\n` });

  it('records a verdict per image, cleaned test metrics, and drops flagged images from train only', async () => {
    const db = path.join(dir, 'runs.sqlite');
    const run = (audit: string) =>
      runExperiment(parseConfig(yaml(audit), path.join(dir, 'audit.yaml')), { dbPath: db, cacheDir: path.join(dir, 'cache') });
    const plain = await run('');
    const kept = await run('audit: { enabled: true, folds: 3 }');
    const cleaned = await run('audit: { enabled: true, folds: 3, excludeFromTraining: true }');
    expect(plain.audit).toBeUndefined();
    expect(kept.audit).toMatchObject({ folds: 3, excludedFromTraining: 0 });

    const store = await openSqliteStore(db);
    try {
      expect(await store.getAuditResults(plain.run.id)).toEqual([]);
      const plainMetrics = new Map((await store.getMetrics(plain.run.id)).map((m) => [m.key, m.value]));
      expect([...plainMetrics.keys()].filter((k) => k.startsWith('audit.') || k.includes('_clean.'))).toEqual([]);

      const verdicts = await store.getAuditResults(cleaned.run.id);
      expect(verdicts).toHaveLength(36);
      // Same seed, same features: the audit does not depend on excludeFromTraining.
      expect(await store.getAuditResults(kept.run.id)).toEqual(verdicts);
      const split = new Map((await store.getSplit(cleaned.run.id)).map((m) => [m.path, m.split]));
      // Flagged = label issues; images with no confident class are recorded but not acted on.
      const flagged = verdicts.filter((v) => v.flag === 'label_issue');
      const flaggedTrain = flagged.filter((v) => split.get(v.path) === 'train').length;
      const flaggedTest = flagged.filter((v) => split.get(v.path) === 'test').length;
      // The three moved images are label issues with their true class suggested (and little else is flagged).
      const classes = ['amber', 'cobalt', 'jade'];
      expect(flagged.map((v) => [v.path, classes[v.suggestedLabel ?? -1]])).toEqual(
        expect.arrayContaining([
          ['amber/moved_jade_img_007.jpg', 'jade'],
          ['cobalt/moved_amber_img_001.jpg', 'amber'],
          ['jade/moved_amber_img_005.jpg', 'amber'],
        ]),
      );
      expect(flagged.length).toBeLessThanOrEqual(5);
      expect(flaggedTrain).toBeGreaterThan(0); // otherwise this test would not test the exclusion
      expect(cleaned.audit).toMatchObject({ excludedFromTraining: flaggedTrain, labelIssues: flagged.length });

      const metrics = new Map((await store.getMetrics(cleaned.run.id)).map((m) => [m.key, m.value]));
      expect(metrics.get('audit.excluded_train')).toBe(flaggedTrain);
      expect(metrics.get('audit.folds')).toBe(3);
      // The test split is never changed; the cleaned evaluation leaves out its flagged images.
      expect(metrics.get('test.count')).toBe(cleaned.splitSizes.test);
      expect(metrics.get('test.count')).toBe(plain.splitSizes.test);
      expect(metrics.get('test_clean.count') ?? 0).toBe(cleaned.splitSizes.test - flaggedTest);
      expect((await store.getPredictions(cleaned.run.id, 'test')).length).toBe(plain.splitSizes.test);
      expect(metrics.get('train.count')).toBe(cleaned.splitSizes.train - flaggedTrain);
    } finally {
      await store.close();
    }
  });
});
