export type { EnginePreference, ExtractorDescription, ExtractorFormat, FeatureExtractor, LoadExtractorOptions, Precision } from './extractor';
export { loadExtractor, resolveTfjsWorkers } from './load';
export { currentBackend, initBackend } from './backend';
export type { BackendInfo, BackendPreference } from './backend';
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
export { downloadModel, CACHE_MANIFEST } from './download';
export { DEFAULT_MODEL_LIMITS, MODEL_LIMIT_ENV, modelLimitsFromEnv } from './limits';
export type { ModelLimits } from './limits';
export type { CacheManifest, DownloadedModel, DownloadOptions } from './download';
export { createTfjsExtractor, readTfjsModelFiles, tfjsFileSaveHandler } from './tfjs-model';
export type { TfjsExtractorOptions, TfjsModelFiles } from './tfjs-model';
export * from './tflite';
export * from './onnx';
export * from './pool';
export * from './heads';
export { PIXEL_EXTRACTOR_ID, PIXEL_EXTRACTOR_SOURCE, createPixelExtractor } from './pixel-extractor';
