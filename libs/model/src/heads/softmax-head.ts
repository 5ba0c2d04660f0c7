/** One dense softmax layer trained on frozen features (the canonical experiment's head). */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { HeadOptionsError } from '../errors';
import { makeOptimizer, trainEpochs, trainingProblems, type EpochMetrics, type FeatureSet, type TrainHeadHooks, type TrainingSettings } from './training';

export interface SoftmaxHeadOptions extends TrainingSettings {
  numClasses: number;
  /** Dropout on the features before the dense layer; 0 = none. */
  dropout: number;
  /** L2 penalty on the dense kernel; 0 = none. */
  l2: number;
  /** Seeds weight initialisation, dropout and the per-epoch shuffle. */
  seed: number;
}

/** Rows per prediction batch: tfjs-layers' default `predict` batch size. */
const PREDICT_BATCH = 32;

/** A trained softmax layer over frozen features. */
export class SoftmaxHead {
  constructor(
    private readonly model: tf.LayersModel,
    readonly numClasses: number,
    readonly dim: number,
  ) {}

  /**
   * Class probabilities, `count x numClasses` row-major. Rows go through the model in batches of
   * PREDICT_BATCH, the batches `model.predict` makes by default (so every value is the same), but
   * each batch is its own tensor: `model.predict` slices one tensor of all rows per batch, and the
   * WebAssembly backend reads the whole tensor back for every slice (1.5 s for 3670 rows).
   */
  predict(features: Float32Array, count: number): Float32Array {
    const out = new Float32Array(count * this.numClasses);
    for (let start = 0; start < count; start += PREDICT_BATCH) {
      const n = Math.min(PREDICT_BATCH, count - start);
      const probs = tf.tidy(() => (this.model.predictOnBatch(tf.tensor2d(features.subarray(start * this.dim, (start + n) * this.dim), [n, this.dim])) as tf.Tensor).dataSync());
      out.set(probs, start * this.numClasses);
    }
    return out;
  }

  /** Trainable parameters (kernel + bias). */
  get parameterCount(): number {
    return this.model.countParams();
  }

  dispose(): void {
    this.model.dispose();
  }
}

function validate(options: SoftmaxHeadOptions, train: FeatureSet): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.numClasses) || options.numClasses < 2) problems.push(`numClasses must be >= 2, got ${options.numClasses}`);
  if (!(options.l2 >= 0)) problems.push(`l2 must be >= 0, got ${options.l2}`);
  problems.push(...trainingProblems(options, train));
  if (train.features.length !== train.labels.length * train.dim) problems.push('features and labels disagree in length');
  HeadOptionsError.throwIfAny('softmax head options', problems);
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

  const history = await trainEpochs(head, { train, val }, options, hooks, seedrandom(`head:${seed}`), async (x, rows) => {
    const [loss, acc] = await trainBatch(model, x, rows.map((row) => train.labels[row]), train.dim, numClasses);
    return [loss, acc * rows.length];
  });
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
