/** Test fixtures: temp dirs and realistic run records (sizes of the real flowers benchmark). */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewRun, Prediction, RunRecord, SplitMember, SplitName } from '../entities';
import { openSqliteStore } from '../sqlite-store';
import type { TrackingStore } from '../store';

export interface TempDir {
  path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'tracking-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Opens the SQLite store at `file`, runs `fn` with it and closes it. */
export async function withStore<T>(file: string, fn: (store: TrackingStore) => Promise<T>): Promise<T> {
  const store = await openSqliteStore(file);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Deterministic doubles in [0, 1) with full 53-bit mantissas (mulberry32, two draws per value). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  const next32 = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => (Math.floor(next32() * 2 ** 21) * 2 ** 32 + Math.floor(next32() * 2 ** 32)) / 2 ** 53;
}

export function newRun(name = 'flowers-mobilenet', seed = 42): NewRun {
  return {
    name,
    seed,
    configHash: 'c0ffee'.repeat(10) + 'abcd',
    configText: `name: ${name}\nseed: ${seed}\n# ünïcödé and "quotes"\n`,
    resolvedConfig: { name, seed, data: { root: '/data/flowers', split: [0.7, 0.15, 0.15] }, model: { lr: 0.001, epochs: 20 }, tags: [] },
    environment: { gitCommit: 'deadbeef', gitDirty: 'false', node: process.version, backend: 'wasm' },
  };
}

const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];

/** A record with `members` split members and predictions for every val/test member. */
export function runRecord(seed = 1, members = 3670): RunRecord {
  const rand = prng(seed);
  const split: SplitMember[] = [];
  const predictions: Prediction[] = [];
  for (let i = 0; i < members; i++) {
    const label = i % CLASSES.length;
    const r = rand();
    const s: SplitName = r < 0.7 ? 'train' : r < 0.85 ? 'val' : 'test';
    const path = `${CLASSES[label]}/img_${String(i).padStart(5, '0')}.jpg`;
    split.push({ path, sha256: i.toString(16).padStart(64, '0'), label, split: s });
    if (s !== 'train') {
      const raw = CLASSES.map(() => rand());
      const sum = raw.reduce((a, b) => a + b, 0);
      const probabilities = raw.map((x) => x / sum);
      const predictedLabel = probabilities.indexOf(Math.max(...probabilities));
      predictions.push({ path, split: s, trueLabel: label, predictedLabel, probabilities });
    }
  }
  const classCounts = Object.fromEntries(CLASSES.map((c, i) => [c, split.filter((m) => m.label === i).length]));
  const countsFor = (s: SplitName) => Object.fromEntries(CLASSES.map((c, i) => [c, split.filter((m) => m.label === i && m.split === s).length]));
  return {
    params: [
      { key: 'lr', value: '0.001' },
      { key: 'epochs', value: '20' },
    ],
    metrics: [
      { key: 'val_accuracy', value: 0.9123456789012345, step: null },
      { key: 'test_accuracy', value: 1 / 3, step: null },
      { key: 'test_macro_f1', value: 0.1 + 0.2, step: null },
    ],
    dataset: {
      path: '/data/flowers',
      fingerprint: 'f'.repeat(64),
      classes: CLASSES,
      classCounts,
      splitCounts: { train: countsFor('train'), val: countsFor('val'), test: countsFor('test') },
      splitHash: 'a'.repeat(64),
    },
    extractor: { source: 'models/mobilenet_v2.tflite', format: 'tflite', sha256: 'b'.repeat(64), featureDim: '1280' },
    split,
    predictions,
  };
}
