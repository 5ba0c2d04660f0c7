import { scanDataset } from '@mlbench/data';
import { initBackend } from '@mlbench/model';
import type { LoadedConfig } from './config';
import { backendPreference, openExtractor } from './model-setup';
import { checkInputSize, openFeatureCache, screenImages, type PipelineEvent } from './pipeline';

/** What a run would read, as checked before its run row: a submitted point carries it to the workers. */
export interface CheckedInputs {
  datasetRoot: string;
  /** Fingerprint of the images the run would use (after `dataset.onBadImage: skip`). */
  datasetFingerprint: string;
  images: number;
  skipped: number;
  modelSource: string;
  modelSha256: string;
  /** Feature-cache key of the extractor and preprocessing. */
  featureCacheKey: string;
}

/**
 * Every check a run makes before its run row is written (the same steps as runExperiment: dataset
 * scan, model load, input size, image screening), without recording anything. Throws the same
 * errors a run would (ConfigError, DatasetError, ModelError, BadImagesError).
 */
export async function checkExperiment(
  loaded: LoadedConfig,
  options: { cacheDir: string; signal?: AbortSignal; onEvent?: (event: PipelineEvent) => void },
): Promise<CheckedInputs> {
  const emit = (event: PipelineEvent): void => options.onEvent?.(event);
  await initBackend(backendPreference(loaded.resolved));
  const scanned = await scanDataset(loaded.resolved.dataset.path, { onProgress: (done, total) => emit({ type: 'scan-progress', done, total }) });
  const extractor = await openExtractor(loaded.resolved, options.cacheDir);
  try {
    checkInputSize(loaded, extractor.description);
    const cache = await openFeatureCache(extractor, loaded, options.cacheDir);
    const { scan, skipped } = await screenImages(scanned, cache, loaded, { emit, signal: options.signal });
    return {
      datasetRoot: scan.root,
      datasetFingerprint: scan.fingerprint,
      images: scan.images.length,
      skipped: skipped.length,
      modelSource: extractor.description.source,
      modelSha256: extractor.description.sha256,
      featureCacheKey: cache.key,
    };
  } finally {
    extractor.dispose();
  }
}
