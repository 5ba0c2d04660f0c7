import { SPLIT_NAMES, type DatasetScan, type SplitName } from '@mlbench/data';
import type { EpochMetrics } from '@mlbench/model';
import type { Metric, Run, RunRecord, TrackingStore } from '@mlbench/tracking';
import { auditForRun, auditMetrics, auditRecords, flaggedIndices, type LabelAudit } from './audit';
import { evaluateSplits, type IndexedFeatureSet, type SplitSummary } from './evaluation';
import { METRIC_KEYS, splitMetricKey } from './metric-keys';
import { trainConfiguredHead, type TrainedHead } from './model-setup';
import type { RunContext, RunSummary } from './pipeline-types';

/** Audit, train, evaluate and record a run whose features are all extracted. */
export async function executeRun(run: Run, store: TrackingStore, ctx: RunContext): Promise<RunSummary> {
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
  const audit = await auditForRun(config, auditData, { checkAborted: ctx.checkAborted, ...(auditFirst ? {} : { beforeThisThread }) }, ctx.auditCache ? ctx.cacheDir : undefined);
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

function splitClassCounts(assignment: readonly SplitName[], scan: DatasetScan): Record<SplitName, Record<string, number>> {
  const counts = {} as Record<SplitName, Record<string, number>>;
  for (const split of SPLIT_NAMES) counts[split] = Object.fromEntries(scan.classes.map((c) => [c, 0]));
  assignment.forEach((split, i) => counts[split][scan.classes[scan.images[i].label]]++);
  return counts;
}
