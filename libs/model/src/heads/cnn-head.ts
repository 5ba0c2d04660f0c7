/**
 * A small convolutional network trained from scratch on pixels (the study's "no transfer" arm).
 *
 * The network is declared, not coded: `blocks` of 3x3 (or `kernel`) convolutions with ReLU and
 * 2x2 max pooling, then flatten, dropout, an optional hidden dense layer with ReLU, dropout and a
 * softmax layer. Input rows are flat NHWC pixel vectors (what the pixel extractor gives), reshaped
 * to `inputShape`.
 *
 * Built from tfjs-core ops and variables rather than tfjs-layers: the WebAssembly backend has no
 * Conv2DBackpropFilter kernel, so convolutions are written as im2col (shifted slices, concatenated)
 * times a matrix, whose gradients are matrix products every backend has. Initialisation (Glorot
 * uniform), dropout masks and the per-epoch shuffle are all seeded.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { cnnArchitectureProblems, cnnParameterShapes, kernelOf, type CnnArchitecture } from './cnn-architecture';
import { HeadOptionsError } from '../errors';
import { makeOptimizer, trainEpochs, trainingProblems, type EpochMetrics, type FeatureSet, type TrainHeadHooks, type TrainingSettings } from './training';

export interface CnnHeadOptions extends CnnArchitecture, TrainingSettings {
  /** Dropout rate after flattening and after the hidden dense layer; 0 = none. */
  dropout: number;
  /** Seeds weight initialisation, dropout masks and the per-epoch shuffle. */
  seed: number;
}

/** Columns of every k x k neighbourhood ("same" padding): [n*h*w, k*k*C]. */
function im2col(x: tf.Tensor4D, k: number): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  const pad = (k - 1) / 2;
  const padded = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
  const shifted: tf.Tensor4D[] = [];
  for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) shifted.push(tf.slice(padded, [0, dy, dx, 0], [n, h, w, c]));
  return tf.reshape(shifted.length === 1 ? shifted[0] : tf.concat(shifted, 3), [n * h * w, k * k * c]);
}

/**
 * `k x k` "same" convolution of NHWC `x` with `kernel` ([k*k*C, F], im2col layout). The forward
 * pass and the input gradient use the backend's convolution kernels; the kernel gradient, which
 * the WebAssembly backend lacks, is im2col(x)^T times the output gradient.
 */
function conv2dSame(x: tf.Tensor4D, kernel: tf.Tensor2D, bias: tf.Tensor1D, k: number, inputGradient: boolean): tf.Tensor4D {
  const c = x.shape[3];
  const f = kernel.shape[1];
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, ws, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const x4 = xs as tf.Tensor4D;
    const w4 = tf.reshape(ws, [k, k, c, f]) as tf.Tensor4D;
    save([x4, w4]);
    return {
      value: tf.conv2d(x4, w4, 1, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        // The first block's input is data, not a variable: its gradient is never used.
        const dx = inputGradient ? tf.conv2dTranspose(dy4, sw, sx.shape, 1, 'same') : tf.zerosLike(sx);
        const dw = tf.matMul(im2col(sx, k), tf.reshape(dy4, [-1, f]), true, false);
        return [dx, dw];
      },
    };
  });
  return tf.add(conv(x, kernel) as tf.Tensor4D, bias);
}

/** A trained CNN: class probabilities for flat pixel rows. */
export class CnnHead {
  readonly dim: number;
  private readonly vars: tf.Variable[];

  constructor(
    readonly architecture: CnnArchitecture,
    private readonly params: tf.Variable[],
  ) {
    const [h, w, c] = architecture.inputShape;
    this.dim = h * w * c;
    this.vars = params;
  }

  get numClasses(): number {
    return this.architecture.numClasses;
  }

  /** Trainable parameters of the whole network (every convolution and dense layer). */
  get parameterCount(): number {
    return this.vars.reduce((sum, v) => sum + v.size, 0);
  }

  /** Logits for an [n, dim] batch; `dropout` > 0 applies seeded masks (training only). */
  logits(x: tf.Tensor2D, dropout = 0, dropoutSeed = 0): tf.Tensor2D {
    const [h, w, c] = this.architecture.inputShape;
    const n = x.shape[0];
    let y: tf.Tensor4D = tf.reshape(x, [n, h, w, c]);
    let p = 0;
    for (const [i, block] of this.architecture.blocks.entries()) {
      y = tf.relu(conv2dSame(y, this.params[p] as tf.Tensor2D, this.params[p + 1] as tf.Tensor1D, kernelOf(block), i > 0));
      y = tf.maxPool(y, 2, 2, 'valid');
      p += 2;
    }
    let z: tf.Tensor2D = tf.reshape(y, [n, -1]);
    if (dropout > 0) z = tf.dropout(z, dropout, undefined, dropoutSeed) as tf.Tensor2D;
    if (this.architecture.dense > 0) {
      z = tf.relu(tf.add(tf.matMul(z, this.params[p] as tf.Tensor2D), this.params[p + 1])) as tf.Tensor2D;
      p += 2;
      if (dropout > 0) z = tf.dropout(z, dropout, undefined, dropoutSeed + 1) as tf.Tensor2D;
    }
    return tf.add(tf.matMul(z, this.params[p] as tf.Tensor2D), this.params[p + 1]) as tf.Tensor2D;
  }

  /** Class probabilities, `count x numClasses` row-major; evaluated in batches to bound memory. */
  predict(features: Float32Array, count: number, batchSize = 64): Float32Array {
    if (features.length !== count * this.dim) {
      throw new HeadOptionsError(`CNN head expects ${count} x ${this.dim} pixel values, got ${features.length}`);
    }
    const out = new Float32Array(count * this.numClasses);
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const probs = tf.tidy(() => tf.softmax(this.logits(tf.tensor2d(features.subarray(start * this.dim, (start + n) * this.dim), [n, this.dim]))).dataSync());
      out.set(probs, start * this.numClasses);
    }
    return out;
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
  }
}

/** Glorot-uniform kernels and zero biases, from one seeded stream. */
export function initCnnHead(arch: CnnArchitecture, seed: number): CnnHead {
  const rng = seedrandom(`cnn-init:${seed}`);
  const params = cnnParameterShapes(arch).map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (name.endsWith('/kernel')) {
      // im2col kernels are [fanIn, fanOut] already: k*k*C inputs, F outputs per position.
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < size; i++) values[i] = (2 * rng() - 1) * limit;
    }
    return tf.variable(tf.tensor(values, shape), true);
  });
  return new CnnHead(arch, params);
}

function validateTraining(options: CnnHeadOptions, train: FeatureSet): void {
  const problems = cnnArchitectureProblems(options);
  const [h, w, c] = options.inputShape;
  problems.push(...trainingProblems(options, train));
  if (train.dim !== h * w * c) problems.push(`rows have ${train.dim} values but inputShape ${h}x${w}x${c} needs ${h * w * c}: use the pixel extractor (model.extractor: none) with preprocess.size [${h}, ${w}]`);
  if (train.features.length !== train.labels.length * train.dim) problems.push('features and labels disagree in length');
  HeadOptionsError.throwIfAny('CNN head options', problems);
}

/**
 * Trains the declared CNN from scratch (seeded Glorot init, seeded shuffle and dropout) on flat
 * pixel rows, with mini-batch softmax cross-entropy. Same hooks and history as the softmax head.
 */
export async function trainCnnHead(
  train: FeatureSet,
  val: FeatureSet | null,
  options: CnnHeadOptions,
  hooks: TrainHeadHooks = {},
): Promise<{ head: CnnHead; history: EpochMetrics[] }> {
  validateTraining(options, train);
  const { numClasses, seed } = options;
  const head = initCnnHead(options, seed);
  const optimizer = makeOptimizer(options);
  let step = 0;
  try {
    const history = await trainEpochs(head, { train, val }, options, hooks, seedrandom(`cnn-shuffle:${seed}`), async (x, rows) => {
      const dropoutSeed = seed * 1_000_003 + 2 * step++;
      return tf.tidy(() => {
        const xs = tf.tensor2d(x, [rows.length, train.dim]);
        const labels = tf.tensor1d(rows.map((row) => train.labels[row]), 'int32');
        const ys = tf.oneHot(labels, numClasses);
        let hits: tf.Scalar | null = null;
        const lossValue = optimizer.minimize(() => {
          const logits = head.logits(xs, options.dropout, dropoutSeed);
          hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
          return tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
        }, true) as tf.Scalar;
        const result: [number, number] = [lossValue.dataSync()[0], (hits as tf.Scalar | null)?.dataSync()[0] ?? 0];
        (hits as tf.Scalar | null)?.dispose();
        return result;
      });
    });
    return { head, history };
  } finally {
    optimizer.dispose();
  }
}
