/**
 * The ONNX engine: the TFLite network exported to ONNX by our own exporter and run by
 * onnxruntime-node on the CPU (native, multi-threaded). The exported `.onnx` file is cached by
 * content: model sha256, feature layer, exporter and opset version.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { EngineUnavailableError, ModelError } from '../errors';
import type { ExtractorDescription, FeatureExtractor, Precision } from '../extractor';
import { writeFileAtomic } from '@mlbench/common';
import { checkExtractInput } from '../extract-input';
import { TfliteGraph } from '../tflite/graph';
import { exportTfliteToOnnx, ONNX_EXPORTER_VERSION, ONNX_INPUT_NAME, ONNX_OPSET } from './export';
import { int8WeightEncoding } from './quantized/cpu-features';
import { exportTfliteToOnnxInt8, isQuantizedGraph, ONNX_INT8_EXPORTER_VERSION } from './quantized/export-int8';

type OrtModule = typeof Ort;

const ORT_PACKAGE = 'onnxruntime-node';
let ort: OrtModule | undefined;
let ortFailure: string | undefined;

/** Loads onnxruntime-node once; undefined plus a reason when it is missing or its native binding fails. */
function tryLoadOrt(): OrtModule | undefined {
  if (ort || ortFailure) return ort;
  try {
    // Loaded lazily: the tfjs engine works without it, and a broken native binding is reported as an EngineUnavailableError.
    ort = require(ORT_PACKAGE as string) as OrtModule;
  } catch (err) {
    ortFailure =
      (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
        ? `${ORT_PACKAGE} is not installed`
        : `${ORT_PACKAGE} failed to load: ${(err as Error).message.split('\n')[0]}`;
  }
  return ort;
}

/** True when onnxruntime-node can be loaded here. */
export function onnxRuntimeAvailable(): boolean {
  return tryLoadOrt() !== undefined;
}

/** The onnxruntime-node module, or an EngineUnavailableError saying how to install it. */
export function loadOnnxRuntime(): OrtModule {
  const m = tryLoadOrt();
  if (m) return m;
  throw new EngineUnavailableError(
    `The onnx engine needs ${ORT_PACKAGE} (${ortFailure}). Install it with \`npm install ${ORT_PACKAGE}\` ` +
      '(the CPU binaries ship in the npm package; the project package.json denies its install script through ' +
      'allowScripts, so no CUDA download is attempted), or set model.extractor.engine to tfjs.',
    'onnx',
  );
}

/** onnxruntime-node version, e.g. `1.30.0`, or undefined when it cannot be loaded. */
export function onnxRuntimeVersion(): string | undefined {
  return tryLoadOrt()?.env.versions.node;
}

/** Default intra-op threads: one per core. */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

export interface OnnxExtractorOptions {
  /** Source as given by the user (path or URL), recorded in the description. */
  source: string;
  /** Local file the bytes came from; labels errors. */
  file: string;
  featureLayer?: string;
  /** sha256 of the TFLite bytes, hex. */
  sha256: string;
  /** Intra-op threads for ONNX Runtime; default one per core. */
  threads?: number;
  /** Folder for exported `.onnx` files (content-addressed); without it the export is redone each load. */
  cacheDir?: string;
  /** `int8`: export the quantized graph as it is (QDQ) when the model is quantized; default float32. */
  precision?: Precision;
}

/**
 * Key of a cached export: everything that determines the exported bytes. The float32 key is the
 * one it always was, so existing caches stay valid; int8 exports add their exporter version and
 * weight encoding.
 */
export function onnxExportKey(sha256: string, featureLayer: string, int8?: { weights: 'uint8' | 'int8' }): string {
  const parts: Record<string, unknown> = { sha256, featureLayer, exporter: ONNX_EXPORTER_VERSION, opset: ONNX_OPSET };
  if (int8) Object.assign(parts, { precision: 'int8', int8Exporter: ONNX_INT8_EXPORTER_VERSION, int8Weights: int8.weights });
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** Builds a FeatureExtractor that runs the TFLite network through ONNX Runtime. */
export async function createOnnxExtractor(bytes: Uint8Array, options: OnnxExtractorOptions): Promise<FeatureExtractor> {
  const runtime = loadOnnxRuntime();
  const graph = TfliteGraph.fromBytes(bytes, options.file);
  const feature = graph.resolveFeatureTensor(options.featureLayer ?? 'auto');
  const featureLayer = graph.tensor(feature).name;
  const featureDim = graph.tensor(feature).shape.slice(1).reduce((a, b) => a * b, 1);
  const inputShape = graph.inputShape;

  const exportOptions = { outputs: [feature], outputNames: ['features'] };
  // A model that is not quantized has no integer graph to run: it keeps float32 (and says so in its description).
  const precision: Precision = options.precision === 'int8' && isQuantizedGraph(graph, [feature]) ? 'int8' : 'float32';
  let onnxBytes: Uint8Array;
  if (precision === 'int8') {
    const weights = int8WeightEncoding();
    onnxBytes = await cachedExport(options.cacheDir, onnxExportKey(options.sha256, featureLayer, { weights }), () =>
      exportTfliteToOnnxInt8(graph, { ...exportOptions, int8Weights: weights }),
    );
  } else {
    onnxBytes = await cachedExport(options.cacheDir, onnxExportKey(options.sha256, featureLayer), () => exportTfliteToOnnx(graph, exportOptions));
  }
  const threads = options.threads ?? defaultThreads();
  // The session is created when the first batch is extracted: a run whose features are all cached
  // never pays for it (graph optimisation and weight packing).
  const createSession = async (): Promise<Ort.InferenceSession> => {
    try {
      return await runtime.InferenceSession.create(onnxBytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new ModelError(`${options.file}: ONNX Runtime rejected the exported graph: ${(err as Error).message}`, options.file);
    }
  };
  const description: ExtractorDescription = {
    source: options.source,
    format: 'tflite',
    sha256: options.sha256,
    featureLayer,
    featureDim,
    inputShape,
    engine: 'onnx',
    backend: 'cpu',
    engineVersion: runtime.env.versions.node ?? 'unknown',
    threads,
    precision,
  };
  return new OnnxExtractor(runtime, createSession, description);
}

async function cachedExport(dir: string | undefined, key: string, build: () => Uint8Array): Promise<Uint8Array> {
  if (!dir) return build();
  const file = path.join(dir, `${key}.onnx`);
  try {
    return await fsp.readFile(file);
  } catch {
    // not cached yet
  }
  const bytes = build();
  await writeFileAtomic(file, bytes);
  return bytes;
}

class OnnxExtractor implements FeatureExtractor {
  private disposed = false;
  private session: Promise<Ort.InferenceSession> | null = null;

  constructor(
    private readonly runtime: OrtModule,
    private readonly createSession: () => Promise<Ort.InferenceSession>,
    readonly description: ExtractorDescription,
  ) {}

  async extract(pixels: Float32Array, count: number): Promise<Float32Array> {
    const { description } = this;
    const [h, w, c] = description.inputShape;
    checkExtractInput(description, pixels, count, this.disposed);
    if (count === 0) return new Float32Array(0);
    this.session ??= this.createSession();
    const session = await this.session;
    const input = new this.runtime.Tensor('float32', pixels, [count, h, w, c]);
    const result = await session.run({ [ONNX_INPUT_NAME]: input });
    const out = result['features'];
    try {
      const data = out.data;
      if (!(data instanceof Float32Array) || data.length !== count * description.featureDim) {
        throw new ModelError(
          `${description.source}: the ONNX graph gave ${out.dims.join('x')} ${out.type} features, expected ${count}x${description.featureDim} float32`,
          description.source,
        );
      }
      return data.slice();
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // A session still being created is released once it exists; a failed creation has nothing to release.
    void this.session?.then((session) => session.release(), () => undefined);
  }
}
