import type { ModelLimits } from './limits';

/**
 * The seam between the pipeline and whatever runs the frozen network: tfjs (tfjs-node or
 * WebAssembly) or ONNX Runtime (a graph exported from the TFLite model by `onnx/export.ts`).
 */

/** What gets recorded with every run about the extractor. */
export interface ExtractorDescription {
  /** Source as given in the config (file path or URL). */
  source: string;
  /** `tflite`, `tfjs-layers` or `tfjs-graph`. */
  format: ExtractorFormat;
  /** sha256 of the model bytes (for tfjs: of model.json plus every weight file, in order). */
  sha256: string;
  /** Tensor/layer whose output is the feature vector, as resolved (never "auto"). */
  featureLayer: string;
  /** Length of one feature vector, e.g. 1280 for MobileNetV2. */
  featureDim: number;
  /** Input the network expects: [height, width, channels]. */
  inputShape: [number, number, number];
  /** Engine that executes the network, e.g. `tfjs`. */
  engine: string;
  /** Engine backend, e.g. `wasm`, `tensorflow` (tfjs-node) or `cpu`. */
  backend: string;
  /** Engine version, e.g. the @tensorflow/tfjs or onnxruntime-node version. */
  engineVersion: string;
  /** Threads that run one inference (ONNX Runtime intra-op threads, tfjs worker-pool size), where known. */
  threads?: number;
  /**
   * Arithmetic of the network: `float32` (weights dequantized), or `int8` (the TFLite quantization
   * run as it is, ONNX engine). Absent means float32 (engines that only run float).
   */
  precision?: Precision;
}

/** `int8` runs a quantized TFLite model's integer graph (onnx engine); everything else runs float32. */
export type Precision = 'float32' | 'int8';

/** Which engine runs the frozen network: `auto` picks the fastest available (onnx, else tfjs). */
export type EnginePreference = 'auto' | 'tfjs' | 'onnx';

export type ExtractorFormat = 'tflite' | 'tfjs-layers' | 'tfjs-graph' | 'pixels';

export interface FeatureExtractor {
  readonly description: ExtractorDescription;
  /**
   * Runs a batch of preprocessed images through the frozen network.
   * @param pixels NHWC float32, `count * h * w * c` values, already scaled.
   * @returns `count * featureDim` float32 values, row-major.
   */
  extract(pixels: Float32Array, count: number): Promise<Float32Array>;
  /** Frees the weights held by the backend. */
  dispose(): void;
}

export interface LoadExtractorOptions {
  /** Path to a `.tflite` file or a tfjs `model.json`, or an http(s) URL to either. */
  source: string;
  /** Tensor name (TFLite) or layer/node name (tfjs) that gives the features; `auto` picks the global pooling output. */
  featureLayer?: string;
  /** Expected sha256 of the downloaded bytes (URL sources); a mismatch is an error. */
  sha256?: string;
  /** Where downloaded models are cached; required for URL sources. */
  downloadCacheDir?: string;
  /** Engine; default `auto` (ONNX Runtime when installed and the model exports, else tfjs). */
  engine?: EnginePreference;
  /**
   * `int8`: run a quantized .tflite model as quantized (onnx engine; a model that is not quantized
   * keeps float32, recorded as such). Default `float32`.
   */
  precision?: Precision;
  /** Threads per inference for the onnx engine; default one per core. */
  threads?: number;
  /** Where exported `.onnx` graphs are cached (content-addressed); default: not cached. */
  onnxCacheDir?: string;
  /**
   * tfjs engine on the WebAssembly backend only: worker threads, each with its own backend and copy
   * of the model, that share every batch (tfjs runs WebAssembly single-threaded in Node). `auto`
   * (default) = one per core, 1 = run on the calling thread. Ignored by other engines/backends.
   */
  workers?: number | 'auto';
  /**
   * Size and download-time bounds; absent fields come from `MLBENCH_MAX_MODEL_BYTES` /
   * `MLBENCH_DOWNLOAD_TIMEOUT_SECONDS` or the defaults (2 GiB, 30 s without a byte).
   */
  limits?: Partial<ModelLimits>;
}
