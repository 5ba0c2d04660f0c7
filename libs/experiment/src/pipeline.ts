import {
  DatasetError,
  scanDataset,
  splitHash,
  stratifiedSplit,
  type DatasetScan,
  type SplitName,
} from '@mlbench/data';
import { initBackend, type FeatureExtractor } from '@mlbench/model';
import { borrowStore, PointAlreadyCompletedError, startHeartbeat, type FeatureEntry, type SharedFeatureCache, type TrackingStore } from '@mlbench/tracking';
import { markAbandonedRuns } from './abandoned';
import { flattenConfig, type LoadedConfig } from './config';
import { InterruptedError } from './errors';
import { captureEnvironment } from './environment';
import { FeatureCache } from './feature-cache';
import { extractDatasetFeatures, type DatasetFeatures } from './dataset-features';
import { backendPreference, extractionBatchSize, openExtractor } from './model-setup';
import { checkRunInputs } from './run-checks';
import { executeRun } from './execute-run';
import type { PipelineEvent, PreparedSplit, RunProgress, RunSummary } from './pipeline-types';
import { METRIC_KEYS } from './metric-keys';
import { checkExpectedInputs, type ExpectedInputs } from './input-mismatch';

export type { PipelineEvent, RunSummary, SplitSummary } from './pipeline-types';

export interface RunExperimentOptions {
  /** SQLite file of the tracking store. */
  dbPath: string;
  /** Feature and model-download cache. */
  cacheDir: string;
  /**
   * Read and write the label audit's cache under `cacheDir` (default true). `reproduce` turns it
   * off: a reproduction that read the original run's audit would not test how it was computed.
   */
  auditCache?: boolean;
  /** Where to read the git commit from; defaults to the process cwd. */
  cwd?: string;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
  /** Use this store instead of opening `dbPath` (the caller closes it). */
  store?: TrackingStore;
  /** Records the run as point `index` of a sweep. */
  sweep?: { id: string; index: number };
  /** The dataset and model the run must see (a cluster worker: what the submitter saw); else InputMismatchError before any row. */
  expectInputs?: ExpectedInputs;
  /** Serializes extraction of one feature-cache key across processes; resolves to the lock's release. Taken only when features are missing. */
  lockFeatures?: (cacheKey: string, signal?: AbortSignal) => Promise<() => Promise<void>>;
  /**
   * A feature cache shared with other machines (a cluster worker on a PostgreSQL store), behind the
   * local folder: entries missing there are read from it first, and what this run extracts is added to it.
   */
  sharedFeatures?: SharedFeatureCache;
  /**
   * Part of `signal` meaning the attempt is no longer this process's (a cluster worker that lost the
   * point's queue lock; the point runs elsewhere): a run it stops is recorded abandoned, as the
   * attempt of a killed worker is, not interrupted.
   */
  abandonSignal?: AbortSignal;
}

/**
 * Runs one experiment end to end: scan and split the data, load the frozen extractor,
 * extract (or reuse cached) features, train the softmax head, evaluate, record everything.
 * Everything that can be wrong with the inputs is checked before the run row is written.
 */
export async function runExperiment(loaded: LoadedConfig, options: RunExperimentOptions): Promise<RunSummary> {
  const emit = (event: PipelineEvent): void => options.onEvent?.(event);
  const checkAborted = (): void => {
    if (options.signal?.aborted) throw new InterruptedError(String(options.signal.reason ?? 'signal'));
  };
  const { config, resolved } = loaded;
  emit({ type: 'config', file: loaded.file, name: config.name, hash: loaded.hash });

  const backend = await initBackend(backendPreference(resolved));
  emit({ type: 'backend', backend });

  const scanned = await scanDataset(resolved.dataset.path, {
    followLinksOutside: resolved.dataset.followLinksOutside,
    onProgress: (done, total) => emit({ type: 'scan-progress', done, total }),
  });

  const extractor = await openExtractor(resolved, options.cacheDir);
  try {
    checkRunInputs(loaded, extractor.description, scanned.images.length, scanned.classes.length);
    emit({ type: 'extractor', description: extractor.description });
    if (options.expectInputs) checkExpectedInputs(options.expectInputs, { datasetRoot: scanned.root, datasetFingerprint: scanned.fingerprint, modelSource: extractor.description.source, modelSha256: extractor.description.sha256 });
    checkAborted();

    const cache = await openFeatureCache(extractor, loaded, options.cacheDir);
    const shared = options.sharedFeatures;
    // The images still missing locally after the shared copy (the shared path lists them all once; without it, a lock needs only one).
    const missing = shared ? await copyFromShared(shared, cache, await uncachedImages(cache, scanned)) : undefined;
    const needsLock = options.lockFeatures !== undefined && (missing ? missing.length > 0 : await anyUncached(cache, scanned));
    // Another process may be extracting the same images (a cluster worker): wait for its lock; the pass then reads what it cached.
    const releaseFeatures = needsLock && options.lockFeatures ? await options.lockFeatures(cache.key, options.signal) : null;
    const toShare: FeatureEntry[] = [];
    const progress: RunProgress = { stage: 'extraction', extracted: 0, toExtract: 0, cached: 0, epochs: 0, totalEpochs: config.train.epochs };
    let pass: DatasetFeatures | undefined;
    let passFailure: unknown;
    // Everything done under the lock is inside this try, so a throw anywhere (the shared store failing, a full disk) still releases it.
    try {
      // What the previous holder of the lock shared while this run waited.
      if (shared && releaseFeatures && missing) await copyFromShared(shared, cache, missing);
      // One pass decodes every uncached image once: it screens for bad images and fills the feature
      // cache. It runs before the run row exists, so bad input (`onBadImage: fail`) records nothing.
      try {
        pass = await extractFeatures(scanned, extractor, cache, loaded, progress, emit, checkAborted, shared ? (imageSha256, features) => toShare.push({ imageSha256, features }) : undefined);
      } catch (error) {
        if (error instanceof DatasetError) throw error;
        // Interrupted, a full cache disk, the engine failing: a run that had started, recorded below.
        passFailure = error;
      } finally {
        try {
          // Shared before the lock is released, so a waiting worker finds every vector (even of an interrupted pass).
          if (shared && toShare.length > 0) await shared.putMany(cache.key, toShare);
        } catch (error) {
          // The store failing: the run cannot be recorded either; the pass's own failure comes first.
          if (pass) {
            passFailure = error;
            pass = undefined;
          }
        }
      }
    } finally {
      await releaseFeatures?.();
    }
    let prepared: PreparedSplit | undefined;
    if (pass) {
      prepared = prepareSplit(pass.scan, loaded);
      emit({
        type: 'dataset',
        root: pass.scan.root,
        classes: pass.scan.classes,
        images: pass.scan.images.length,
        skipped: pass.skipped.length,
        fingerprint: pass.scan.fingerprint,
        splitSizes: prepared.splitSizes,
        splitHash: prepared.hashOfSplit,
      });
    }

    const { store, release } = await borrowStore(options);
    try {
      for (const stale of await markAbandonedRuns(store)) emit({ type: 'abandoned', runId: stale.id, pid: stale.pid, hostname: stale.hostname });
      if (pass) checkAborted();
      const run = await store.createRun({
        name: config.name,
        seed: config.seed,
        configHash: loaded.hash,
        configText: loaded.text,
        resolvedConfig: resolved,
        sweepId: options.sweep?.id,
        sweepIndex: options.sweep?.index,
        environment: captureEnvironment(options.cwd ?? process.cwd(), {
          'tfjs.backend': backend.backend,
          'tfjs.version': backend.engineVersion,
          'config.file': loaded.file,
        }),
      });
      emit({ type: 'run-created', runId: run.id, store: store.location });
      // Liveness for other hosts: a run whose heartbeat stops is abandoned by the next start anywhere.
      const heartbeat = startHeartbeat(store, run.id);
      try {
        await store.logBatch(run.id, { params: flattenConfig(config).map(([key, value]) => ({ key, value })), skippedFiles: pass?.skipped ?? [] });
        if (!pass || !prepared) throw passFailure;
        progress.stage = 'training';
        return await executeRun(run, store, {
          loaded, scan: pass.scan, features: pass.features, extraction: pass.extraction, ...prepared, description: extractor.description, backend, emit, checkAborted, progress,
          cacheDir: options.cacheDir,
          auditCache: options.auditCache ?? true,
        });
      } catch (error) {
        // Another attempt of this sweep point completed first: the store recorded this one abandoned (superseded).
        if (error instanceof PointAlreadyCompletedError) throw error;
        const interrupted = error instanceof InterruptedError;
        const abandoned = interrupted && options.abandonSignal?.aborted === true;
        const reported = interrupted ? new InterruptedError(error.signal, describeProgress(progress)) : error;
        const message = abandoned
          ? `abandoned: ${String(options.abandonSignal?.reason ?? 'the attempt was lost')} (stopped here ${describeProgress(progress)})`
          : reported instanceof Error
            ? `${reported.name}: ${reported.message}`
            : String(reported);
        const status = abandoned ? 'abandoned' : interrupted ? 'interrupted' : 'failed';
        // Best effort: if the store itself is failing (full disk), the row stays `running` and the
        // next start marks it abandoned; the original error is what the user needs to see.
        if (interrupted) {
          await store
            .logBatch(run.id, {
              metrics: [
                { key: METRIC_KEYS.progressFeaturesExtracted, value: progress.extracted, step: null },
                { key: METRIC_KEYS.progressEpochsCompleted, value: progress.epochs, step: null },
              ],
            })
            .catch(() => undefined);
        }
        // Abandoned: the worker that took the point over may have marked the row already (then this is refused, harmlessly).
        await store.failRun(run.id, message, status).catch(() => undefined);
        emit({ type: 'run-failed', runId: run.id, status, error: message });
        throw reported;
      } finally {
        await heartbeat.stop();
      }
    } finally {
      await release();
    }
  } finally {
    extractor.dispose();
  }
}

/** The image hashes of `scan` missing from the local folder. */
async function uncachedImages(cache: FeatureCache, scan: DatasetScan): Promise<string[]> {
  const missing: string[] = [];
  for (const image of scan.images) if (!(await cache.has(image.sha256))) missing.push(image.sha256);
  return missing;
}

/** Copies the shared cache's entries of `missing` (images absent from the local folder) into it; resolves to those it did not have. */
async function copyFromShared(shared: SharedFeatureCache, cache: FeatureCache, missing: readonly string[]): Promise<string[]> {
  if (missing.length === 0) return [];
  const found = await shared.getMany(cache.key, cache.dim, missing);
  for (const [imageSha256, features] of found) await cache.put(imageSha256, features);
  return missing.filter((imageSha256) => !found.has(imageSha256));
}

async function anyUncached(cache: FeatureCache, scan: DatasetScan): Promise<boolean> {
  for (const image of scan.images) if (!(await cache.has(image.sha256))) return true;
  return false;
}

/** The seeded stratified split of the images a run uses. */
function prepareSplit(scan: DatasetScan, loaded: LoadedConfig): PreparedSplit {
  const assignment = stratifiedSplit(scan.images.map((i) => i.label), loaded.resolved.dataset.split, loaded.config.seed, scan.classes);
  const members = scan.images.map((image, i) => ({ relPath: image.relPath, sha256: image.sha256, split: assignment[i] }));
  return { assignment, hashOfSplit: splitHash(members), splitSizes: countBy(assignment) };
}

function describeProgress(p: RunProgress): string {
  const features = `${p.cached + p.extracted}/${p.cached + p.toExtract} image features cached`;
  if (p.stage === 'extraction') return `during feature extraction (${features}; the next run resumes from the cache)`;
  if (p.stage === 'training') return `during training after ${p.epochs}/${p.totalEpochs} epochs (${features})`;
  return `during ${p.stage}`;
}

export async function openFeatureCache(extractor: FeatureExtractor, loaded: LoadedConfig, cacheDir: string): Promise<FeatureCache> {
  const description = extractor.description;
  const keyParts = {
    modelSha256: description.sha256,
    featureLayer: description.featureLayer,
    engine: description.engine,
    backend: description.backend,
    // Only int8 adds a part: float32 keys (and the caches and results behind them) are unchanged.
    ...(description.precision === 'int8' ? { precision: 'int8' } : {}),
    preprocess: loaded.resolved.preprocess,
  };
  const cache = new FeatureCache(cacheDir, FeatureCache.keyFor(keyParts), description.featureDim);
  await cache.describe(keyParts);
  return cache;
}

/** The dataset pass (see dataset-features.ts), reported as pipeline events and run progress. */
async function extractFeatures(
  scanned: DatasetScan,
  extractor: FeatureExtractor,
  cache: FeatureCache,
  loaded: LoadedConfig,
  progress: RunProgress,
  emit: (event: PipelineEvent) => void,
  checkAborted: () => void,
  onExtracted?: (imageSha256: string, features: Float32Array) => void,
): Promise<DatasetFeatures> {
  return extractDatasetFeatures(scanned, extractor, cache, {
    preprocess: loaded.resolved.preprocess,
    batchSize: extractionBatchSize(loaded.resolved),
    onBadImage: loaded.config.dataset.onBadImage,
    checkAborted,
    onStart: (cached, toExtract) => {
      progress.cached = cached;
      progress.toExtract = toExtract;
      emit({ type: 'extract-start', total: scanned.images.length, cached, toExtract, cacheDir: cache.dir });
    },
    onProgress: (done, total) => emit({ type: 'extract-progress', done, total }),
    onExtracted: (imageSha256, features) => {
      progress.extracted++;
      onExtracted?.(imageSha256, features);
    },
    onScreened: (checked, cached, bad, extraction) => {
      emit({ type: 'extract-end', extracted: extraction.extracted, cached, seconds: extraction.seconds, imagesPerSecond: extraction.imagesPerSecond });
      emit({ type: 'images-checked', checked, cached, bad, policy: loaded.config.dataset.onBadImage });
    },
  });
}

function countBy(assignment: readonly SplitName[]): Record<SplitName, number> {
  const counts: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  for (const split of assignment) counts[split]++;
  return counts;
}
