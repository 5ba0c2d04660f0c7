/**
 * The seam between the pipeline and whatever runs the frozen network. A native engine
 * (ONNX Runtime, say) implements the same interface later.
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
  /** Engine version, e.g. the @tensorflow/tfjs version. */
  engineVersion: string;
}

export type ExtractorFormat = 'tflite' | 'tfjs-layers' | 'tfjs-graph';

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
}
