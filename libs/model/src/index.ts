/**
 * Public entry of @mlbench/model: loading a feature extractor (TFLite, tfjs, pixels; tfjs and
 * ONNX engines), training heads on its features, and the typed errors. Engine internals (the
 * TFLite graph, the ONNX exporter, the worker pool) stay inside the library; tests build models
 * through `@mlbench/model/testing`.
 */
export type { EnginePreference, ExtractorDescription, ExtractorFormat, FeatureExtractor, LoadExtractorOptions, Precision } from './extractor';
export { loadExtractor } from './load';
export { createPixelExtractor } from './pixel-extractor';
export { initBackend } from './backend';
export type { BackendInfo, BackendPreference } from './backend';
// The benchmark measures the ONNX engine directly.
export { defaultThreads, encodeOnnxModel, int8KernelIsa, loadOnnxRuntime } from './onnx';
export { checkProbabilitiesFinite, cnnArchitectureProblems, trainCnnHead, trainSoftmaxHead } from './heads';
export type { CnnArchitecture, CnnBlockSpec, CnnHead, CnnHeadOptions, EpochMetrics, FeatureSet, SoftmaxHead, SoftmaxHeadOptions, TrainHeadHooks } from './heads';
export {
  BackendUnavailableError,
  ChecksumMismatchError,
  EngineUnavailableError,
  FeatureLayerError,
  HeadOptionsError,
  TrainingDivergedError,
  ModelDownloadError,
  ModelError,
  ModelFormatError,
  ModelInputError,
  ModelNotFoundError,
  ModelOptionsError,
  UnsupportedOperatorError,
} from './errors';
