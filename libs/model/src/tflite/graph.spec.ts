/**
 * The TFLite reader and interpreter on small flatbuffers built in the test, against tfjs ops fed
 * with independently dequantized and re-laid-out weights.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { ModelFormatError, UnsupportedOperatorError } from '../errors';
import { loadExtractor } from '../load';
import { MODELS, sharedModelFile } from '../testing/shared-data';
import { BuiltinOp, builtinOperatorName } from './builtin-ops';
import { runTfliteClassifier } from './extractor';
import { TfliteGraph } from './graph';
import { BuiltinOptionsType, parseTflite, TensorType } from './schema';
import { buildTflite, bytesOf, type ModelSpec } from './testing/build-tflite';
import { poolModelSpec } from './testing/model-specs';

jest.setTimeout(30_000);

let tmp: string;
beforeAll(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-tflite-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Deterministic pseudo-random integers in [lo, hi]. */
function ints(n: number, lo: number, hi: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return lo + (s % (hi - lo + 1));
  });
}

// fp16 bit patterns of small exact values, for the DEQUANTIZE-of-a-constant path.
const HALF: Record<number, number> = { 1: 0x3c00, 0.5: 0x3800, '-0.25': 0xb400, 2: 0x4000, '-1': 0xbc00, 1.5: 0x3e00, 0.25: 0x3400, '-0.5': 0xb800 };
const FC_W = [1, 0.5, -0.25, 2, -1, 1.5, 0.25, -0.5]; // [2 out, 4 in]

const convQ = ints(4 * 3 * 3 * 3, -127, 127, 1);
const convScale = [0.01, 0.02, 0.005, 0.03];
const inScale = 1 / 128;
const convBiasQ = ints(4, -2000, 2000, 2);
const dwQ = ints(3 * 3 * 4, 0, 255, 3);
const dwScale = 0.02;
const dwZp = 128;
const dwBiasQ = ints(4, -500, 500, 4);
const fcBias = [0.1, -0.2];

/** QUANTIZE -> CONV_2D (int8 per-channel, stride 2, RELU6) -> DEPTHWISE (uint8, dilation 2, RELU)
 *  -> ADD -> MEAN -> FULLY_CONNECTED (fp16 weights via DEQUANTIZE) -> SOFTMAX. */
function mixedModel(): ModelSpec {
  return {
    inputs: [0],
    outputs: [15],
    tensors: [
      { name: 'input', shape: [1, 6, 6, 3], type: TensorType.FLOAT32 },
      { name: 'input_int8', shape: [1, 6, 6, 3], type: TensorType.INT8, quant: { scale: [inScale], zeroPoint: [0] } },
      { name: 'conv/w', shape: [4, 3, 3, 3], type: TensorType.INT8, data: bytesOf(Int8Array.from(convQ)), quant: { scale: convScale, zeroPoint: [0, 0, 0, 0], dim: 0 } },
      { name: 'conv/b', shape: [4], type: TensorType.INT32, data: bytesOf(Int32Array.from(convBiasQ)), quant: { scale: convScale.map((s) => s * inScale), zeroPoint: [0, 0, 0, 0] } },
      { name: 'conv/out', shape: [1, 3, 3, 4], type: TensorType.INT8, quant: { scale: [0.05], zeroPoint: [-128] } },
      { name: 'dw/w', shape: [1, 3, 3, 4], type: TensorType.UINT8, data: bytesOf(Uint8Array.from(dwQ)), quant: { scale: [dwScale], zeroPoint: [dwZp] } },
      { name: 'dw/b', shape: [4], type: TensorType.INT32, data: bytesOf(Int32Array.from(dwBiasQ)), quant: { scale: [0.001], zeroPoint: [0] } },
      { name: 'dw/out', shape: [1, 3, 3, 4], type: TensorType.INT8 },
      { name: 'add/out', shape: [1, 3, 3, 4], type: TensorType.INT8 },
      { name: 'mean/axes', shape: [2], type: TensorType.INT32, data: bytesOf(Int32Array.from([1, 2])) },
      { name: 'pooled', shape: [1, 4], type: TensorType.INT8 },
      { name: 'fc/w16', shape: [2, 4], type: TensorType.FLOAT16, data: bytesOf(Uint16Array.from(FC_W.map((v) => HALF[v]))) },
      { name: 'fc/w', shape: [2, 4], type: TensorType.FLOAT32 },
      { name: 'fc/b', shape: [2], type: TensorType.FLOAT32, data: bytesOf(Float32Array.from(fcBias)) },
      { name: 'logits', shape: [1, 2], type: TensorType.FLOAT32 },
      { name: 'probs', shape: [1, 2], type: TensorType.FLOAT32 },
    ],
    ops: [
      { builtin: BuiltinOp.QUANTIZE, inputs: [0], outputs: [1] },
      {
        builtin: BuiltinOp.CONV_2D,
        inputs: [1, 2, 3],
        outputs: [4],
        options: { type: BuiltinOptionsType.Conv2DOptions, fields: [[0, 'i8', 0], [1, 'i32', 2], [2, 'i32', 2], [3, 'i8', 3]] },
      },
      {
        builtin: BuiltinOp.DEPTHWISE_CONV_2D,
        inputs: [4, 5, 6],
        outputs: [7],
        options: {
          type: BuiltinOptionsType.DepthwiseConv2DOptions,
          fields: [[0, 'i8', 0], [1, 'i32', 1], [2, 'i32', 1], [3, 'i32', 1], [4, 'i8', 1], [5, 'i32', 2], [6, 'i32', 2]],
        },
      },
      { builtin: BuiltinOp.ADD, inputs: [4, 7], outputs: [8], options: { type: BuiltinOptionsType.AddOptions, fields: [[0, 'i8', 0]] } },
      { builtin: BuiltinOp.MEAN, inputs: [8, 9], outputs: [10], options: { type: BuiltinOptionsType.ReducerOptions, fields: [[0, 'bool', 0]] } },
      { builtin: BuiltinOp.DEQUANTIZE, inputs: [11], outputs: [12] },
      { builtin: BuiltinOp.FULLY_CONNECTED, inputs: [10, 12, 13], outputs: [14], options: { type: BuiltinOptionsType.FullyConnectedOptions, fields: [[0, 'i8', 0]] } },
      { builtin: BuiltinOp.SOFTMAX, inputs: [14], outputs: [15], options: { type: BuiltinOptionsType.SoftmaxOptions, fields: [[0, 'f32', 1]] } },
    ],
  };
}

/** The same network written directly with tfjs ops; weights re-laid-out with explicit loops. */
function reference(x: tf.Tensor4D): { pooled: tf.Tensor; probs: tf.Tensor } {
  // CONV_2D [out, h, w, in] -> [h, w, in, out], per-output-channel scale.
  const convW = new Float32Array(3 * 3 * 3 * 4);
  for (let o = 0; o < 4; o++)
    for (let h = 0; h < 3; h++)
      for (let w = 0; w < 3; w++)
        for (let i = 0; i < 3; i++) convW[((h * 3 + w) * 3 + i) * 4 + o] = convScale[o] * convQ[((o * 3 + h) * 3 + w) * 3 + i];
  const convB = convBiasQ.map((q, o) => q * convScale[o] * inScale);
  const dwW = dwQ.map((q) => dwScale * (q - dwZp)); // [1, h, w, c] -> [h, w, c, 1]: same order
  const dwB = dwBiasQ.map((q) => q * 0.001);
  return tf.tidy(() => {
    const c1 = tf.clipByValue(tf.add(tf.conv2d(x, tf.tensor4d(convW, [3, 3, 3, 4]), 2, 'same'), convB), 0, 6) as tf.Tensor4D;
    const c2 = tf.relu(tf.add(tf.depthwiseConv2d(c1, tf.tensor4d(dwW, [3, 3, 4, 1]), 1, 'same', 'NHWC', 2), dwB));
    const pooled = tf.mean(tf.add(c1, c2), [1, 2]);
    const logits = tf.add(tf.matMul(pooled, tf.tensor2d(FC_W, [2, 4]), false, true), fcBias);
    return { pooled, probs: tf.softmax(logits) };
  });
}

describe('TFLite interpreter on a built model', () => {
  const bytes = buildTflite(mixedModel());
  const input = Float32Array.from(ints(3 * 6 * 6 * 3, 0, 255, 9), (v) => v / 127.5 - 1);

  it('reads the tables back', () => {
    const m = parseTflite(bytes, 'mixed.tflite');
    const sg = m.subgraphs[0];
    expect(sg.operators.map((op) => builtinOperatorName(m.operatorCodes[op.opcodeIndex].builtinCode))).toEqual([
      'QUANTIZE', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'ADD', 'MEAN', 'DEQUANTIZE', 'FULLY_CONNECTED', 'SOFTMAX',
    ]);
    expect(sg.tensors[2].quantization).toEqual({ scale: Float32Array.from(convScale), zeroPoint: [0, 0, 0, 0], quantizedDimension: 0 });
    expect(sg.operators[2].options).toEqual({
      kind: 'depthwise', padding: 0, strideW: 1, strideH: 1, depthMultiplier: 1, activation: 1, dilationW: 2, dilationH: 2,
    });
  });

  it('matches tfjs ops for the auto (MEAN) features and the softmax output, batch of 3', async () => {
    const file = path.join(tmp, 'mixed.tflite');
    fs.writeFileSync(file, bytes);
    const ex = await loadExtractor({ source: file });
    const graph = TfliteGraph.fromBytes(bytes, file);
    const x = tf.tensor4d(input, [3, 6, 6, 3]);
    const ref = reference(x);
    try {
      expect(ex.description).toMatchObject({ featureLayer: 'pooled', featureDim: 4, inputShape: [6, 6, 3] });
      const features = await ex.extract(input, 3);
      expectAllClose(features, await ref.pooled.data(), 1e-4);
      expectAllClose(await runTfliteClassifier(graph, input, 3), await ref.probs.data(), 1e-5);
    } finally {
      ex.dispose();
      graph.dispose();
      tf.dispose([x, ref.pooled, ref.probs]);
    }
  });
});

describe('unsupported operators', () => {
  // AVERAGE_POOL_2D -> L2_NORMALIZATION: the pooled features are fine, the head is not.
  const spec = poolModelSpec({ inputShape: [1, 4, 4, 2], l2Norm: true });

  it('only fail when the feature layer needs them, naming operator and file', async () => {
    const file = path.join(tmp, 'l2norm.tflite');
    fs.writeFileSync(file, buildTflite(spec));
    const ex = await loadExtractor({ source: file });
    try {
      expect(Array.from(await ex.extract(Float32Array.from({ length: 32 }, (_, i) => i % 2), 1))).toEqual([0, 1]);
    } finally {
      ex.dispose();
    }
    const err = await loadExtractor({ source: file, featureLayer: 'l2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedOperatorError);
    expect((err as UnsupportedOperatorError).operator).toBe('L2_NORMALIZATION');
    expect((err as Error).message).toContain('L2_NORMALIZATION');
    expect((err as Error).message).toContain(file);

    const graph = TfliteGraph.fromBytes(fs.readFileSync(file), file);
    try {
      await expect(runTfliteClassifier(graph, new Float32Array(32), 1)).rejects.toThrow(UnsupportedOperatorError);
    } finally {
      graph.dispose();
    }
  });
});

describe('damaged and foreign files', () => {
  const v2 = (): Uint8Array => fs.readFileSync(sharedModelFile(MODELS.v2));

  it.each([
    ['6 bytes', 6],
    ['the header only', 64],
    ['half the file', 0.5],
    ['all but the last 64 KiB', -65536],
  ])('a copy truncated to %s is a ModelFormatError naming the file', async (_label, cut) => {
    const full = v2();
    const length = cut < 0 ? full.length + cut : cut < 1 ? Math.floor(full.length * cut) : cut;
    const file = path.join(tmp, `truncated-${length}.tflite`);
    fs.writeFileSync(file, full.subarray(0, length));
    const err = await loadExtractor({ source: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/truncated|not a TFLite model/);
  });

  it('a file that is not a flatbuffer is a ModelFormatError naming the file', async () => {
    const file = path.join(tmp, 'page.tflite');
    fs.writeFileSync(file, '<!doctype html><title>404 Not Found</title>');
    const err = await loadExtractor({ source: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('TFL3');
  });

  it('random bytes behind a TFL3 identifier are a ModelFormatError, not garbage', () => {
    const junk = Uint8Array.from(ints(4096, 0, 255, 7));
    junk.set([0x10, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33], 0);
    expect(() => TfliteGraph.fromBytes(junk, 'junk.tflite')).toThrow(ModelFormatError);
  });
});

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
}
