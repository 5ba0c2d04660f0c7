import {
  DatasetError,
  scanDataset,
  splitHash,
  stratifiedSplit,
  SPLIT_NAMES,
  type DatasetScan,
  type SplitName,
} from '@mlbench/data';
import { initBackend, type BackendInfo, type EpochMetrics, type ExtractorDescription, type FeatureExtractor } from '@mlbench/model';
import { borrowStore, PointAlreadyCompletedError, startHeartbeat, type Metric, type Run, type RunRecord, type FeatureEntry, type SharedFeatureCache, type SkippedFile, type TrackingStore } from '@mlbench/tracking';
import { markAbandonedRuns } from './abandoned';
import { flattenConfig, type LoadedConfig } from './config';
import { InterruptedError } from './errors';
import { captureEnvironment } from './environment';
import { FeatureCache } from './feature-cache';
import { extractDatasetFeatures, type DatasetFeatures } from './dataset-features';
import { backendPreference, extractionBatchSize, openExtractor, trainConfiguredHead, type TrainedHead } from './model-setup';
import { checkRunInputs } from './run-checks';
import { auditForRun, auditMetrics, auditRecords, flaggedIndices, type AuditSummary, type LabelAudit } from './audit';
import { evaluateSplits, type IndexedFeatureSet, type SplitSummary } from './evaluation';
import { METRIC_KEYS, splitMetricKey } from './metric-keys';
import { checkExpectedInputs, type ExpectedInputs } from './input-mismatch';

/** What the pipeline reports while it works; the CLI turns these into lines and progress bars. */
export type PipelineEvent =
  | { type: 'config'; file: string; name: string; hash: string }
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'scan-progress'; done: number; total: number }
  | { type: 'images-checked'; checked: number; cached: number; bad: SkippedFile[]; policy: 'fail' | 'skip' }
  | { type: 'dataset'; root: string; classes: string[]; images: number; skipped: number; fingerprint: string; splitSizes: Record<SplitName, number>; splitHash: string }
  | { type: 'abandoned'; runId: string; pid: number | null; hostname: string | null }
  | { type: 'extractor'; description: ExtractorDescription }
  | { type: 'run-created'; runId: string; store: string }
  | { type: 'extract-start'; total: number; cached: number; toExtract: number; cacheDir: string }
  | { type: 'extract-progress'; done: number; total: number }
  | { type: 'extract-end'; extracted: number; cached: number; seconds: number; imagesPerSecond: number | null }
  | { type: 'epoch'; epochs: number; metrics: EpochMetrics }
  | { type: 'run-failed'; runId: string; status: 'failed' | 'interrupted' | 'abandoned'; error: string };

export interface RunExperimentOptions {
  /** SQLite file of the tracking store. */
  dbPath: string;
  /** Feature and model-download cache. */
  cacheDir: string;
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

export type { SplitSummary } from './evaluation';

export interface RunSummary {
  run: Run;
  store: string;
  classes: string[];
  splitSizes: Record<SplitName, number>;
  splitHash: string;
  datasetFingerprint: string;
  extraction: { total: number; cached: number; extracted: number; seconds: number; imagesPerSecond: number | null };
  history: EpochMetrics[];
  val: SplitSummary | null;
  test: SplitSummary;
  backend: BackendInfo;
  extractor: ExtractorDescription;
  /** Label audit (config `audit.enabled`), absent otherwise. */
  audit?: AuditSummary;
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
    if (shared) await copyFromShared(shared, cache, scanned);
    // Another process may be extracting the same images (a cluster worker): wait for its lock; the pass then reads what it cached.
    const releaseFeatures = options.lockFeatures && (await anyUncached(cache, scanned)) ? await options.lockFeatures(cache.key, options.signal) : null;
    // What the previous holder of the lock shared while this run waited.
    if (shared && releaseFeatures) await copyFromShared(shared, cache, scanned);
    const toShare: FeatureEntry[] = [];
    const progress: RunProgress = { stage: 'extraction', extracted: 0, toExtract: 0, cached: 0, epochs: 0, totalEpochs: config.train.epochs };
    // One pass decodes every uncached image once: it screens for bad images and fills the feature
    // cache. It runs before the run row exists, so bad input (`onBadImage: fail`) records nothing.
    let pass: DatasetFeatures | undefined;
    let passFailure: unknown;
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
      } finally {
        await releaseFeatures?.();
      }
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

interface PreparedSplit {
  assignment: SplitName[];
  hashOfSplit: string;
  splitSizes: Record<SplitName, number>;
}

/** Copies the shared cache's entries of the images missing from the local folder into it. */
async function copyFromShared(shared: SharedFeatureCache, cache: FeatureCache, scan: DatasetScan): Promise<void> {
  const missing: string[] = [];
  for (const image of scan.images) if (!(await cache.has(image.sha256))) missing.push(image.sha256);
  if (missing.length === 0) return;
  for (const [imageSha256, features] of await shared.getMany(cache.key, cache.dim, missing)) await cache.put(imageSha256, features);
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

/** How far a run got, for the record of an interrupted run. */
interface RunProgress {
  stage: 'setup' | 'extraction' | 'training' | 'evaluation';
  extracted: number;
  toExtract: number;
  cached: number;
  epochs: number;
  totalEpochs: number;
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

interface RunContext extends PreparedSplit {
  loaded: LoadedConfig;
  scan: DatasetScan;
  /** One row per image of `scan`, from the extraction pass. */
  features: Float32Array;
  extraction: RunSummary['extraction'];
  progress: RunProgress;
  description: ExtractorDescription;
  backend: BackendInfo;
  emit: (event: PipelineEvent) => void;
  checkAborted: () => void;
  /** Feature cache root; the label audit's cache lives beside the features. */
  cacheDir: string;
}

/** Audit, train, evaluate and record a run whose features are all extracted. */
async function executeRun(run: Run, store: TrackingStore, ctx: RunContext): Promise<RunSummary> {
  const { loaded, scan, assignment, description, emit, features, extraction } = ctx;
  const { config } = loaded;
  const dim = description.featureDim;
  const auditData = { features, dim, labels: scan.images.map((i) => i.label), numClasses: scan.classes.length };
  const subset = (split: SplitName, dropFromTrain: ReadonlySet<number>): IndexedFeatureSet => {
    const indices = assignment.flatMap((s, i) => (s === split && !dropFromTrain.has(i) ? [i] : []));
    const data = new Float32Array(indices.length * dim);
    indices.forEach((row, k) => data.set(features.subarray(row * dim, (row + 1) * dim), k * dim));
    return { features: data, labels: indices.map((i) => scan.images[i].label), dim, indices };
  };
  const splitSets = (dropFromTrain: ReadonlySet<number>): Record<SplitName, IndexedFeatureSet> => ({
    train: subset('train', dropFromTrain),
    val: subset('val', dropFromTrain),
    test: subset('test', dropFromTrain),
  });
  type Trained = { head: TrainedHead; history: EpochMetrics[]; seconds: number };
  const train = async (sets: Record<SplitName, IndexedFeatureSet>): Promise<Trained> => {
    const started = Date.now();
    const result = await trainConfiguredHead(config, description.inputShape, sets.train, sets.val.labels.length > 0 ? sets.val : null, scan.classes.length, {
      checkAborted: ctx.checkAborted,
      onEpoch: async (metrics) => {
        ctx.progress.epochs = metrics.epoch;
        emit({ type: 'epoch', epochs: config.train.epochs, metrics });
        await store.logBatch(run.id, { metrics: curveMetrics(metrics) });
      },
    });
    return { ...result, seconds: (Date.now() - started) / 1000 };
  };

  // Label audit over the whole dataset (off unless config `audit.enabled`); see audit.ts. Unless
  // `audit.excludeFromTraining` needs its verdicts first, this thread trains the run's head while
  // the audit's fold workers train their folds, then takes folds itself: the trainings are
  // independent and seeded, so every number is the same as training one after the other.
  const auditFirst = !config.audit?.enabled || config.audit.excludeFromTraining;
  const whole = splitSets(new Set());
  let trained: Trained | null = null;
  const beforeThisThread = async (): Promise<void> => {
    trained = await train(whole);
  };
  const audit = await auditForRun(config, auditData, { checkAborted: ctx.checkAborted, ...(auditFirst ? {} : { beforeThisThread }) }, ctx.cacheDir);
  const flagged = audit ? flaggedIndices(audit) : new Set<number>();
  // `audit.excludeFromTraining` drops flagged images from TRAIN only; val and test stay whole.
  const dropFromTrain = new Set(config.audit?.excludeFromTraining ? [...flagged].filter((i) => assignment[i] === 'train') : []);
  const sets = dropFromTrain.size > 0 ? splitSets(dropFromTrain) : whole;
  trained ??= await train(sets);
  const { head, history, seconds: trainSeconds } = trained;
  ctx.progress.stage = 'evaluation';

  let evaluation: ReturnType<typeof evaluateSplits>;
  try {
    evaluation = evaluateSplits({ head, sets, classes: scan.classes, paths: scan.images.map((i) => i.relPath), seed: config.seed, flagged: audit ? flagged : undefined });
    evaluation.metrics.push(
      { key: METRIC_KEYS.extractionSeconds, value: extraction.seconds, step: null },
      { key: METRIC_KEYS.extractionCached, value: extraction.cached, step: null },
      { key: METRIC_KEYS.extractionExtracted, value: extraction.extracted, step: null },
      { key: METRIC_KEYS.trainSeconds, value: trainSeconds, step: null },
      { key: METRIC_KEYS.headParameters, value: head.parameterCount, step: null },
    );
    if (extraction.imagesPerSecond !== null) evaluation.metrics.push({ key: METRIC_KEYS.extractionImagesPerSecond, value: extraction.imagesPerSecond, step: null });
    if (audit) {
      evaluation.metrics.push(...auditMetrics(audit, scan.images.map((i) => i.label), scan.classes), { key: METRIC_KEYS.auditExcludedTrain, value: dropFromTrain.size, step: null });
    }
  } finally {
    head.dispose();
  }

  const completed = await store.completeRun(run.id, runRecord(ctx, evaluation, audit));
  const { summaries } = evaluation;
  return {
    run: completed,
    store: store.location,
    classes: scan.classes,
    splitSizes: ctx.splitSizes,
    splitHash: ctx.hashOfSplit,
    datasetFingerprint: scan.fingerprint,
    extraction,
    history,
    val: summaries.val ?? null,
    test: summaries.test as SplitSummary,
    backend: ctx.backend,
    extractor: description,
    ...(audit
      ? {
          audit: {
            folds: config.audit?.folds ?? 0,
            labelIssues: audit.verdicts.labelIssues.length,
            noConfidentClass: audit.verdicts.noConfidentClass.length,
            excludedFromTraining: dropFromTrain.size,
            seconds: audit.seconds,
            ...(audit.cached ? { cached: audit.cached } : {}),
          },
        }
      : {}),
  };
}

/** One epoch's learning-curve points: train loss and accuracy, val loss and accuracy when there is a val split. */
function curveMetrics(metrics: EpochMetrics): Metric[] {
  const step = metrics.epoch;
  const curve: Metric[] = [
    { key: splitMetricKey('train', 'loss'), value: metrics.loss, step },
    { key: splitMetricKey('train', 'accuracy'), value: metrics.accuracy, step },
  ];
  if (metrics.valLoss !== null) curve.push({ key: splitMetricKey('val', 'loss'), value: metrics.valLoss, step });
  if (metrics.valAccuracy !== null) curve.push({ key: splitMetricKey('val', 'accuracy'), value: metrics.valAccuracy, step });
  return curve;
}

/** What `completeRun` records: the metrics and predictions, the dataset and its split, the extractor, the audit. */
function runRecord(ctx: RunContext, evaluation: ReturnType<typeof evaluateSplits>, audit: LabelAudit | null): RunRecord {
  const { scan, assignment, description } = ctx;
  return {
    params: [],
    metrics: evaluation.metrics,
    dataset: {
      path: scan.root,
      fingerprint: scan.fingerprint,
      classes: scan.classes,
      classCounts: scan.classCounts,
      splitCounts: splitClassCounts(assignment, scan),
      splitHash: ctx.hashOfSplit,
    },
    extractor: Object.fromEntries(
      Object.entries({ ...description, inputShape: description.inputShape.join('x'), featureDim: description.featureDim, preprocess: JSON.stringify(ctx.loaded.resolved.preprocess) }).map(
        ([k, v]) => [k, String(v)],
      ),
    ),
    split: scan.images.map((image, i) => ({ path: image.relPath, sha256: image.sha256, label: image.label, split: assignment[i] })),
    predictions: evaluation.predictions,
    audit: audit ? auditRecords(audit, scan.images.map((i) => i.relPath)) : undefined,
  };
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

function splitClassCounts(assignment: readonly SplitName[], scan: DatasetScan): Record<SplitName, Record<string, number>> {
  const counts = {} as Record<SplitName, Record<string, number>>;
  for (const split of SPLIT_NAMES) counts[split] = Object.fromEntries(scan.classes.map((c) => [c, 0]));
  assignment.forEach((split, i) => counts[split][scan.classes[scan.images[i].label]]++);
  return counts;
}
