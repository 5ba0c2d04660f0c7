/**
 * The ONNX exporter and engine against the tfjs interpreter: a small built model covering the
 * layout and padding rules, then MobileNetV2 on the known-answer images and on 200 flower photos.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UnsupportedOperatorError } from '../errors';
import type { FeatureExtractor } from '../extractor';
import { loadExtractor } from '../load';
import { flowerPhotos, flowerPixels } from '../testing/flower-photos';
import { argmax, MODELS, scaledRgb, sharedModelFile } from '../testing/shared-data';
import { BuiltinOp } from '../tflite/builtin-ops';
import { runTfliteClassifier } from '../tflite/extractor';
import { TfliteGraph } from '../tflite/graph';
import { BuiltinOptionsType, Padding, TensorType } from '../tflite/schema';
import { buildTflite, bytesOf, type ModelSpec } from '../tflite/testing/build-tflite';
import { buildOnnxModel, exportTfliteToOnnx, ONNX_INPUT_NAME, tfPads } from './export';
import { onnxExportKey } from './extractor';
import { decodeOnnxModel } from './proto';
import { useOnnxTestbed } from '../testing/onnx-testbed';

jest.setTimeout(120_000);

const bed = useOnnxTestbed('model-onnx-');

/** Deterministic values in [-1, 1). */
function floats(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

/** Runs exported ONNX bytes on NHWC input; one flattened array per output. */
async function runOnnx(bytes: Uint8Array, pixels: Float32Array, shape: number[], outputs: string[]): Promise<Float32Array[]> {
  const session = await bed.ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const result = await session.run({ [ONNX_INPUT_NAME]: new bed.ort.Tensor('float32', pixels, shape) });
    return outputs.map((o) => Float32Array.from(result[o].data as Float32Array));
  } finally {
    await session.release();
  }
}

/** max |a - b| over max |b|: the difference relative to the feature scale. */
function relativeDiff(a: Float32Array, b: Float32Array, from = 0, to = a.length): number {
  let diff = 0;
  let scale = 0;
  for (let i = from; i < to; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

const opt = (type: number, fields: NonNullable<ModelSpec['ops'][number]['options']>['fields']) => ({ type, fields });

/**
 * 8x8x3 -> CONV_2D 3x3 stride 2 SAME (asymmetric pads) RELU6 -> DEPTHWISE multiplier 2 SAME
 * -> AVERAGE_POOL_2D 3x3 stride 2 SAME (asymmetric, padding not counted) -> MAX_POOL_2D 2x2 VALID (global)
 * -> RESHAPE [1, 8] -> FULLY_CONNECTED -> SOFTMAX.
 */
function builtModel(): ModelSpec {
  return {
    inputs: [0],
    outputs: [12],
    tensors: [
      { name: 'input', shape: [1, 8, 8, 3], type: TensorType.FLOAT32 },
      { name: 'conv/w', shape: [4, 3, 3, 3], type: TensorType.FLOAT32, data: bytesOf(floats(108, 1)) },
      { name: 'conv/b', shape: [4], type: TensorType.FLOAT32, data: bytesOf(floats(4, 2)) },
      { name: 'conv/out', shape: [1, 4, 4, 4], type: TensorType.FLOAT32 },
      { name: 'dw/w', shape: [1, 3, 3, 8], type: TensorType.FLOAT32, data: bytesOf(floats(72, 3)) },
      { name: 'dw/out', shape: [1, 4, 4, 8], type: TensorType.FLOAT32 },
      { name: 'avg/out', shape: [1, 2, 2, 8], type: TensorType.FLOAT32 },
      { name: 'max/out', shape: [1, 1, 1, 8], type: TensorType.FLOAT32 },
      { name: 'flat', shape: [1, 8], type: TensorType.FLOAT32 },
      { name: 'fc/w', shape: [3, 8], type: TensorType.FLOAT32, data: bytesOf(floats(24, 4)) },
      { name: 'fc/b', shape: [3], type: TensorType.FLOAT32, data: bytesOf(floats(3, 5)) },
      { name: 'logits', shape: [1, 3], type: TensorType.FLOAT32 },
      { name: 'probs', shape: [1, 3], type: TensorType.FLOAT32 },
    ],
    ops: [
      { builtin: BuiltinOp.CONV_2D, inputs: [0, 1, 2], outputs: [3], options: opt(BuiltinOptionsType.Conv2DOptions, [[0, 'i8', 0], [1, 'i32', 2], [2, 'i32', 2], [3, 'i8', 3]]) },
      {
        builtin: BuiltinOp.DEPTHWISE_CONV_2D,
        inputs: [3, 4, -1],
        outputs: [5],
        options: opt(BuiltinOptionsType.DepthwiseConv2DOptions, [[0, 'i8', 0], [1, 'i32', 1], [2, 'i32', 1], [3, 'i32', 2], [4, 'i8', 0]]),
      },
      { builtin: BuiltinOp.AVERAGE_POOL_2D, inputs: [5], outputs: [6], options: opt(BuiltinOptionsType.Pool2DOptions, [[0, 'i8', 0], [1, 'i32', 2], [2, 'i32', 2], [3, 'i32', 3], [4, 'i32', 3]]) },
      { builtin: BuiltinOp.MAX_POOL_2D, inputs: [6], outputs: [7], options: opt(BuiltinOptionsType.Pool2DOptions, [[0, 'i8', 1], [1, 'i32', 1], [2, 'i32', 1], [3, 'i32', 2], [4, 'i32', 2]]) },
      { builtin: BuiltinOp.RESHAPE, inputs: [7], outputs: [8], options: opt(BuiltinOptionsType.ReshapeOptions, [[0, 'i32vec', [1, 8]]]) },
      { builtin: BuiltinOp.FULLY_CONNECTED, inputs: [8, 9, 10], outputs: [11], options: opt(BuiltinOptionsType.FullyConnectedOptions, [[0, 'i8', 0]]) },
      { builtin: BuiltinOp.SOFTMAX, inputs: [11], outputs: [12], options: opt(BuiltinOptionsType.SoftmaxOptions, [[0, 'f32', 1]]) },
    ],
  };
}

describe('tfPads (TensorFlow SAME as explicit ONNX pads)', () => {
  it('puts the odd padding row and column at the end', () => {
    expect(tfPads(Padding.SAME, [224, 224], [3, 3], [2, 2], [1, 1])).toEqual([0, 0, 1, 1]);
    expect(tfPads(Padding.SAME, [112, 112], [3, 3], [1, 1], [1, 1])).toEqual([1, 1, 1, 1]);
    expect(tfPads(Padding.SAME, [7, 8], [3, 3], [2, 2], [1, 1])).toEqual([1, 0, 1, 1]);
    expect(tfPads(Padding.SAME, [5, 5], [3, 3], [1, 1], [2, 2])).toEqual([2, 2, 2, 2]);
    expect(tfPads(Padding.VALID, [224, 224], [3, 3], [2, 2], [1, 1])).toEqual([0, 0, 0, 0]);
  });
});

describe('exporter on a built model', () => {
  const bytes = buildTflite(builtModel());
  const graph = TfliteGraph.fromBytes(bytes, 'built.tflite');
  const batch = 3;
  const input = floats(batch * 8 * 8 * 3, 9);
  afterAll(() => graph.dispose());

  it('writes the documented ONNX ops, attributes and a symbolic batch', () => {
    const decoded = decodeOnnxModel(exportTfliteToOnnx(graph, { outputs: [7, 12], outputNames: ['pooled', 'probs'] }));
    expect(decoded.ir_version).toBe(7);
    expect(decoded.opset_import).toEqual([{ domain: '', version: 13 }]);
    const nodes = decoded.graph.node;
    expect(nodes.map((n) => n.op_type)).toEqual(['Transpose', 'Conv', 'Clip', 'Conv', 'AveragePool', 'GlobalMaxPool', 'Reshape', 'Gemm', 'Softmax', 'Flatten', 'Flatten']);
    const attrs = (i: number): Record<string, number | number[]> =>
      Object.fromEntries((nodes[i].attribute ?? []).map((a) => [a.name, a.ints && a.ints.length ? a.ints : (a.i ?? a.f ?? 0)]));
    expect(attrs(0)).toEqual({ perm: [0, 3, 1, 2] });
    expect(attrs(1)).toMatchObject({ kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], group: 1 });
    expect(nodes[2].input).toHaveLength(3); // Clip(x, min, max): opset >= 11
    expect(attrs(3)).toMatchObject({ pads: [1, 1, 1, 1], group: 4 });
    expect(attrs(4)).toMatchObject({ kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] });
    const inputDims = decoded.graph.input[0].type.tensor_type.shape.dim;
    expect(inputDims).toEqual([{ dim_param: 'batch' }, { dim_value: 8 }, { dim_value: 8 }, { dim_value: 3 }]);
    expect(decoded.graph.output.map((o) => o.name)).toEqual(['pooled', 'probs']);
    // Depthwise weights: [in * multiplier, 1, h, w].
    const dwWeight = decoded.graph.initializer.find((t) => t.name === nodes[3].input[1]);
    expect(dwWeight?.dims).toEqual([8, 1, 3, 3]);
  });

  it('matches the tfjs interpreter on a batch of 3 (intermediate pool and softmax)', async () => {
    const onnx = exportTfliteToOnnx(graph, { outputs: [7, 12], outputNames: ['pooled', 'probs'] });
    const [pooled, probs] = await runOnnx(onnx, input, [batch, 8, 8, 3], ['pooled', 'probs']);
    const file = path.join(bed.tmp, 'built.tflite');
    fs.writeFileSync(file, bytes);
    const tfjs = await loadExtractor({ source: file, featureLayer: 'max/out', engine: 'tfjs' });
    try {
      const expectedPooled = await tfjs.extract(input, batch);
      const expectedProbs = await runTfliteClassifier(graph, input, batch);
      expect(pooled).toHaveLength(batch * 8);
      expect(relativeDiff(pooled, expectedPooled)).toBeLessThan(1e-5);
      expect(relativeDiff(probs, expectedProbs)).toBeLessThan(1e-5);
    } finally {
      tfjs.dispose();
    }
  });

  it('exports with an NCHW input when asked (no leading Transpose)', () => {
    const model = buildOnnxModel(graph, { outputs: [12], inputLayout: 'nchw' });
    expect(model.graph.node[0].op_type).toBe('Conv');
    expect(model.graph.input[0].type.tensor_type.shape.dim.slice(1)).toEqual([{ dim_value: 3 }, { dim_value: 8 }, { dim_value: 8 }]);
  });

  it('names the operator it cannot export', () => {
    const spec = builtModel();
    // A RESHAPE that folds the batch into the features ([1, 1, 1, 8] -> [8]) has no batch-generic form.
    spec.tensors[8].shape = [8];
    spec.ops[4].options = opt(BuiltinOptionsType.ReshapeOptions, [[0, 'i32vec', [8]]]);
    spec.outputs = [8];
    const g = TfliteGraph.fromBytes(buildTflite(spec), 'fold.tflite');
    try {
      expect(() => exportTfliteToOnnx(g, { outputs: [8] })).toThrow(UnsupportedOperatorError);
      expect(() => exportTfliteToOnnx(g, { outputs: [8] })).toThrow(/operator #4 RESHAPE \(producing flat\) cannot be exported to ONNX/);
    } finally {
      g.dispose();
    }
  });
});

describe('MobileNetV2 1.0/224: onnx engine against tfjs', () => {
  let onnx: FeatureExtractor;
  let tfjs: FeatureExtractor;
  let graph: TfliteGraph;
  let cacheDir: string;
  const file = (): string => sharedModelFile(MODELS.v2);

  beforeAll(async () => {
    cacheDir = path.join(bed.tmp, 'onnx-cache');
    onnx = await loadExtractor({ source: file(), engine: 'onnx', onnxCacheDir: cacheDir, threads: 2 });
    tfjs = await loadExtractor({ source: file(), engine: 'tfjs' });
    graph = TfliteGraph.fromBytes(fs.readFileSync(file()), file());
  });
  afterAll(() => {
    onnx.dispose();
    tfjs.dispose();
    graph.dispose();
  });

  it('describes the engine, its version and threads, and caches the export by content', async () => {
    expect(onnx.description).toMatchObject({
      format: 'tflite',
      sha256: '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776',
      featureLayer: 'MobilenetV2/Logits/AvgPool',
      featureDim: 1280,
      inputShape: [224, 224, 3],
      engine: 'onnx',
      backend: 'cpu',
      engineVersion: bed.ort.env.versions.node,
      threads: 2,
    });
    const cached = path.join(cacheDir, `${onnxExportKey(onnx.description.sha256, onnx.description.featureLayer)}.onnx`);
    expect(fs.statSync(cached).size).toBeGreaterThan(8_000_000); // 2.2 M float32 weights up to the pooling layer
    const again = await loadExtractor({ source: file(), engine: 'onnx', onnxCacheDir: cacheDir, threads: 1 });
    again.dispose();
    expect(fs.readdirSync(cacheDir)).toEqual([path.basename(cached)]);
  });

  it('gives the README feature vectors and the same ImageNet top-1 on the known-answer images', async () => {
    const pixels = new Float32Array(2 * 150528);
    pixels.set(scaledRgb(MODELS.bird));
    pixels.set(scaledRgb(MODELS.sunflower), 150528);
    const a = await onnx.extract(pixels, 2);
    const b = await tfjs.extract(pixels, 2);
    const sum = (x: Float32Array, from: number): number => x.subarray(from, from + 1280).reduce((s, v) => s + v, 0);
    expect(Math.abs(sum(a, 0) - 511.5)).toBeLessThan(0.5);
    expect(Math.abs(sum(a, 1280) - 460.59)).toBeLessThan(0.5);
    expect(relativeDiff(a, b, 0, 1280)).toBeLessThan(1e-3);
    expect(relativeDiff(a, b, 1280, 2560)).toBeLessThan(1e-3);

    const classifier = exportTfliteToOnnx(graph, { outputs: [graph.outputIndices[0]], outputNames: ['probs'] });
    const [probs] = await runOnnx(classifier, pixels, [2, 224, 224, 3], ['probs']);
    expect([argmax(probs, 0, 1001), argmax(probs, 1001, 1001)]).toEqual([20, 986]);
  });

  it('matches tfjs on 200 flower photos (40 per class): features within 1e-3 of their scale, identical top-1', async () => {
    const files = flowerPhotos(40);
    expect(files.map((f) => path.basename(path.dirname(f))).filter((c, i, all) => all.indexOf(c) === i)).toEqual(['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']);
    expect(files).toHaveLength(200);

    const session = await bed.ort.InferenceSession.create(
      exportTfliteToOnnx(graph, { outputs: [graph.resolveFeatureTensor('auto'), graph.outputIndices[0]], outputNames: ['features', 'probs'] }),
      { intraOpNumThreads: 2 },
    );
    let worst = 0;
    const mismatches: string[] = [];
    try {
      for (let start = 0; start < files.length; start += 32) {
        const chunk = files.slice(start, start + 32);
        const pixels = await flowerPixels(chunk);
        const viaEngine = await onnx.extract(pixels, chunk.length);
        const expected = await tfjs.extract(pixels, chunk.length);
        const out = await session.run({ [ONNX_INPUT_NAME]: new bed.ort.Tensor('float32', pixels, [chunk.length, 224, 224, 3]) });
        const probs = out['probs'].data as Float32Array;
        const expectedProbs = await runTfliteClassifier(graph, pixels, chunk.length);
        chunk.forEach((f, i) => {
          worst = Math.max(worst, relativeDiff(viaEngine, expected, i * 1280, (i + 1) * 1280));
          const top = argmax(probs, i * 1001, 1001);
          const expectedTop = argmax(expectedProbs, i * 1001, 1001);
          if (top !== expectedTop) mismatches.push(`${path.basename(f)}: onnx ${top}, tfjs ${expectedTop}`);
        });
      }
    } finally {
      await session.release();
    }
    console.log(`onnx vs tfjs on 200 flower photos: worst feature difference ${worst.toExponential(2)} of the feature scale`);
    expect(worst).toBeLessThan(1e-3);
    expect(mismatches).toEqual([]);
  });
});
