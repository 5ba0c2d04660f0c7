import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { HeadOptionsError } from '../errors';
import { trainSoftmaxHead, type SoftmaxHeadOptions } from './softmax-head';
import { evaluateHead, type FeatureSet } from './training';

/** Three Gaussian blobs in 8-d: linearly separable up to a little overlap. */
function blobs(count: number, seed: string): FeatureSet {
  const rng = seedrandom(seed);
  const dim = 8;
  const labels: number[] = [];
  const features = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    labels.push(label);
    for (let d = 0; d < dim; d++) features[i * dim + d] = (d % 3 === label ? 2 : 0) + (rng() - 0.5);
  }
  return { features, labels, dim };
}

const options: SoftmaxHeadOptions = {
  numClasses: 3, dropout: 0, l2: 0, optimizer: 'adam', learningRate: 0.05, epochs: 15, batchSize: 16, seed: 1,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trainSoftmaxHead', () => {
  const train = blobs(150, 'train');
  const test = blobs(60, 'test');

  it('learns separable classes and reports every epoch', async () => {
    const epochs: number[] = [];
    const { head, history } = await trainSoftmaxHead(train, test, options, { onEpoch: (m) => void epochs.push(m.epoch) });
    expect(epochs).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(history[14].loss).toBeLessThan(history[0].loss);
    expect(evaluateHead(head, test).accuracy).toBeGreaterThanOrEqual(0.95);
    expect(history[14].valAccuracy).toBe(evaluateHead(head, test).accuracy);
    expect(head.parameterCount).toBe(8 * 3 + 3);
    head.dispose();
  });

  it('is deterministic for a seed, with dropout and L2 too', async () => {
    const withReg = { ...options, dropout: 0.3, l2: 0.01, epochs: 4 };
    const a = await trainSoftmaxHead(train, null, withReg);
    const b = await trainSoftmaxHead(train, null, withReg);
    const c = await trainSoftmaxHead(train, null, { ...withReg, seed: 2 });
    expect(Array.from(a.head.predict(test.features, 60))).toEqual(Array.from(b.head.predict(test.features, 60)));
    expect(Array.from(a.head.predict(test.features, 60))).not.toEqual(Array.from(c.head.predict(test.features, 60)));
    [a, b, c].forEach((r) => r.head.dispose());
  });

  it('does not leak tensors', async () => {
    const before = tf.memory().numTensors;
    const { head } = await trainSoftmaxHead(train, test, { ...options, epochs: 2 });
    head.predict(test.features, 60);
    head.dispose();
    // The optimizer's slot variables are the only survivors, and they are bounded by the layer size.
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(6);
  });

  it('rejects invalid options with every problem named', async () => {
    await expect(trainSoftmaxHead(train, null, { ...options, epochs: 0, dropout: 1 })).rejects.toThrow(HeadOptionsError);
    await expect(trainSoftmaxHead(train, null, { ...options, epochs: 0, dropout: 1 })).rejects.toThrow(/dropout must be in \[0, 1\), got 1; epochs must be a positive integer, got 0/);
  });
});
