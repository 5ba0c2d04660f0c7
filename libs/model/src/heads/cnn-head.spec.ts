import { HeadOptionsError } from '../errors';
import { cnnArchitectureProblems, cnnParameterCount, cnnParameterShapes, type CnnArchitecture } from './cnn-architecture';
import { trainCnnHead } from './cnn-head';
import { createPixelExtractor, PIXEL_EXTRACTOR_ID } from '../pixel-extractor';
import { initBackend } from '../backend';
import { createHash } from 'node:crypto';

const study: CnnArchitecture = { inputShape: [32, 32, 3], blocks: [{ filters: 16 }, { filters: 32 }, { filters: 64 }], dense: 64, numClasses: 5 };

describe('CNN head architecture', () => {
  it('has the declared shapes: im2col kernels, a flatten of 4x4x64 after three 2x2 pools, dense 64, 5 logits', () => {
    expect(cnnParameterShapes(study)).toEqual([
      { name: 'conv1/kernel', shape: [27, 16] },
      { name: 'conv1/bias', shape: [16] },
      { name: 'conv2/kernel', shape: [144, 32] },
      { name: 'conv2/bias', shape: [32] },
      { name: 'conv3/kernel', shape: [288, 64] },
      { name: 'conv3/bias', shape: [64] },
      { name: 'dense/kernel', shape: [1024, 64] },
      { name: 'dense/bias', shape: [64] },
      { name: 'logits/kernel', shape: [64, 5] },
      { name: 'logits/bias', shape: [5] },
    ]);
    // 448 + 4640 + 18496 conv, 65600 dense, 325 logits: what Keras reports for the same network.
    expect(cnnParameterCount(study)).toBe(89_509);
    expect(cnnParameterCount({ ...study, inputShape: [64, 64, 3] })).toBe(286_117);
    expect(cnnParameterCount({ inputShape: [8, 8, 1], blocks: [{ filters: 2, kernel: 5 }], dense: 0, numClasses: 3 })).toBe(25 * 2 + 2 + 16 * 2 * 3 + 3);
  });

  it('names what is wrong with an architecture', () => {
    expect(cnnArchitectureProblems({ ...study, inputShape: [8, 8, 3], blocks: [{ filters: 4 }, { filters: 4 }, { filters: 4 }, { filters: 4 }] })).toEqual([
      '4 blocks halve a 8x8 input below 1 pixel; use fewer blocks or a larger preprocess.size',
    ]);
    expect(cnnArchitectureProblems({ ...study, blocks: [{ filters: 0, kernel: 2 }] })).toEqual(['blocks[0].filters must be a positive integer, got 0', 'blocks[0].kernel must be an odd positive integer, got 2']);
    expect(() => cnnParameterShapes({ ...study, blocks: [] })).toThrow(HeadOptionsError);
  });
});

describe('trainCnnHead', () => {
  beforeAll(async () => {
    await initBackend('auto');
  });

  // Two classes a CNN separates easily: a bright square top-left vs bottom-right, with noise.
  function dataset(n: number, seed: number): { features: Float32Array; labels: number[]; dim: number } {
    let state = seed;
    const rand = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const dim = 8 * 8;
    const features = new Float32Array(n * dim);
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % 2;
      labels.push(label);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const on = label === 0 ? x < 4 && y < 4 : x >= 4 && y >= 4;
          features[i * dim + y * 8 + x] = (on ? 1 : 0) + 0.2 * (rand() - 0.5);
        }
      }
    }
    return { features, labels, dim };
  }

  const options = { inputShape: [8, 8, 1] as const, blocks: [{ filters: 4 }], dense: 8, numClasses: 2, dropout: 0.1, optimizer: 'adam' as const, learningRate: 0.01, epochs: 6, batchSize: 8, seed: 3 };

  it('learns a separable task, counts its parameters, and is reproducible for a seed', async () => {
    const train = dataset(48, 1);
    const val = dataset(16, 2);
    const first = await trainCnnHead(train, val, options);
    const second = await trainCnnHead(train, val, options);
    try {
      expect(first.head.parameterCount).toBe(cnnParameterCount(options));
      expect(first.history).toHaveLength(6);
      expect(first.history[5].valAccuracy).toBe(1);
      expect(first.history.map((h) => h.loss)).toEqual(second.history.map((h) => h.loss));
      const probs = first.head.predict(val.features, 16);
      expect(Array.from(probs)).toEqual(Array.from(second.head.predict(val.features, 16)));
      for (let i = 0; i < 16; i++) expect(probs[2 * i] + probs[2 * i + 1]).toBeCloseTo(1, 5);
    } finally {
      first.head.dispose();
      second.head.dispose();
    }
  });

  it('refuses rows that are not pixels of the declared input, saying what to use', async () => {
    await expect(trainCnnHead({ features: new Float32Array(10), labels: [0, 1], dim: 5 }, null, options)).rejects.toThrow(/rows have 5 values but inputShape 8x8x1 needs 64: use the pixel extractor/);
  });
});

describe('pixel extractor', () => {
  it('returns the preprocessed pixels unchanged, with a backend-independent identity', async () => {
    const extractor = createPixelExtractor([2, 2, 3]);
    expect(extractor.description).toMatchObject({
      format: 'pixels',
      featureDim: 12,
      inputShape: [2, 2, 3],
      engine: 'pixels',
      backend: 'none',
      sha256: createHash('sha256').update(PIXEL_EXTRACTOR_ID).digest('hex'),
    });
    const pixels = Float32Array.from({ length: 24 }, (_, i) => i / 24 - 0.5);
    const out = await extractor.extract(pixels, 2);
    expect(Array.from(out)).toEqual(Array.from(pixels));
    expect(out).not.toBe(pixels);
    await expect(extractor.extract(pixels, 3)).rejects.toThrow('pixel extractor expects 3 x 2x2x3 = 36 float values, got 24');
    extractor.dispose();
    await expect(extractor.extract(pixels, 2)).rejects.toThrow('after dispose');
    expect(() => createPixelExtractor([0, 2, 3])).toThrow('three positive integers');
  });
});
