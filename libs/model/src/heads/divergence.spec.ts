/** A learning rate that blows the weights up fails training at the epoch it happens, for every head. */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { TrainingDivergedError } from '../errors';
import { trainCnnHead } from './cnn-head';
import { trainSoftmaxHead } from './softmax-head';
import { checkProbabilitiesFinite, type FeatureSet } from './training';

function rows(count: number, dim: number, seed: string): FeatureSet {
  const rng = seedrandom(seed);
  const labels = Array.from({ length: count }, (_, i) => i % 3);
  const features = Float32Array.from({ length: count * dim }, (_, i) => (i % dim === labels[Math.floor(i / dim)] ? 2 : 0) + rng());
  return { features, labels, dim };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('the softmax head with learningRate 1e300 fails at its first epoch, reporting none', async () => {
  const reported: number[] = [];
  const err = await trainSoftmaxHead(rows(30, 6, 't'), rows(9, 6, 'v'), {
    numClasses: 3, dropout: 0, l2: 0, optimizer: 'adam', learningRate: 1e300, epochs: 3, batchSize: 8, seed: 1,
  }, { onEpoch: (m) => void reported.push(m.epoch) }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TrainingDivergedError);
  expect((err as TrainingDivergedError).epoch).toBe(1);
  expect((err as Error).message).toMatch(/^training diverged at epoch 1 of 3: the (training|validation) loss is NaN.*\(learning rate 1e\+300, adam\); lower train\.learningRate/);
  expect(reported).toEqual([]);
});

it('the CNN head with learningRate 1e300 fails the same way', async () => {
  const err = await trainCnnHead(rows(12, 4 * 4 * 3, 't'), null, {
    inputShape: [4, 4, 3], blocks: [{ filters: 2 }], dense: 0, numClasses: 3,
    dropout: 0, optimizer: 'sgd', learningRate: 1e300, epochs: 2, batchSize: 4, seed: 1,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TrainingDivergedError);
  expect((err as Error).message).toMatch(/training diverged at epoch \d of 2: the training loss is (NaN|Infinity)/);
});

it('non-finite probabilities are refused', () => {
  expect(() => checkProbabilitiesFinite(Float32Array.from([0.5, 0.5, NaN]), 'the test split')).toThrow(/non-finite probabilities \(NaN\) for the test split/);
  expect(() => checkProbabilitiesFinite([0.2, 0.8], 'x')).not.toThrow();
});
