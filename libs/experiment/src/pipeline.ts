import * as path from 'node:path';
import {
  imageBatches,
  scanDataset,
  splitHash,
  stratifiedSplit,
  SPLIT_NAMES,
  type DatasetScan,
  type ImageRecord,
  type SplitName,
} from '@mlbench/data';
import { argmax, classificationReport, type ClassificationReport } from '@mlbench/metrics';
import {
  initBackend,
  loadExtractor,
  trainSoftmaxHead,
  type BackendInfo,
  type EpochMetrics,
  type ExtractorDescription,
  type FeatureExtractor,
  type FeatureSet,
} from '@mlbench/model';
import { openSqliteStore, type Metric, type Prediction, type Run, type TrackingStore } from '@mlbench/tracking';
import { flattenConfig, loadConfig, type LoadedConfig } from './config';
import { ConfigError, InterruptedError } from './errors';
import { captureEnvironment } from './environment';
import { FeatureCache } from './feature-cache';

/** What the pipeline reports while it works; the CLI turns these into lines and progress bars. */
export type PipelineEvent =
  | { type: 'config'; file: string; name: string; hash: string }
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'scan-progress'; done: number; total: number }
  | { type: 'dataset'; root: string; classes: string[]; images: number; fingerprint: string; splitSizes: Record<SplitName, number>; splitHash: string }
  | { type: 'extractor'; description: ExtractorDescription }
  | { type: 'run-created'; runId: string; store: string }
  | { type: 'extract-start'; total: number; cached: number; toExtract: number; cacheDir: string }
  | { type: 'extract-progress'; done: number; total: number }
  | { type: 'extract-end'; extracted: number; cached: number; seconds: number; imagesPerSecond: number | null }
  | { type: 'epoch'; epochs: number; metrics: EpochMetrics }
  | { type: 'run-failed'; runId: string; status: 'failed' | 'interrupted'; error: string };

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
}

export interface SplitSummary {
  count: number;
  accuracy: number;
  macroF1: number;
  logLoss: number;
  perClassF1: Record<string, number>;
}

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
}

/** Loads the config file and runs it: the one call behind `runner --config`. */
export async function runExperimentFromFile(configFile: string, options: RunExperimentOptions): Promise<RunSummary> {
  return runExperiment(await loadConfig(configFile), options);
}

/**
 * Runs one experiment end to end: scan and split the data, load the frozen extractor,
 * extract (or reuse cached) features, train the softmax head, evaluate, record everything.
 * Everything that can be wrong with the inputs is checked before the run row is written.
 */
export async function runExperiment(loaded: LoadedConfig, options: RunExperimentOptions): Promise<RunSummary> {
  const started = Date.now();
  const emit = (event: PipelineEvent): void => options.onEvent?.(event);
  const checkAborted = (): void => {
    if (options.signal?.aborted) throw new InterruptedError(String(options.signal.reason ?? 'signal'));
  };
  const { config, resolved } = loaded;
  emit({ type: 'config', file: loaded.file, name: config.name, hash: loaded.hash });

  const backend = await initBackend(resolved.model.extractor.backend);
  emit({ type: 'backend', backend });

  const scan = await scanDataset(resolved.dataset.path, { onProgress: (done, total) => emit({ type: 'scan-progress', done, total }) });
  const assignment = stratifiedSplit(scan.images.map((i) => i.label), resolved.dataset.split, config.seed, scan.classes);
  const members = scan.images.map((image, i) => ({ relPath: image.relPath, sha256: image.sha256, split: assignment[i] }));
  const hashOfSplit = splitHash(members);
  const splitSizes = countBy(assignment);
  emit({ type: 'dataset', root: scan.root, classes: scan.classes, images: scan.images.length, fingerprint: scan.fingerprint, splitSizes, splitHash: hashOfSplit });

  const extractor = await loadExtractor({
    source: resolved.model.extractor.source,
    featureLayer: resolved.model.extractor.featureLayer,
    sha256: resolved.model.extractor.sha256,
    downloadCacheDir: path.join(options.cacheDir, 'models'),
  });
  try {
    checkInputSize(loaded, extractor.description);
    emit({ type: 'extractor', description: extractor.description });
    checkAborted();

    const store = options.store ?? (await openSqliteStore(options.dbPath));
    try {
      const run = await store.createRun({
        name: config.name,
        seed: config.seed,
        configHash: loaded.hash,
        configText: loaded.text,
        resolvedConfig: resolved,
        environment: captureEnvironment(options.cwd ?? process.cwd(), {
          'tfjs.backend': backend.backend,
          'tfjs.version': backend.engineVersion,
          'config.file': loaded.file,
        }),
      });
      emit({ type: 'run-created', runId: run.id, store: store.location });
      try {
        return await executeRun(run, store, { loaded, scan, assignment, members, hashOfSplit, splitSizes, extractor, backend, started, options, emit, checkAborted });
      } catch (error) {
        const interrupted = error instanceof InterruptedError;
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        await store.failRun(run.id, message, interrupted ? 'interrupted' : 'failed');
        emit({ type: 'run-failed', runId: run.id, status: interrupted ? 'interrupted' : 'failed', error: message });
        throw error;
      }
    } finally {
      if (!options.store) await store.close();
    }
  } finally {
    extractor.dispose();
  }
}

interface RunContext {
  loaded: LoadedConfig;
  scan: DatasetScan;
  assignment: SplitName[];
  members: { relPath: string; sha256: string; split: SplitName }[];
  hashOfSplit: string;
  splitSizes: Record<SplitName, number>;
  extractor: FeatureExtractor;
  backend: BackendInfo;
  started: number;
  options: RunExperimentOptions;
  emit: (event: PipelineEvent) => void;
  checkAborted: () => void;
}

async function executeRun(run: Run, store: TrackingStore, ctx: RunContext): Promise<RunSummary> {
  const { loaded, scan, assignment, extractor, emit } = ctx;
  const { config, resolved } = loaded;
  await store.logBatch(run.id, { params: flattenConfig(config).map(([key, value]) => ({ key, value })) });

  const { features, extraction } = await extractFeatures(scan.images, extractor, ctx);
  const dim = extractor.description.featureDim;
  const subset = (split: SplitName): FeatureSet & { indices: number[] } => {
    const indices = assignment.flatMap((s, i) => (s === split ? [i] : []));
    const data = new Float32Array(indices.length * dim);
    indices.forEach((row, k) => data.set(features.subarray(row * dim, (row + 1) * dim), k * dim));
    return { features: data, labels: indices.map((i) => scan.images[i].label), dim, indices };
  };
  const sets = { train: subset('train'), val: subset('val'), test: subset('test') };

  const trainStarted = Date.now();
  const { head, history } = await trainSoftmaxHead(
    sets.train,
    sets.val.labels.length > 0 ? sets.val : null,
    {
      numClasses: scan.classes.length,
      dropout: config.model.head.dropout,
      l2: config.model.head.l2,
      optimizer: config.train.optimizer,
      learningRate: config.train.learningRate,
      epochs: config.train.epochs,
      batchSize: config.train.batchSize,
      seed: config.seed,
    },
    {
      checkAborted: ctx.checkAborted,
      onEpoch: async (metrics) => {
        emit({ type: 'epoch', epochs: config.train.epochs, metrics });
        const step = metrics.epoch;
        const curve: Metric[] = [
          { key: 'train.loss', value: metrics.loss, step },
          { key: 'train.accuracy', value: metrics.accuracy, step },
        ];
        if (metrics.valLoss !== null) curve.push({ key: 'val.loss', value: metrics.valLoss, step });
        if (metrics.valAccuracy !== null) curve.push({ key: 'val.accuracy', value: metrics.valAccuracy, step });
        await store.logBatch(run.id, { metrics: curve });
      },
    },
  );
  const trainSeconds = (Date.now() - trainStarted) / 1000;

  const metrics: Metric[] = [];
  const predictions: Prediction[] = [];
  const summaries: Partial<Record<SplitName, SplitSummary>> = {};
  try {
    for (const split of SPLIT_NAMES) {
      const set = sets[split];
      if (set.labels.length === 0) continue;
      const flat = head.predict(set.features, set.labels.length);
      const k = scan.classes.length;
      const rows = set.labels.map((_, i) => Array.from(flat.subarray(i * k, (i + 1) * k)));
      const report = classificationReport(set.labels, rows, k);
      metrics.push(...reportMetrics(split, report, scan.classes));
      summaries[split] = summarize(report, scan.classes);
      if (split !== 'train') {
        set.indices.forEach((imageIndex, i) => {
          predictions.push({
            path: scan.images[imageIndex].relPath,
            split,
            trueLabel: set.labels[i],
            predictedLabel: argmax(rows[i]),
            probabilities: rows[i],
          });
        });
      }
    }
    metrics.push(
      { key: 'time.extraction_seconds', value: extraction.seconds, step: null },
      { key: 'extraction.cached', value: extraction.cached, step: null },
      { key: 'extraction.extracted', value: extraction.extracted, step: null },
      { key: 'time.train_seconds', value: trainSeconds, step: null },
      { key: 'head.parameters', value: head.parameterCount, step: null },
    );
    if (extraction.imagesPerSecond !== null) metrics.push({ key: 'extraction.images_per_second', value: extraction.imagesPerSecond, step: null });
  } finally {
    head.dispose();
  }

  const description = extractor.description;
  const completed = await store.completeRun(run.id, {
    params: [],
    metrics,
    dataset: {
      path: scan.root,
      fingerprint: scan.fingerprint,
      classes: scan.classes,
      classCounts: scan.classCounts,
      splitCounts: splitClassCounts(assignment, scan),
      splitHash: ctx.hashOfSplit,
    },
    extractor: Object.fromEntries(
      Object.entries({ ...description, inputShape: description.inputShape.join('x'), featureDim: description.featureDim, preprocess: JSON.stringify(resolved.preprocess) }).map(
        ([k, v]) => [k, String(v)],
      ),
    ),
    split: scan.images.map((image, i) => ({ path: image.relPath, sha256: image.sha256, label: image.label, split: assignment[i] })),
    predictions,
  });

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
  };
}

/** Features of every image, from the cache where present, extracted (and cached) otherwise. */
async function extractFeatures(
  images: readonly ImageRecord[],
  extractor: FeatureExtractor,
  ctx: RunContext,
): Promise<{ features: Float32Array; extraction: RunSummary['extraction'] }> {
  const { emit, loaded } = ctx;
  const description = extractor.description;
  const dim = description.featureDim;
  const preprocess = loaded.resolved.preprocess;
  const keyParts = {
    modelSha256: description.sha256,
    featureLayer: description.featureLayer,
    engine: description.engine,
    backend: description.backend,
    preprocess,
  };
  const cache = new FeatureCache(ctx.options.cacheDir, FeatureCache.keyFor(keyParts), dim);
  await cache.describe(keyParts);

  const features = new Float32Array(images.length * dim);
  const missing: (ImageRecord & { index: number })[] = [];
  for (const [index, image] of images.entries()) {
    const cached = await cache.get(image.sha256);
    if (cached) features.set(cached, index * dim);
    else missing.push({ ...image, index });
  }
  const cachedCount = images.length - missing.length;
  emit({ type: 'extract-start', total: images.length, cached: cachedCount, toExtract: missing.length, cacheDir: cache.dir });

  const started = Date.now();
  let done = 0;
  const [height, width] = preprocess.size;
  const batches = imageBatches(missing, { width, height, resize: preprocess.resize, fit: preprocess.fit, scaling: preprocess.scaling }, loaded.resolved.model.extractor.batchSize);
  for await (const batch of batches) {
    ctx.checkAborted();
    const out = await extractor.extract(batch.pixels, batch.items.length);
    for (const [k, item] of batch.items.entries()) {
      const vector = out.slice(k * dim, (k + 1) * dim);
      features.set(vector, item.index * dim);
      await cache.put(item.sha256, vector);
    }
    done += batch.items.length;
    emit({ type: 'extract-progress', done, total: missing.length });
  }
  const seconds = (Date.now() - started) / 1000;
  const extraction = {
    total: images.length,
    cached: cachedCount,
    extracted: missing.length,
    seconds,
    imagesPerSecond: missing.length > 0 && seconds > 0 ? missing.length / seconds : null,
  };
  emit({ type: 'extract-end', extracted: missing.length, cached: cachedCount, seconds, imagesPerSecond: extraction.imagesPerSecond });
  return { features, extraction };
}

function checkInputSize(loaded: LoadedConfig, description: ExtractorDescription): void {
  const [height, width] = loaded.config.preprocess.size;
  const [modelHeight, modelWidth] = description.inputShape;
  if ((modelHeight > 0 && modelHeight !== height) || (modelWidth > 0 && modelWidth !== width)) {
    throw new ConfigError(
      `${loaded.file}: preprocess.size: expected [${modelHeight}, ${modelWidth}] (the input of ${description.source}), got [${height}, ${width}]`,
      loaded.file,
    );
  }
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

function reportMetrics(split: SplitName, report: ClassificationReport, classes: readonly string[]): Metric[] {
  const metrics: Metric[] = [
    { key: `${split}.accuracy`, value: report.accuracy, step: null },
    { key: `${split}.macro_f1`, value: report.macroF1, step: null },
    { key: `${split}.log_loss`, value: report.logLoss, step: null },
    { key: `${split}.count`, value: report.count, step: null },
  ];
  report.perClass.forEach((c, i) => {
    metrics.push(
      { key: `${split}.precision.${classes[i]}`, value: c.precision, step: null },
      { key: `${split}.recall.${classes[i]}`, value: c.recall, step: null },
      { key: `${split}.f1.${classes[i]}`, value: c.f1, step: null },
    );
  });
  return metrics;
}

function summarize(report: ClassificationReport, classes: readonly string[]): SplitSummary {
  return {
    count: report.count,
    accuracy: report.accuracy,
    macroF1: report.macroF1,
    logLoss: report.logLoss,
    perClassF1: Object.fromEntries(report.perClass.map((c, i) => [classes[i], c.f1])),
  };
}
