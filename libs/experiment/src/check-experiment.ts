import { BadImagesError, checkImages, scanDataset, type ImageRecord } from '@mlbench/data';
import { initBackend } from '@mlbench/model';
import type { LoadedConfig } from './config';
import { backendPreference, openExtractor } from './model-setup';
import { openFeatureCache, type PipelineEvent } from './pipeline';
import { checkRunInputs } from './run-checks';

/** What a run would read, as checked before its run row: a submitted point carries it to the workers. */
export interface CheckedInputs {
  datasetRoot: string;
  /** Fingerprint of the dataset on disk (as scanned, before `dataset.onBadImage` applies): what a worker must see too. */
  datasetFingerprint: string;
  images: number;
  /** Images a run would leave out (`dataset.onBadImage: skip`). */
  skipped: number;
  modelSource: string;
  modelSha256: string;
  /** Feature-cache key of the extractor and preprocessing. */
  featureCacheKey: string;
}

/**
 * Every check a run makes before its run row is written (dataset scan, model load, input size,
 * every image not in the feature cache decoded), without extracting features or recording
 * anything: a submitter checks the points, the workers extract. Throws the same errors a run
 * would (ConfigError, DatasetError, ModelError, BadImagesError with `onBadImage: fail`).
 */
export async function checkExperiment(
  loaded: LoadedConfig,
  options: { cacheDir: string; signal?: AbortSignal; onEvent?: (event: PipelineEvent) => void },
): Promise<CheckedInputs> {
  const emit = (event: PipelineEvent): void => options.onEvent?.(event);
  await initBackend(backendPreference(loaded.resolved));
  const scanned = await scanDataset(loaded.resolved.dataset.path, {
    followLinksOutside: loaded.resolved.dataset.followLinksOutside, // as the run itself scans (pipeline.ts)
    onProgress: (done, total) => emit({ type: 'scan-progress', done, total }),
  });
  const extractor = await openExtractor(loaded.resolved, options.cacheDir);
  try {
    checkRunInputs(loaded, extractor.description, scanned.images.length, scanned.classes.length);
    const cache = await openFeatureCache(extractor, loaded, options.cacheDir);
    // Images with cached features decoded fine before (by content); every other one is decoded now.
    const uncached: ImageRecord[] = [];
    for (const image of scanned.images) if (!(await cache.has(image.sha256))) uncached.push(image);
    const { bad } = await checkImages(uncached, { aborted: () => options.signal?.aborted === true });
    const allBad = [...scanned.unreadable, ...bad];
    if (allBad.length > 0 && loaded.config.dataset.onBadImage === 'fail') throw new BadImagesError(scanned.root, allBad);
    return {
      datasetRoot: scanned.root,
      datasetFingerprint: scanned.fingerprint,
      images: scanned.images.length - bad.length,
      skipped: allBad.length,
      modelSource: extractor.description.source,
      modelSha256: extractor.description.sha256,
      featureCacheKey: cache.key,
    };
  } finally {
    extractor.dispose();
  }
}
