/**
 * Known answers from shared/models/README.md, run through the public API on the tfjs engine, wasm backend
 * (the onnx engine is checked against it in onnx/onnx.spec.ts).
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { FeatureLayerError } from '../errors';
import type { FeatureExtractor } from '../extractor';
import { loadExtractor } from '../load';
import { defaultThreads } from '../onnx/extractor';
import { concatFloat32 as concat } from '../testing/flower-photos';
import { argmax, MODELS, scaledRgb, sharedModelFile } from '../testing/shared-data';
import { TfliteGraph } from './graph';
import { runTfliteClassifier } from './extractor';

jest.setTimeout(60_000);

const sum = (a: ArrayLike<number>, from = 0, to = a.length): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i];
  return s;
};

let labels: string[];
let bird: Float32Array;
let sunflower: Float32Array;

beforeAll(async () => {
  await initBackend('wasm');
  labels = fs.readFileSync(sharedModelFile(MODELS.labels), 'utf8').split('\n');
  bird = scaledRgb(MODELS.bird);
  sunflower = scaledRgb(MODELS.sunflower);
});

describe('MobileNetV2 1.0/224 quant', () => {
  let extractor: FeatureExtractor;
  let graph: TfliteGraph;

  beforeAll(async () => {
    const file = sharedModelFile(MODELS.v2);
    extractor = await loadExtractor({ source: file, engine: 'tfjs' });
    graph = TfliteGraph.fromBytes(fs.readFileSync(file), file);
  });
  afterAll(() => {
    extractor.dispose();
    graph.dispose();
  });

  it('describes itself completely', () => {
    expect(extractor.description).toEqual({
      source: sharedModelFile(MODELS.v2),
      format: 'tflite',
      sha256: '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776',
      featureLayer: 'MobilenetV2/Logits/AvgPool',
      featureDim: 1280,
      inputShape: [224, 224, 3],
      engine: 'tfjs',
      backend: 'wasm',
      engineVersion: tf.version_core,
      // The WebAssembly path runs on the worker pool: one thread per core.
      threads: defaultThreads(),
    });
  });

  it('classifies bird.rgb as chickadee and sunflower.rgb as daisy', async () => {
    const probs = await runTfliteClassifier(graph, concat(bird, sunflower), 2);
    expect(probs).toHaveLength(2 * 1001);
    const birdTop = argmax(probs, 0, 1001);
    const flowerTop = argmax(probs, 1001, 1001);
    expect([birdTop, labels[birdTop]]).toEqual([20, 'chickadee']);
    expect(probs[birdTop]).toBeCloseTo(0.98, 2);
    expect([flowerTop, labels[flowerTop]]).toEqual([986, 'daisy']);
    expect(probs[1001 + flowerTop]).toBeCloseTo(0.984, 2);
    expect(sum(probs, 0, 1001)).toBeCloseTo(1, 4);
  });

  it('extracts the README feature vectors, identical in a batch and alone', async () => {
    const batch = await extractor.extract(concat(bird, sunflower), 2);
    expect(batch).toHaveLength(2 * 1280);
    expect(Math.abs(sum(batch, 0, 1280) - 511.5)).toBeLessThan(0.5);
    expect(Math.abs(sum(batch, 1280, 2560) - 460.59)).toBeLessThan(0.5);
    expectClose(batch.slice(0, 4), [0.0, 0.0, 0.0069, 2.0131], 0.01);
    expectClose(batch.slice(1280, 1284), [0.0, 0.1343, 0.0, 0.0], 0.01);

    const alone = await extractor.extract(sunflower, 1);
    expectClose(alone, batch.slice(1280), 1e-4);
  });

  it('leaks no tensors across extract calls', async () => {
    await extractor.extract(bird, 1); // warm-up: any lazily created weights exist from here on
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await extractor.extract(concat(bird, sunflower), 2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('accepts a tensor name, or one ;-separated part of a fused name, as feature layer', async () => {
    const conv = await loadExtractor({ source: sharedModelFile(MODELS.v2), featureLayer: 'MobilenetV2/Conv_1/Relu6', engine: 'tfjs' });
    try {
      expect(conv.description.featureLayer).toMatch(/^MobilenetV2\/Conv_1\/Relu6;/);
      expect(conv.description.featureDim).toBe(7 * 7 * 1280);
      const f = await conv.extract(bird, 1);
      // Averaging the 7x7 map by hand reproduces the pooled features.
      const pooled = new Float32Array(1280);
      for (let i = 0; i < f.length; i++) pooled[i % 1280] += f[i] / 49;
      expect(Math.abs(sum(pooled) - 511.5)).toBeLessThan(0.5);
    } finally {
      conv.dispose();
    }
  });

  it('rejects an unknown feature layer, listing candidates', async () => {
    const err = await loadExtractor({ source: sharedModelFile(MODELS.v2), featureLayer: 'Logits/Pool' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeatureLayerError);
    const fe = err as FeatureLayerError;
    expect(fe.message).toContain('Logits/Pool');
    expect(fe.message).toContain('mobilenet_v2_1.0_224_quant.tflite');
    expect(fe.candidates).toContain('MobilenetV2/Logits/AvgPool');
    expect(fe.candidates.length).toBeGreaterThan(1);
    expect(fe.candidates.length).toBeLessThanOrEqual(8);
  });
});

describe('MobileNetV1', () => {
  it('1.0/224 embedding extractor gives 1024-d features', async () => {
    const ex = await loadExtractor({ source: sharedModelFile(MODELS.v1Embedding), engine: 'tfjs' });
    try {
      expect(ex.description).toMatchObject({
        featureDim: 1024,
        inputShape: [224, 224, 3],
        featureLayer: 'MobilenetV1/Logits/AvgPool_1a/AvgPool',
        sha256: 'f409ef4f73fcbb9667841965623c5c8524aac33d41b9bf5f3667161fb4a76319',
      });
      const f = await ex.extract(concat(bird, sunflower), 2);
      expect(f).toHaveLength(2048);
      // ReLU6 activations averaged: non-negative, at most 6, and the two photos differ.
      expect(Math.min(...f)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...f)).toBeLessThanOrEqual(6);
      expect(cosine(f.subarray(0, 1024), f.subarray(1024))).toBeLessThan(0.9);
    } finally {
      ex.dispose();
    }
  });

  it('0.5/160 classifier gives 512-d features and classifies the photos resized to 160x160', async () => {
    const file = sharedModelFile(MODELS.v1Half160);
    const ex = await loadExtractor({ source: file, engine: 'tfjs' });
    const graph = TfliteGraph.fromBytes(fs.readFileSync(file), file);
    try {
      expect(ex.description).toMatchObject({ featureDim: 512, inputShape: [160, 160, 3] });
      const small = tf.tidy(() =>
        tf.image.resizeBilinear(tf.tensor4d(concat(bird, sunflower), [2, 224, 224, 3]), [160, 160], false, true).dataSync(),
      ) as Float32Array;
      expect(await ex.extract(small, 2)).toHaveLength(1024);
      const probs = await runTfliteClassifier(graph, small, 2);
      // Measured on wasm: bird 20 chickadee 0.980, sunflower 986 daisy 0.972 (same answers as V2).
      const birdTop = argmax(probs, 0, 1001);
      const flowerTop = argmax(probs, 1001, 1001);
      expect([birdTop, labels[birdTop]]).toEqual([20, 'chickadee']);
      expect(probs[birdTop]).toBeGreaterThan(0.9);
      expect([flowerTop, labels[flowerTop]]).toEqual([986, 'daisy']);
      expect(probs[1001 + flowerTop]).toBeGreaterThan(0.9);
    } finally {
      ex.dispose();
      graph.dispose();
    }
  });
});

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol) {
      throw new Error(`index ${i}: ${actual[i]} differs from ${expected[i]} by more than ${tol}`);
    }
  }
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
