export { BadImageError, BadImagesError, DatasetError } from './errors';
export { IMAGE_EXTENSIONS, byCodePoint, fingerprintImages, hashFile, scanDataset, withoutBadImages } from './scan';
export type { BadImage, DatasetScan, ImageRecord, ScanOptions } from './scan';
export { SPLIT_NAMES, splitHash, stratifiedSplit } from './split';
export type { SplitFractions, SplitName } from './split';
export { DEFAULT_PREFETCH, MAX_INPUT_PIXELS, RESIZE_METHODS, checkImages, decodeToRgb, describeDecodeFailure, imageBatches, scalePixels } from './decode';
export type { BadItem, BatchQueueOptions, CheckImagesOptions, DecodeLimits, ImageBatch, PixelScaling, PreprocessOptions, ResizeFit, ResizeMethod } from './decode';
export { writeSyntheticDataset } from './synthetic';
export type { SyntheticDatasetOptions } from './synthetic';
