/**
 * The int8 (QDQ) exporter: a built TF2-style per-channel int8 model against an integer reference,
 * what ONNX Runtime fuses it into, refusals, and MobileNetV2 (uint8) against float32 on the
 * known-answer images and 200 flower photos.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UnsupportedOperatorError } from '../../errors';
import type { FeatureExtractor } from '../../extractor';
import { loadExtractor } from '../../load';
import { concatFloat32, featureAgreement, flowerPhotos, flowerPixels } from '../../testing/flower-photos';
import { argmax, MODELS, scaledRgb, sharedModelFile } from '../../testing/shared-data';
import { TfliteGraph } from '../../tflite/graph';
import { ActivationFunction, TensorType } from '../../tflite/schema';
import { buildTflite } from '../../tflite/testing/build-tflite';
import { exportTfliteToOnnx, ONNX_EXPORTER_VERSION, ONNX_INPUT_NAME, ONNX_OPSET } from '../export';
import { onnxExportKey } from '../extractor';
import { decodeOnnxModel, type OnnxModel } from '../proto';
import { int8WeightEncoding } from './cpu-features';
import { buildOnnxModelInt8, exportTfliteToOnnxInt8, isQuantizedGraph } from './export-int8';
import { int8ModelSpec, int8Reference } from './testing/int8-model';
import { useOnnxTestbed } from '../../testing/onnx-testbed';

jest.setTimeout(180_000);

const bed = useOnnxTestbed('model-int8-');

/** The node types of the graph ONNX Runtime actually runs after its optimizations (QDQ fusion). */
async function optimizedOpTypes(bytes: Uint8Array): Promise<string[]> {
  const file = path.join(bed.tmp, `optimized-${Math.random().toString(36).slice(2)}.onnx`);
  const session = await bed.ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all', optimizedModelFilePath: file, logSeverityLevel: 3 });
  await session.release();
  return decodeOnnxModel(fs.readFileSync(file)).graph.node.map((n) => n.op_type);
}

function attr(model: OnnxModel, nodeIndex: number, name: string): number | undefined {
  return model.graph.node[nodeIndex].attribute?.find((a) => a.name === name)?.i;
}

describe('int8 export of a TF2-style model (int8 activations, per-channel int8 weights)', () => {
  const file = (): string => {
    const f = path.join(bed.tmp, 'int8.tflite');
    if (!fs.existsSync(f)) fs.writeFileSync(f, buildTflite(int8ModelSpec()));
    return f;
  };

  /** Deterministic float images in [-2, 2): the input quantization (1/64) clips some to 127/64. */
  function images(n: number): Float32Array {
    let s = 7;
    return Float32Array.from({ length: n * 72 }, () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return (s / 2147483648) * 4 - 2;
    });
  }

  it('writes QDQ: int8 per-channel weights on axis 0, int32 biases scaled by input x weight scale, RELU6 as an int8 clamp', () => {
    const graph = TfliteGraph.fromBytes(fs.readFileSync(file()), file());
    const model = buildOnnxModelInt8(graph, { outputs: [graph.resolveFeatureTensor('auto')], outputNames: ['features'], int8Weights: int8WeightEncoding() });
    const ops = model.graph.node.map((n) => n.op_type);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(2);
    const init = (name: string) => model.graph.initializer.find((t) => t.name === name)!;
    const convs = model.graph.node.map((n, i) => [n, i] as const).filter(([n]) => n.op_type === 'Conv');
    for (const [conv, i] of convs) {
      const wDq = model.graph.node.find((n) => n.output[0] === conv.input[1])!;
      const bDq = model.graph.node.find((n) => n.output[0] === conv.input[2])!;
      expect([wDq.op_type, bDq.op_type]).toEqual(['DequantizeLinear', 'DequantizeLinear']);
      expect(init(wDq.input[0]).data_type).toBe(int8WeightEncoding() === 'int8' ? 3 : 2); // INT8, or UINT8 + 128 without VNNI
      expect(init(wDq.input[1]).dims).toEqual([4]); // one scale per output channel
      expect(init(bDq.input[0]).data_type).toBe(6); // INT32
      const wScale = new Float32Array(init(wDq.input[1]).raw_data.slice().buffer);
      const bScale = new Float32Array(init(bDq.input[1]).raw_data.slice().buffer);
      const inScale = i === convs[0][1] ? 1 / 64 : 6 / 255;
      wScale.forEach((s, c) => expect(Math.abs(bScale[c] / (s * inScale) - 1)).toBeLessThan(1e-6));
      expect(wDq.attribute?.find((a) => a.name === 'axis')?.i ?? 1).toBe(0);
    }
    expect(attr(model, convs[1][1], 'group')).toBe(4);
    // The conv's RELU6 covers its output's whole int8 range ([0, 6] at 6/255, -128): saturation does it.
    // The depthwise one clamps 0.05 * (q + 100) to [0, 6]: q in [-100, 20], as TFLite computes it.
    const clips = model.graph.node.filter((n) => n.op_type === 'Clip');
    expect(clips).toHaveLength(1);
    // int8 activations run as uint8 with the zero point moved by 128: [-100, 20] + 128.
    const bound = (name: string): number => init(name).raw_data[0];
    expect([bound(clips[0].input[1]), bound(clips[0].input[2])]).toEqual([28, 148]);
    graph.dispose();
  });

  it('is fused by ONNX Runtime into integer kernels (QLinearConv), with no float Conv left', async () => {
    const graph = TfliteGraph.fromBytes(fs.readFileSync(file()), file());
    const ops = await optimizedOpTypes(exportTfliteToOnnxInt8(graph, { outputs: [graph.resolveFeatureTensor('auto')], int8Weights: int8WeightEncoding() }));
    expect(ops.filter((o) => o === 'QLinearConv')).toHaveLength(2);
    expect(ops).not.toContain('Conv');
    graph.dispose();
  });

  it('loads with precision int8 and computes what the TFLite integer kernels compute (at most 1 step apart)', async () => {
    const extractor = await loadExtractor({ source: file(), engine: 'onnx', precision: 'int8', threads: 1 });
    const float = await loadExtractor({ source: file(), engine: 'onnx', threads: 1 });
    try {
      expect(extractor.description).toMatchObject({ engine: 'onnx', precision: 'int8', featureLayer: 'mean/out', featureDim: 4 });
      expect(float.description.precision).toBe('float32');
      const n = 16;
      const pixels = images(n);
      const got = await extractor.extract(pixels, n);
      const floats = await float.extract(pixels, n);
      let worst = 0;
      let exact = 0;
      let floatWorst = 0;
      for (let i = 0; i < n; i++) {
        const expected = int8Reference(pixels.subarray(i * 72, (i + 1) * 72));
        for (let c = 0; c < 4; c++) {
          const steps = Math.abs(got[i * 4 + c] - expected[c]) / 0.05;
          worst = Math.max(worst, steps);
          if (steps < 1e-3) exact++;
          floatWorst = Math.max(floatWorst, Math.abs(floats[i * 4 + c] - expected[c]) / 0.05);
        }
      }
      console.log(`int8 ONNX vs integer reference: ${exact}/${n * 4} identical, worst ${worst.toFixed(2)} steps; float32 path vs reference: worst ${floatWorst.toFixed(2)} steps`);
      // Rounding ties may go either way (MLAS rounds half to even): one output step at most.
      expect(worst).toBeLessThanOrEqual(1.001);
      expect(exact).toBeGreaterThanOrEqual(n * 4 * 0.9);
    } finally {
      extractor.dispose();
      float.dispose();
    }
  });

  it('refuses for int8 what it cannot express, naming the operator, while float32 still loads', async () => {
    const tanh = path.join(bed.tmp, 'tanh.tflite');
    fs.writeFileSync(tanh, buildTflite(int8ModelSpec({ depthwiseActivation: ActivationFunction.TANH })));
    const int8 = loadExtractor({ source: tanh, engine: 'auto', precision: 'int8', threads: 1 });
    await expect(int8).rejects.toThrow(UnsupportedOperatorError);
    await expect(loadExtractor({ source: tanh, precision: 'int8', threads: 1 })).rejects.toThrow(
      /operator #2 DEPTHWISE_CONV_2D \(producing dw\/out\) cannot be exported to int8 ONNX: fused activation TANH is not a clamp\. Use precision: float32/,
    );
    const int16 = path.join(bed.tmp, 'int16.tflite');
    fs.writeFileSync(int16, buildTflite(int8ModelSpec({ meanOut: TensorType.INT16 })));
    await expect(loadExtractor({ source: int16, precision: 'int8', threads: 1 })).rejects.toThrow(/operator #3 MEAN \(producing mean\/out\).*INT16/);
    for (const f of [tanh, int16]) {
      const float = await loadExtractor({ source: f, engine: 'onnx', precision: 'float32', threads: 1 });
      expect(float.description.precision).toBe('float32');
      expect((await float.extract(images(1), 1)).length).toBe(4);
      float.dispose();
    }
    await expect(loadExtractor({ source: file(), engine: 'tfjs', precision: 'int8' })).rejects.toThrow(/the tfjs engine runs float32 only/);
  });

  it('keeps float32 for a model that is not quantized, and float32 export keys unchanged', async () => {
    const spec = int8ModelSpec();
    // A float model: every activation float32, weights float32.
    const floatSpec = {
      ...spec,
      tensors: spec.tensors.map((t) => {
        if (t.name === 'mean/axes') return t;
        if (!t.data) return { name: t.name, shape: t.shape, type: TensorType.FLOAT32 };
        const values = t.type === TensorType.INT32 ? new Int32Array(t.data.slice().buffer) : new Int8Array(t.data.slice().buffer);
        return { name: t.name, shape: t.shape, type: TensorType.FLOAT32, data: new Uint8Array(Float32Array.from(values, (v) => v / 100).buffer) };
      }),
    };
    const f = path.join(bed.tmp, 'float.tflite');
    fs.writeFileSync(f, buildTflite(floatSpec));
    const graph = TfliteGraph.fromBytes(fs.readFileSync(f), f);
    expect(isQuantizedGraph(graph, [graph.resolveFeatureTensor('auto')])).toBe(false);
    graph.dispose();
    const asked = await loadExtractor({ source: f, engine: 'onnx', precision: 'int8', threads: 1 });
    const plain = await loadExtractor({ source: f, engine: 'onnx', threads: 1 });
    try {
      expect(asked.description.precision).toBe('float32');
      const px = images(2);
      expect(await asked.extract(px, 2)).toEqual(await plain.extract(px, 2));
    } finally {
      asked.dispose();
      plain.dispose();
    }
    // The float32 key is the pre-int8 formula, so existing export caches stay valid.
    const old = createHash('sha256').update(JSON.stringify({ sha256: 'ab', featureLayer: 'x', exporter: ONNX_EXPORTER_VERSION, opset: ONNX_OPSET })).digest('hex').slice(0, 32);
    expect(onnxExportKey('ab', 'x')).toBe(old);
    expect(onnxExportKey('ab', 'x', { weights: 'uint8' })).not.toBe(old);
    expect(onnxExportKey('ab', 'x', { weights: 'int8' })).not.toBe(onnxExportKey('ab', 'x', { weights: 'uint8' }));
  });
});

describe('MobileNetV2 1.0/224 (uint8): int8 against float32', () => {
  let int8: FeatureExtractor;
  let float: FeatureExtractor;
  let graph: TfliteGraph;
  const file = (): string => sharedModelFile(MODELS.v2);

  beforeAll(async () => {
    int8 = await loadExtractor({ source: file(), engine: 'onnx', precision: 'int8', onnxCacheDir: path.join(bed.tmp, 'cache'), threads: 2 });
    float = await loadExtractor({ source: file(), engine: 'onnx', threads: 2 });
    graph = TfliteGraph.fromBytes(fs.readFileSync(file()), file());
  });
  afterAll(() => {
    int8.dispose();
    float.dispose();
    graph.dispose();
  });

  it('caches the int8 export beside (not over) the float32 one, by weight encoding', () => {
    expect(int8.description).toMatchObject({ engine: 'onnx', precision: 'int8', featureLayer: 'MobilenetV2/Logits/AvgPool', featureDim: 1280 });
    const cached = path.join(bed.tmp, 'cache', `${onnxExportKey(int8.description.sha256, int8.description.featureLayer, { weights: int8WeightEncoding() })}.onnx`);
    // 2.2 M one-byte weights (the float32 export has 4 bytes each).
    expect(fs.statSync(cached).size).toBeGreaterThan(2_000_000);
    expect(fs.statSync(cached).size).toBeLessThan(4_000_000);
  });

  it('runs on integer kernels only: 52 QLinearConv, 10 QLinearAdd, no float Conv', async () => {
    const ops = await optimizedOpTypes(exportTfliteToOnnxInt8(graph, { outputs: [graph.resolveFeatureTensor('auto')], int8Weights: int8WeightEncoding() }));
    expect(ops.filter((o) => o === 'QLinearConv')).toHaveLength(52);
    expect(ops.filter((o) => o === 'QLinearAdd')).toHaveLength(10);
    expect(ops).not.toContain('Conv');
  });

  it('gives the same ImageNet top-1 as float32 on the known-answer images (bird -> chickadee, sunflower -> daisy)', async () => {
    const pixels = new Float32Array(2 * 150528);
    pixels.set(scaledRgb(MODELS.bird));
    pixels.set(scaledRgb(MODELS.sunflower), 150528);
    const outputs = { outputs: [graph.resolveFeatureTensor('auto'), graph.outputIndices[0]], outputNames: ['features', 'probs'] };
    const run = async (bytes: Uint8Array): Promise<{ features: Float32Array; probs: Float32Array }> => {
      const session = await bed.ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
      try {
        const out = await session.run({ [ONNX_INPUT_NAME]: new bed.ort.Tensor('float32', pixels, [2, 224, 224, 3]) });
        return { features: Float32Array.from(out['features'].data as Float32Array), probs: Float32Array.from(out['probs'].data as Float32Array) };
      } finally {
        await session.release();
      }
    };
    const q = await run(exportTfliteToOnnxInt8(graph, { ...outputs, int8Weights: int8WeightEncoding() }));
    const f = await run(exportTfliteToOnnx(graph, outputs));
    expect([argmax(q.probs, 0, 1001), argmax(q.probs, 1001, 1001)]).toEqual([20, 986]);
    expect([argmax(f.probs, 0, 1001), argmax(f.probs, 1001, 1001)]).toEqual([20, 986]);
    expect(q.probs[20]).toBeGreaterThan(0.9);
    expect(q.probs[1001 + 986]).toBeGreaterThan(0.9);
    // The engine's features are the classifier graph's, and their sums near float32's (511.50, 460.59).
    expect(Array.from(await int8.extract(pixels, 2))).toEqual(Array.from(q.features));
    const sum = (x: Float32Array, from: number): number => x.subarray(from, from + 1280).reduce((s, v) => s + v, 0);
    expect(Math.abs(sum(q.features, 0) - 511.5) / 511.5).toBeLessThan(0.02);
    expect(Math.abs(sum(q.features, 1280) - 460.59) / 460.59).toBeLessThan(0.02);
  });

  it('agrees with float32 on 200 flower photos within the documented tolerance', async () => {
    const files = flowerPhotos(40);
    expect(files).toHaveLength(200);
    const int8Features: Float32Array[] = [];
    const floatFeatures: Float32Array[] = [];
    for (let start = 0; start < files.length; start += 32) {
      const pixels = await flowerPixels(files.slice(start, start + 32));
      int8Features.push(await int8.extract(pixels, pixels.length / 150528));
      floatFeatures.push(await float.extract(pixels, pixels.length / 150528));
    }
    const { meanRelativeL2: meanL2, worstRelativeL2: worstL2, minCosine } = featureAgreement(concatFloat32(...int8Features), concatFloat32(...floatFeatures), 1280);
    console.log(`int8 vs float32 on 200 flower photos: relative L2 difference mean ${meanL2.toFixed(4)}, worst ${worstL2.toFixed(4)}; cosine >= ${minCosine.toFixed(4)}`);
    // README "int8": measured mean 0.058, worst 0.114, cosine >= 0.9935.
    expect(meanL2).toBeLessThan(0.08);
    expect(worstL2).toBeLessThan(0.15);
    expect(minCosine).toBeGreaterThan(0.99);
  });
});
