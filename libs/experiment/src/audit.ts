/**
 * Label audit (config `audit`): k-fold cross-validated training of the softmax head on the cached
 * features of the whole dataset gives out-of-fold class probabilities for every image; confident
 * learning (libs/metrics confident-learning.ts) turns them into suspected label issues and images
 * with no confident class. Everything is seeded: the same features, labels and settings give the
 * same verdicts.
 */

import { argMax, maxOf } from '@mlbench/common';
import { confidentLearning, stratifiedKFold, type ConfidentLearningResult } from '@mlbench/metrics';
import { checkProbabilitiesFinite, initBackend, trainSoftmaxHead, type SoftmaxHeadOptions } from '@mlbench/model';
import type { AuditResult, Metric } from '@mlbench/tracking';
import type { ExperimentConfig } from './config-schema';
import { AuditCache } from './audit-cache';
import { AuditError } from './errors';
import { FoldWorkerPool, foldWorkerCount, type FoldJob, type FoldTrainer } from './fold-workers';
import { METRIC_KEYS } from './metric-keys';

export interface AuditOptions {
  /** Number of folds (>= 2); every image is held out exactly once. */
  folds: number;
  /** Seeds the fold assignment and each fold's head (fold f trains with seed + f + 1). */
  seed: number;
  /** Head and training settings of the run (its own seed is replaced per fold). */
  head: Omit<SoftmaxHeadOptions, 'seed'>;
}

export interface AuditHooks {
  /** Checked between batches of every fold's training on the calling thread. */
  checkAborted?: () => void;
  onFold?: (fold: number, folds: number) => void;
  /**
   * Trainers beside the calling thread (fold-workers.ts): folds go to whichever is free next,
   * the calling thread included. The probabilities do not depend on who trained a fold.
   */
  foldTrainers?: readonly FoldTrainer[];
  /** False: only `foldTrainers` train (the calling thread stays free for other work). Default true. */
  trainOnThisThread?: boolean;
  /**
   * Other work for the calling thread (the run's own head training) done before it takes folds,
   * while `foldTrainers` already train theirs. If it fails, no further fold starts and the audit
   * fails with its error.
   */
  beforeThisThread?: () => Promise<void>;
}

export interface LabelAudit {
  /** The fold (0..folds-1) each image was held out in. */
  folds: number[];
  /** Out-of-fold class probabilities, one row per image. */
  probabilities: number[][];
  verdicts: ConfidentLearningResult;
  /** Seconds this audit took: computing it, or reading it from the audit cache. */
  seconds: number;
  /** Read from the audit cache (audit-cache.ts) rather than computed: what computing it took then. */
  cached?: { computedSeconds: number };
}

/**
 * Out-of-fold probabilities for every row of `features` (`labels.length` rows of `dim` values),
 * then confident learning over them.
 */
export async function auditLabels(
  features: Float32Array,
  dim: number,
  labels: readonly number[],
  options: AuditOptions,
  hooks: AuditHooks = {},
): Promise<LabelAudit> {
  const started = Date.now();
  const n = labels.length;
  const k = options.head.numClasses;
  if (features.length !== n * dim) throw new AuditError(`audit: ${features.length} feature values do not make ${n} rows of ${dim}`);
  if (n < options.folds) {
    throw new AuditError(`audit.folds: ${options.folds} folds need at least ${options.folds} images, the dataset has ${n}; lower audit.folds`);
  }
  const folds = stratifiedKFold(labels, options.folds, `audit:${options.seed}`);
  const probabilities: number[][] = new Array<number[]>(n);
  const gather = (rows: readonly number[]): Float32Array => {
    const out = new Float32Array(rows.length * dim);
    rows.forEach((row, r) => out.set(features.subarray(row * dim, (row + 1) * dim), r * dim));
    return out;
  };
  const onThisThread: FoldTrainer = async (job) => {
    const { head } = await trainSoftmaxHead(job.train, null, job.options, { checkAborted: hooks.checkAborted });
    try {
      return head.predict(job.heldOut, job.heldOutCount);
    } finally {
      head.dispose();
    }
  };
  // Every trainer takes the next fold when it is free; each fold's rows, seed and settings are fixed.
  let nextFold = 0;
  let failed = false;
  const work = async (train: FoldTrainer): Promise<void> => {
    while (nextFold < options.folds && !failed) {
      const f = nextFold++;
      hooks.onFold?.(f, options.folds);
      const trainRows: number[] = [];
      const heldOut: number[] = [];
      folds.forEach((fold, i) => (fold === f ? heldOut : trainRows).push(i));
      const job: FoldJob = {
        train: { features: gather(trainRows), labels: trainRows.map((i) => labels[i]), dim },
        heldOut: gather(heldOut),
        heldOutCount: heldOut.length,
        options: { ...options.head, seed: options.seed + f + 1 },
      };
      try {
        const flat = await train(job);
        checkProbabilitiesFinite(flat, `the held-out images of audit fold ${f + 1} of ${options.folds}`);
        heldOut.forEach((row, r) => (probabilities[row] = Array.from(flat.subarray(r * k, (r + 1) * k), clampProbability)));
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const trainers = [...(hooks.trainOnThisThread === false ? [] : [onThisThread]), ...(hooks.foldTrainers ?? [])];
  if (trainers.length === 0) throw new AuditError('audit: no trainer for the folds (trainOnThisThread is false and there are no fold trainers)');
  const thisThread = async (): Promise<void> => {
    try {
      await hooks.beforeThisThread?.();
    } catch (error) {
      failed = true;
      throw error;
    }
    if (hooks.trainOnThisThread !== false) await work(onThisThread);
  };
  // Every trainer settles before the audit does (no training goes on behind a failed audit); the
  // first failure is the audit's error.
  let firstError: { error: unknown } | null = null;
  const settle = (p: Promise<void>): Promise<void> => p.catch((error: unknown) => void (firstError ??= { error }));
  await Promise.all([settle(thisThread()), ...(hooks.foldTrainers ?? []).map((t) => settle(work(t)))]);
  if (firstError) throw (firstError as { error: unknown }).error;
  return { folds, probabilities, verdicts: confidentLearning(labels, probabilities, k), seconds: (Date.now() - started) / 1000 };
}

/** float32 softmax output can overshoot 1 by an ulp; confident learning wants [0, 1]. */
const clampProbability = (p: number): number => Math.min(1, Math.max(0, p));

/**
 * The flagged images: label issues only. `excludeFromTraining` drops them from train and the
 * cleaned evaluation leaves them out. Images with no confident class are recorded and shown for
 * review but not acted on: with thresholds at the mean self-confidence they are a fifth of the
 * flowers and most are predicted correctly (uncertain, not wrongly labelled).
 */
export function flaggedIndices(audit: LabelAudit): Set<number> {
  return new Set(audit.verdicts.labelIssues);
}

/** One store row per image, in dataset order. */
export function auditRecords(audit: LabelAudit, paths: readonly string[]): AuditResult[] {
  return audit.verdicts.verdicts.map((v) => ({
    path: paths[v.index],
    givenLabel: v.givenLabel,
    suggestedLabel: v.suggestedLabel,
    selfConfidence: v.selfConfidence,
    score: v.score,
    rank: v.rank,
    flag: v.flag,
    fold: audit.folds[v.index],
    probabilities: audit.probabilities[v.index],
  }));
}

/**
 * Summary metrics of the audit: `audit.folds`, `audit.label_issues`, `audit.no_confident_class`,
 * `audit.label_issue_fraction`, `audit.oof_accuracy` (out-of-fold accuracy against the given labels),
 * `audit.threshold.<class>`, `audit.seconds`.
 */
export function auditMetrics(audit: LabelAudit, labels: readonly number[], classes: readonly string[]): Metric[] {
  const { verdicts } = audit;
  const correct = audit.probabilities.filter((row, i) => argMax(row) === labels[i]).length;
  const metrics: Metric[] = [
    // One fold per image: a spread (Math.max(...folds)) overflows the stack above ~125k images.
    { key: 'audit.folds', value: maxOf(audit.folds) + 1, step: null },
    { key: METRIC_KEYS.auditLabelIssues, value: verdicts.labelIssues.length, step: null },
    { key: METRIC_KEYS.auditNoConfidentClass, value: verdicts.noConfidentClass.length, step: null },
    { key: METRIC_KEYS.auditLabelIssueFraction, value: verdicts.labelIssues.length / labels.length, step: null },
    { key: METRIC_KEYS.auditOofAccuracy, value: correct / labels.length, step: null },
    { key: METRIC_KEYS.auditSeconds, value: audit.seconds, step: null },
  ];
  verdicts.thresholds.forEach((t, j) => {
    // An empty class has an infinite threshold; the store keeps Infinity as is.
    metrics.push({ key: `audit.threshold.${classes[j] ?? j}`, value: t, step: null });
  });
  return metrics;
}

/** What a run reports about its audit (RunSummary.audit). */
export interface AuditSummary {
  folds: number;
  labelIssues: number;
  noConfidentClass: number;
  /** Train images left out (`audit.excludeFromTraining`), 0 otherwise. */
  excludedFromTraining: number;
  seconds: number;
  /** Read from the audit cache: the seconds computing it took when it was computed. */
  cached?: { computedSeconds: number };
}

/**
 * The run's audit from its config, or null when `audit.enabled` is off. With `cacheDir`, an audit
 * of the same inputs computed before is read from its audit cache (audit-cache.ts) instead of
 * training the folds again (the calling thread's `beforeThisThread` work still runs), and a freshly
 * computed one is stored there.
 */
export async function auditForRun(
  config: ExperimentConfig,
  data: { features: Float32Array; dim: number; labels: readonly number[]; numClasses: number },
  hooks: AuditHooks = {},
  cacheDir?: string,
): Promise<LabelAudit | null> {
  if (!config.audit?.enabled) return null;
  const head = config.model.head;
  if (head.type !== 'softmax') {
    throw new AuditError(`audit.enabled: the label audit trains softmax heads on features; model.head.type "${head.type}" is not supported. Set audit.enabled: false`);
  }
  const options: AuditOptions = {
    folds: config.audit.folds,
    seed: config.seed,
    head: {
      numClasses: data.numClasses,
      dropout: config.model.head.dropout,
      l2: config.model.head.type === 'softmax' ? config.model.head.l2 : 0,
      optimizer: config.train.optimizer,
      learningRate: config.train.learningRate,
      epochs: config.train.epochs,
      batchSize: config.train.batchSize,
    },
  };
  // The run chose its backend already; `auto` returns that choice.
  const { backend, engineVersion } = await initBackend('auto');
  const started = Date.now();
  const cache = cacheDir === undefined ? null : new AuditCache(cacheDir);
  const key = cache ? AuditCache.keyFor({ ...data, options, backend, engineVersion }) : '';
  if (cache && data.labels.length >= options.folds && options.folds >= 2) {
    const expectedFolds = stratifiedKFold(data.labels, options.folds, `audit:${options.seed}`);
    const hit = await cache.get(key, expectedFolds, data.numClasses);
    if (hit) {
      const verdicts = confidentLearning(data.labels, hit.probabilities, data.numClasses);
      const seconds = (Date.now() - started) / 1000;
      await hooks.beforeThisThread?.();
      return { folds: hit.folds, probabilities: hit.probabilities, verdicts, seconds, cached: { computedSeconds: hit.computedSeconds } };
    }
  }
  // Workers only for the single-threaded backends (tfjs-node already uses every core).
  const single = backend === 'wasm' || backend === 'cpu' ? backend : null;
  const count = single ? foldWorkerCount(options.folds) : 0;
  const pool = single && count > 0 ? FoldWorkerPool.start(count, { backend: single }) : null;
  let audit: LabelAudit;
  try {
    audit = await auditLabels(data.features, data.dim, data.labels, options, { ...hooks, foldTrainers: pool?.trainers() });
  } finally {
    await pool?.close();
  }
  // Best effort: the audit is computed; a cache that cannot be written costs only the next run's time.
  await cache?.put(key, { folds: audit.folds, probabilities: audit.probabilities, computedSeconds: audit.seconds }).catch(() => undefined);
  return audit;
}
