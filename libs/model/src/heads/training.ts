/**
 * The training kit every head shares: labelled feature sets, per-epoch metrics and hooks, the
 * checks of the shared settings, the optimizer factory and evaluation of a trained head.
 */
import { shuffleInPlace } from '@mlbench/common';
import * as tf from '@tensorflow/tfjs';
import { TrainingDivergedError } from '../errors';

/** Labelled feature vectors: `labels.length` rows of `dim` values in `features`. */
export interface FeatureSet {
  features: Float32Array;
  labels: readonly number[];
  dim: number;
}

export interface EpochMetrics {
  epoch: number;
  /** Mean training loss over the epoch's batches (as Keras reports it). */
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
}

export interface TrainHeadHooks {
  onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
  /** Checked between batches; throwing from it stops training. */
  checkAborted?: () => void;
}

/** Settings every trained head shares, checked the same way for each. */
export interface TrainingSettings {
  /** Dropout rate; 0 = none. */
  dropout: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop' | 'adagrad';
  learningRate: number;
  epochs: number;
  batchSize: number;
}

/** Problems with the shared training settings and the training set, in reading order. */
export function trainingProblems(options: TrainingSettings, train: FeatureSet): string[] {
  const problems: string[] = [];
  if (!(options.dropout >= 0 && options.dropout < 1)) problems.push(`dropout must be in [0, 1), got ${options.dropout}`);
  if (!(options.learningRate > 0)) problems.push(`learningRate must be > 0, got ${options.learningRate}`);
  if (!Number.isInteger(options.epochs) || options.epochs < 1) problems.push(`epochs must be a positive integer, got ${options.epochs}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) problems.push(`batchSize must be a positive integer, got ${options.batchSize}`);
  if (train.labels.length === 0) problems.push('the training set is empty');
  return problems;
}

export function makeOptimizer(options: Pick<TrainingSettings, 'optimizer' | 'learningRate'>): tf.Optimizer {
  switch (options.optimizer) {
    case 'adam':
      return tf.train.adam(options.learningRate);
    case 'sgd':
      return tf.train.sgd(options.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(options.learningRate);
    case 'adagrad':
      return tf.train.adagrad(options.learningRate);
  }
}

/** Anything that gives class probabilities for rows of features: the softmax head, the CNN. */
export interface ProbabilisticHead {
  readonly numClasses: number;
  /** `count x numClasses` probabilities, row-major. */
  predict(features: Float32Array, count: number): Float32Array;
}

/** Mean categorical cross-entropy and accuracy of `head` on a labelled set. */
export function evaluateHead(head: ProbabilisticHead, set: FeatureSet): { loss: number; accuracy: number } {
  const probs = head.predict(set.features, set.labels.length);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < set.labels.length; i++) {
    const row = probs.subarray(i * head.numClasses, (i + 1) * head.numClasses);
    loss -= Math.log(Math.max(row[set.labels[i]], 1e-7));
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
    if (best === set.labels[i]) correct++;
  }
  return { loss: loss / set.labels.length, accuracy: correct / set.labels.length };
}

const LOWER_THE_RATE = 'lower train.learningRate (e.g. by a factor of 10), or use another train.optimizer';

/**
 * Throws TrainingDivergedError when an epoch's loss or validation loss is NaN or infinite: every
 * later epoch and prediction would be meaningless (argmax of NaN picks class 0 and looks like a
 * real, poor accuracy). Called by every head after each epoch, before the epoch is reported.
 */
export function checkEpochFinite(metrics: EpochMetrics, options: Pick<TrainingSettings, 'learningRate' | 'optimizer' | 'epochs'>): void {
  const bad = [
    ['training loss', metrics.loss],
    ['validation loss', metrics.valLoss],
  ].filter((entry): entry is [string, number] => typeof entry[1] === 'number' && !Number.isFinite(entry[1]));
  if (bad.length === 0) return;
  throw new TrainingDivergedError(
    `training diverged at epoch ${metrics.epoch} of ${options.epochs}: the ${bad.map(([what, v]) => `${what} is ${v}`).join(' and the ')} ` +
      `(learning rate ${options.learningRate}, ${options.optimizer}); ${LOWER_THE_RATE}. No results were recorded for this run`,
    metrics.epoch,
  );
}

/** Throws TrainingDivergedError if any of `probabilities` is not a finite number. */
export function checkProbabilitiesFinite(probabilities: ArrayLike<number>, what: string): void {
  for (let i = 0; i < probabilities.length; i++) {
    if (!Number.isFinite(probabilities[i])) {
      throw new TrainingDivergedError(
        `the trained head gives non-finite probabilities (${probabilities[i]}) for ${what}: training diverged; ${LOWER_THE_RATE}. ` +
          'No predictions were recorded for this run',
        null,
      );
    }
  }
}

/** The feature rows `rows` of `set`, packed one after another (a training batch). */
export function gatherRows(set: FeatureSet, rows: readonly number[]): Float32Array {
  const x = new Float32Array(rows.length * set.dim);
  rows.forEach((row, k) => x.set(set.features.subarray(row * set.dim, (row + 1) * set.dim), k * set.dim));
  return x;
}

/** One epoch's metrics: mean loss and accuracy over its `count` rows, then the head evaluated on `val`. */
export function epochMetrics(epoch: number, lossSum: number, correctSum: number, count: number, head: ProbabilisticHead, val: FeatureSet | null): EpochMetrics {
  const valMetrics = val && val.labels.length > 0 ? evaluateHead(head, val) : null;
  return {
    epoch,
    loss: lossSum / count,
    accuracy: correctSum / count,
    valLoss: valMetrics?.loss ?? null,
    valAccuracy: valMetrics?.accuracy ?? null,
  };
}

/**
 * The seeded mini-batch loop both heads train with. Every epoch reshuffles the row order (carried
 * over from the previous epoch) with `rng`, trains batch after batch through `trainBatch` (which
 * returns the batch's mean loss and its number of correct predictions), then evaluates `val`,
 * checks the epoch for divergence and reports it. A failed or interrupted training disposes the head.
 */
export async function trainEpochs(
  head: ProbabilisticHead & { dispose(): void },
  sets: { train: FeatureSet; val: FeatureSet | null },
  options: TrainingSettings,
  hooks: TrainHeadHooks,
  rng: () => number,
  trainBatch: (x: Float32Array, rows: readonly number[]) => Promise<[loss: number, correct: number]>,
): Promise<EpochMetrics[]> {
  const { train, val } = sets;
  const order = train.labels.map((_, i) => i);
  const history: EpochMetrics[] = [];
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      shuffleInPlace(order, rng);
      let lossSum = 0;
      let correctSum = 0;
      for (let start = 0; start < order.length; start += options.batchSize) {
        hooks.checkAborted?.();
        const batch = order.slice(start, start + options.batchSize);
        const [loss, correct] = await trainBatch(gatherRows(train, batch), batch);
        lossSum += loss * batch.length;
        correctSum += correct;
      }
      const metrics = epochMetrics(epoch, lossSum, correctSum, order.length, head, val);
      checkEpochFinite(metrics, options);
      history.push(metrics);
      await hooks.onEpoch?.(metrics);
    }
  } catch (error) {
    head.dispose(); // an interrupted or diverged training keeps no weights
    throw error;
  }
  return history;
}
