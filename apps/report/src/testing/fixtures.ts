/** Test fixtures: deterministic run data and recorded runs with tiny real images. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Metric, Prediction, Run, SplitMember, SplitName, TrackingStore } from '@mlbench/tracking';
import type { RunData } from '../run-data';

export const XSS = '<img src=x onerror=alert(1)>';

export interface FakeRunOptions {
  id?: string;
  name?: string;
  seed?: number;
  status?: Run['status'];
  classes?: readonly string[];
  /** Images per class and split. */
  perSplit?: Partial<Record<SplitName, number>>;
  /** Every `wrongEvery`-th test image of a class is predicted as the next class. */
  wrongEvery?: number;
  params?: Record<string, string>;
  datasetPath?: string;
  error?: string | null;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Split membership and predictions with known mistakes, for page-model tests. */
export function fakeRunData(options: FakeRunOptions = {}): RunData {
  const classes = options.classes ?? ['amber', 'cobalt', 'jade'];
  const perSplit = { train: 4, val: 2, test: 4, ...options.perSplit };
  const wrongEvery = options.wrongEvery ?? 4;
  const status = options.status ?? 'completed';
  const split: SplitMember[] = [];
  const predictions: Prediction[] = [];
  for (const [label, name] of classes.entries()) {
    for (const s of ['train', 'val', 'test'] as const) {
      for (let i = 0; i < perSplit[s]; i++) {
        const relPath = `${name}/${s}_${i}.jpg`;
        split.push({ path: relPath, sha256: sha(relPath), label, split: s });
        if (s === 'train') continue;
        const wrong = (i + 1) % wrongEvery === 0;
        const predicted = wrong ? (label + 1) % classes.length : label;
        const confidence = 0.5 + 0.04 * i;
        const probabilities = classes.map((_, c) => (c === predicted ? confidence : (1 - confidence) / (classes.length - 1)));
        predictions.push({ path: relPath, split: s, trueLabel: label, predictedLabel: predicted, probabilities });
      }
    }
  }
  const test = predictions.filter((p) => p.split === 'test');
  const accuracy = test.filter((p) => p.trueLabel === p.predictedLabel).length / Math.max(1, test.length);
  const completed = status === 'completed';
  const final: Record<string, number> = completed
    ? { 'test.accuracy': accuracy, 'test.macro_f1': accuracy - 0.01, 'test.log_loss': 0.4, 'test.count': test.length, 'val.accuracy': 0.9, 'train.accuracy': 0.99, 'time.train_seconds': 1.5 }
    : {};
  if (completed) for (const c of classes) Object.assign(final, { [`test.precision.${c}`]: 0.8, [`test.recall.${c}`]: 0.7, [`test.f1.${c}`]: 0.75 });
  const id = options.id ?? sha(`${options.name ?? 'fake'}-${options.seed ?? 1}`).slice(0, 32);
  const seed = options.seed ?? 1;
  const epochs = completed ? 5 : 2;
  const curve = (f: (e: number) => number) => Array.from({ length: epochs }, (_, e) => ({ x: e + 1, y: f(e + 1) }));
  return {
    run: {
      id,
      name: options.name ?? 'fake-experiment',
      status,
      startTime: '2026-01-02T03:04:05.000Z',
      endTime: completed || status === 'failed' ? '2026-01-02T03:05:05.000Z' : null,
      durationMs: completed ? 60_000 : null,
      seed,
      configHash: 'ab'.repeat(32),
      configText: `name: ${options.name ?? 'fake-experiment'}\nseed: ${seed}\n`,
      resolvedConfig: {},
      error: options.error ?? null,
      pid: null,
      hostname: null,
      sweepId: null,
      sweepIndex: null,
      environment: { 'git.commit': 'f'.repeat(40), 'git.dirty': 'true', 'tfjs.backend': 'wasm', 'node.version': 'v20.0.0', 'package.sharp': '0.35.5' },
    },
    params: { 'train.learningRate': '0.001', 'train.epochs': '5', 'model.extractor.source': '/models/tiny.tflite', 'dataset.path': '/data/tiny', ...options.params },
    final,
    curves: {
      'train.loss': curve((e) => 1 / e),
      'val.loss': curve((e) => 1.2 / e),
      'train.accuracy': curve((e) => 1 - 0.5 / e),
      'val.accuracy': curve((e) => 1 - 0.6 / e),
    },
    dataset: completed
      ? {
          path: options.datasetPath ?? '/data/tiny',
          fingerprint: sha('fingerprint'),
          classes: [...classes],
          classCounts: Object.fromEntries(classes.map((c) => [c, perSplit.train + perSplit.val + perSplit.test])),
          splitCounts: {
            train: Object.fromEntries(classes.map((c) => [c, perSplit.train])),
            val: Object.fromEntries(classes.map((c) => [c, perSplit.val])),
            test: Object.fromEntries(classes.map((c) => [c, perSplit.test])),
          },
          splitHash: sha(`split-${seed}`),
        }
      : null,
    extractor: completed ? { format: 'tflite', source: '/models/tiny.tflite', featureDim: '8' } : {},
    split: completed ? split : [],
    predictions: completed ? predictions : [],
    skippedFiles: [],
  };
}

/**
 * Records `data` in a real store, writing small solid-colour JPEGs for its split members under
 * `datasetDir` (so thumbnails can be made). Returns the run as stored.
 */
export async function recordRun(store: TrackingStore, data: RunData, datasetDir: string | null): Promise<Run> {
  const run = await store.createRun({
    name: data.run.name,
    seed: data.run.seed,
    configHash: data.run.configHash,
    configText: data.run.configText,
    resolvedConfig: {},
    environment: data.run.environment,
  });
  const curves: Metric[] = Object.entries(data.curves).flatMap(([key, points]) => points.map((p) => ({ key, value: p.y, step: p.x })));
  await store.logBatch(run.id, { params: Object.entries(data.params).map(([key, value]) => ({ key, value })), metrics: curves });
  if (data.run.status === 'running') return run;
  if (data.run.status === 'failed') return store.failRun(run.id, data.run.error ?? 'Error: failed');
  if (!data.dataset) throw new Error('a completed fake run needs a dataset');
  const dataset = { ...data.dataset, path: datasetDir ?? data.dataset.path };
  let split = [...data.split];
  if (datasetDir) {
    // A colour per image (from its fake hash), then the real hash of the file, as a scan records it.
    split = [];
    for (const member of data.split) {
      const file = path.join(datasetDir, member.path);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const [r, g, b] = [0, 2, 4].map((i) => parseInt(member.sha256.slice(i, i + 2), 16));
      const bytes = await sharp({ create: { width: 24, height: 16, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();
      await fs.writeFile(file, bytes);
      split.push({ ...member, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
  }
  return store.completeRun(run.id, {
    params: [],
    metrics: Object.entries(data.final).map(([key, value]) => ({ key, value, step: null })),
    dataset,
    extractor: data.extractor,
    split,
    predictions: [...data.predictions],
  });
}
