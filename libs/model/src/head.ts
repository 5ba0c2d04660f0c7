import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';

/** Labelled feature vectors: `labels.length` rows of `dim` values in `features`. */
export interface FeatureSet {
  features: Float32Array;
  labels: readonly number[];
  dim: number;
}

export interface SoftmaxHeadOptions {
  numClasses: number;
  /** Dropout on the features before the dense layer; 0 = none. */
  dropout: number;
  /** L2 penalty on the dense kernel; 0 = none. */
  l2: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop' | 'adagrad';
  learningRate: number;
  epochs: number;
  batchSize: number;
  /** Seeds weight initialisation, dropout and the per-epoch shuffle. */
  seed: number;
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

export class HeadOptionsError extends Error {
  override name = 'HeadOptionsError';
}

/** A trained softmax layer over frozen features. */
export class SoftmaxHead {
  constructor(
    private readonly model: tf.LayersModel,
    readonly numClasses: number,
    readonly dim: number,
  ) {}

  /** Class probabilities, `count x numClasses` row-major. */
  predict(features: Float32Array, count: number): Float32Array {
    return tf.tidy(() => {
      const probs = this.model.predict(tf.tensor2d(features, [count, this.dim])) as tf.Tensor;
      return probs.dataSync() as Float32Array;
    });
  }

  /** Trainable parameters (kernel + bias). */
  get parameterCount(): number {
    return this.model.countParams();
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Settings every trained head shares, checked the same way for each. */
type TrainingSettings = Pick<SoftmaxHeadOptions, 'dropout' | 'optimizer' | 'learningRate' | 'epochs' | 'batchSize'>;

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

function validate(options: SoftmaxHeadOptions, train: FeatureSet): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.numClasses) || options.numClasses < 2) problems.push(`numClasses must be >= 2, got ${options.numClasses}`);
  if (!(options.l2 >= 0)) problems.push(`l2 must be >= 0, got ${options.l2}`);
  problems.push(...trainingProblems(options, train));
  if (train.features.length !== train.labels.length * train.dim) problems.push('features and labels disagree in length');
  if (problems.length > 0) throw new HeadOptionsError(`invalid softmax head options: ${problems.join('; ')}`);
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

/**
 * Trains one dense softmax layer (optionally after dropout) on frozen features.
 * The loop is ours rather than `model.fit` because fit shuffles with an unseeded Math.random.
 */
export async function trainSoftmaxHead(
  train: FeatureSet,
  val: FeatureSet | null,
  options: SoftmaxHeadOptions,
  hooks: TrainHeadHooks = {},
): Promise<{ head: SoftmaxHead; history: EpochMetrics[] }> {
  validate(options, train);
  const { numClasses, seed } = options;
  const model = tf.sequential();
  if (options.dropout > 0) model.add(tf.layers.dropout({ inputShape: [train.dim], rate: options.dropout, seed }));
  model.add(
    tf.layers.dense({
      ...(options.dropout > 0 ? {} : { inputShape: [train.dim] }),
      units: numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      biasInitializer: 'zeros',
      kernelRegularizer: options.l2 > 0 ? tf.regularizers.l2({ l2: options.l2 }) : undefined,
    }),
  );
  model.compile({ optimizer: makeOptimizer(options), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const head = new SoftmaxHead(model, numClasses, train.dim);

  const rng = seedrandom(`head:${seed}`);
  const order = train.labels.map((_, i) => i);
  const history: EpochMetrics[] = [];
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    let correctSum = 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      hooks.checkAborted?.();
      const batch = order.slice(start, start + options.batchSize);
      const x = new Float32Array(batch.length * train.dim);
      batch.forEach((row, k) => x.set(train.features.subarray(row * train.dim, (row + 1) * train.dim), k * train.dim));
      const [loss, acc] = await trainBatch(model, x, batch.map((row) => train.labels[row]), train.dim, numClasses);
      lossSum += loss * batch.length;
      correctSum += acc * batch.length;
    }
    const valMetrics = val && val.labels.length > 0 ? evaluateHead(head, val) : null;
    const metrics: EpochMetrics = {
      epoch,
      loss: lossSum / order.length,
      accuracy: correctSum / order.length,
      valLoss: valMetrics?.loss ?? null,
      valAccuracy: valMetrics?.accuracy ?? null,
    };
    history.push(metrics);
    await hooks.onEpoch?.(metrics);
  }
  return { head, history };
}

async function trainBatch(model: tf.LayersModel, x: Float32Array, labels: number[], dim: number, numClasses: number): Promise<[number, number]> {
  const xs = tf.tensor2d(x, [labels.length, dim]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses));
  try {
    const result = (await model.trainOnBatch(xs, ys)) as number[];
    return [result[0], result[1]];
  } finally {
    xs.dispose();
    ys.dispose();
  }
}
