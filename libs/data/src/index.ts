/** @mlbench/data: dataset scan and fingerprint, seeded stratified split, image decoding and batches (the public API). */
export { BadImageError, BadImagesError, DatasetError } from './errors';
export { fingerprintImages, scanDataset, withoutBadImages } from './scan';
export type { BadImage, DatasetScan, ImageRecord, ScanOptions } from './scan';
export { SPLIT_NAMES, splitHash, stratifiedSplit } from './split';
export type { SplitFractions, SplitName } from './split';
export { DEFAULT_PREFETCH, checkImages, decodeToRgb, imageBatches, scalePixels } from './decode';
export type { BadItem, CheckImagesOptions, DecodeLimits, ImageBatch, PixelScaling, PreprocessOptions, ResizeFit, ResizeMethod } from './decode';
// Writes a small synthetic dataset; for tests and scripts of any project.
export { writeSyntheticDataset } from './synthetic';
export type { SyntheticDatasetOptions } from './synthetic';
