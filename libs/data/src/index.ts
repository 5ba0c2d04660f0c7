export { DatasetError } from './errors';
export { IMAGE_EXTENSIONS, byCodePoint, fingerprintImages, hashFile, scanDataset } from './scan';
export type { DatasetScan, ImageRecord, ScanOptions } from './scan';
export { SPLIT_NAMES, shuffleInPlace, splitHash, stratifiedSplit } from './split';
export type { SplitFractions, SplitName } from './split';
export { RESIZE_METHODS, decodeToRgb, imageBatches, scalePixels } from './decode';
export type { ImageBatch, PixelScaling, PreprocessOptions, ResizeFit, ResizeMethod } from './decode';
export { writeSyntheticDataset } from './synthetic';
export type { SyntheticDatasetOptions } from './synthetic';
