import { BadImagesError, imageBatches, withoutBadImages, type BadImage, type DatasetScan, type ImageRecord } from '@mlbench/data';
import type { FeatureExtractor } from '@mlbench/model';
import type { SkippedFile } from '@mlbench/tracking';
import type { ExperimentConfig } from './config-schema';
import type { FeatureCache } from './feature-cache';

/** What one pass over the dataset found: the images the run uses, their features, and how they were obtained. */
export interface DatasetFeatures {
  /** The scan without the skipped images (`onBadImage: skip`), else the scan itself. */
  scan: DatasetScan;
  skipped: SkippedFile[];
  /** One row of `dim` values per image of `scan.images`, in order. */
  features: Float32Array;
  extraction: { total: number; cached: number; extracted: number; seconds: number; imagesPerSecond: number | null };
}

export interface DatasetFeaturesIo {
  preprocess: ExperimentConfig['preprocess'];
  batchSize: number;
  onBadImage: ExperimentConfig['dataset']['onBadImage'];
  checkAborted: () => void;
  onStart?: (cached: number, toExtract: number) => void;
  onProgress?: (done: number, total: number) => void;
  /** After each image's features are in the cache (for an interrupted run's record, and a shared cache). */
  onExtracted?: (imageSha256: string, features: Float32Array) => void;
  /** At the end of the pass, before `onBadImage` is applied. */
  onScreened?: (checked: number, cached: number, bad: SkippedFile[], extraction: DatasetFeatures['extraction']) => void;
}

/**
 * Features of every image of a scan, and the screening for bad images, in one pass: cached
 * features are read (an image with cached features decoded fine before, by content); every other
 * image is decoded once, at the input size, and its features extracted and cached. Images that
 * cannot be decoded are collected, and `onBadImage` applied at the end: `fail` throws
 * BadImagesError listing every one (the good images' features stay cached; nothing else is
 * kept), `skip` leaves them out. Nothing here touches the tracking store, so bad input is refused
 * before a run row exists. Once a `fail` run is known to be refused, the remaining images are
 * only decoded, to list every bad one, not run through the network.
 */
export async function extractDatasetFeatures(
  scanned: DatasetScan,
  extractor: FeatureExtractor,
  cache: FeatureCache,
  io: DatasetFeaturesIo,
): Promise<DatasetFeatures> {
  const dim = extractor.description.featureDim;
  const images = scanned.images;
  const features = new Float32Array(images.length * dim);
  const missing: (ImageRecord & { index: number })[] = [];
  const entries = await cache.getMany(images.map((i) => i.sha256));
  entries.forEach((cached, index) => {
    if (cached) features.set(cached, index * dim);
    else missing.push({ ...images[index], index });
  });
  const cachedCount = images.length - missing.length;
  io.onStart?.(cachedCount, missing.length);

  const bad: BadImage[] = [];
  const refused = (): boolean => io.onBadImage === 'fail' && scanned.unreadable.length + bad.length > 0;
  const started = Date.now();
  let done = 0;
  let extracted = 0;
  const [height, width] = io.preprocess.size;
  const batches = imageBatches(
    missing,
    { width, height, resize: io.preprocess.resize, fit: io.preprocess.fit, scaling: io.preprocess.scaling },
    io.batchSize,
    { badImages: 'collect' },
  );
  for await (const batch of batches) {
    io.checkAborted();
    for (const { item, reason } of batch.bad) bad.push({ relPath: item.relPath, absPath: item.absPath, label: item.label, sha256: item.sha256, reason });
    if (batch.items.length > 0 && !refused()) {
      const out = await extractor.extract(batch.pixels, batch.items.length);
      for (const [k, item] of batch.items.entries()) {
        const vector = out.slice(k * dim, (k + 1) * dim);
        features.set(vector, item.index * dim);
        await cache.put(item.sha256, vector);
        extracted++;
        io.onExtracted?.(item.sha256, vector);
      }
    }
    done += batch.items.length + batch.bad.length;
    io.onProgress?.(done, missing.length);
  }
  const seconds = (Date.now() - started) / 1000;
  const extraction = {
    total: images.length,
    cached: cachedCount,
    extracted,
    seconds,
    imagesPerSecond: extracted > 0 && seconds > 0 ? extracted / seconds : null,
  };

  // Both lists are in scan order, as the record of skipped files has always been.
  const allBad = [...scanned.unreadable, ...bad];
  const skipped = allBad.map((b) => ({ path: b.relPath, sha256: b.sha256, reason: b.reason }));
  io.onScreened?.(missing.length, cachedCount, skipped, extraction);
  if (allBad.length === 0) return { scan: scanned, skipped: [], features, extraction };
  if (io.onBadImage === 'fail') throw new BadImagesError(scanned.root, allBad);
  const scan = withoutBadImages(scanned, bad);
  const kept = new Set(scan.images.map((i) => i.relPath));
  const used = new Float32Array(scan.images.length * dim);
  let row = 0;
  images.forEach((image, index) => {
    if (kept.has(image.relPath)) used.set(features.subarray(index * dim, (index + 1) * dim), dim * row++);
  });
  return { scan, skipped, features: used, extraction: { ...extraction, total: scan.images.length } };
}
