import { accuracy as accuracyOf, confusionMatrix, macroF1 as macroF1Of } from './classification';
import { bootstrapClassification, bootstrapInterval, comparePaired, mcnemarExact, quantileSorted, summarizeSample } from './statistics';

describe('quantileSorted', () => {
  it('interpolates linearly like numpy.quantile', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([7], 0.9)).toBe(7);
  });
});

describe('mcnemarExact', () => {
  it('matches the binomial textbook values', () => {
    // b=1, c=9: p = 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024
    expect(mcnemarExact(1, 9)).toBeCloseTo(22 / 1024, 12);
    expect(mcnemarExact(9, 1)).toBeCloseTo(22 / 1024, 12);
    // b=0, c=5: p = 2 / 32
    expect(mcnemarExact(0, 5)).toBeCloseTo(0.0625, 12);
    // balanced discordance is no evidence at all
    expect(mcnemarExact(4, 4)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
  });
});

describe('summarizeSample', () => {
  it('gives mean, sample std and the Student-t interval', () => {
    const s = summarizeSample([1, 2, 3, 4, 5]);
    expect(s.mean).toBe(3);
    expect(s.std).toBeCloseTo(Math.sqrt(2.5), 12);
    // t(0.975, 4) = 2.776445; half width = 2.776445 * sqrt(2.5) / sqrt(5) = 1.963243
    expect(s.interval?.low).toBeCloseTo(3 - 1.963243, 5);
    expect(s.interval?.high).toBeCloseTo(3 + 1.963243, 5);
  });
  it('has no interval for a single value', () => {
    expect(summarizeSample([0.9])).toEqual({ n: 1, mean: 0.9, std: 0, interval: null });
  });
});

describe('bootstrapInterval', () => {
  // 900 correct out of 1000: the normal approximation gives 0.9 +/- 1.96 * sqrt(0.09 / 1000) = +/- 0.0186.
  const correct = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 0 : 1));
  const mean = (idx: Uint32Array): number => Array.from(idx).reduce((s, i) => s + correct[i], 0) / idx.length;

  it('agrees with the normal approximation for a proportion', () => {
    const ci = bootstrapInterval(correct.length, mean, { resamples: 2000, seed: 1 });
    expect(ci.estimate).toBeCloseTo(0.9, 12);
    expect(ci.low).toBeGreaterThan(0.9 - 0.0186 - 0.004);
    expect(ci.low).toBeLessThan(0.9 - 0.0186 + 0.004);
    expect(ci.high).toBeGreaterThan(0.9 + 0.0186 - 0.004);
    expect(ci.high).toBeLessThan(0.9 + 0.0186 + 0.004);
  });

  it('is reproducible for a seed', () => {
    expect(bootstrapInterval(1000, mean, { seed: 3, resamples: 1000 })).toEqual(bootstrapInterval(1000, mean, { seed: 3, resamples: 1000 }));
    expect(bootstrapInterval(1000, mean, { seed: 3, resamples: 1000 })).not.toEqual(bootstrapInterval(1000, mean, { seed: 4, resamples: 1000 }));
  });
});

describe('bootstrapClassification', () => {
  it('brackets accuracy and macro-F1 of the full sample', () => {
    const yTrue = Array.from({ length: 300 }, (_, i) => i % 3);
    const yPred = yTrue.map((y, i) => (i % 7 === 0 ? (y + 1) % 3 : y));
    const { accuracy, macroF1 } = bootstrapClassification(yTrue, yPred, 3, { resamples: 1000, seed: 2 });
    expect(accuracy.estimate).toBeCloseTo(1 - 43 / 300, 12);
    expect(accuracy.low).toBeLessThan(accuracy.estimate);
    expect(accuracy.high).toBeGreaterThan(accuracy.estimate);
    expect(macroF1.low).toBeLessThan(macroF1.estimate);
    expect(macroF1.high).toBeGreaterThan(macroF1.estimate);
  });

  it('gives exactly the intervals of each statistic bootstrapped alone', () => {
    const yTrue = Array.from({ length: 257 }, (_, i) => (i * 7) % 4);
    const yPred = yTrue.map((y, i) => (i % 5 === 0 ? (y + i) % 4 : y));
    const options = { resamples: 500, seed: 11 };
    const pick = (idx: Uint32Array, from: number[]): number[] => Array.from(idx, (i) => from[i]);
    const both = bootstrapClassification(yTrue, yPred, 4, options);
    expect(both.accuracy).toEqual(bootstrapInterval(yTrue.length, (idx) => accuracyOf(pick(idx, yTrue), pick(idx, yPred)), options));
    expect(both.macroF1).toEqual(bootstrapInterval(yTrue.length, (idx) => macroF1Of(confusionMatrix(pick(idx, yTrue), pick(idx, yPred), 4)), options));
    expect(() => bootstrapClassification([0, 1], [0, 4], 4)).toThrow('label 4 is not an integer in [0, 4)');
  });
});

describe('comparePaired', () => {
  it('counts discordant pairs, tests them and bounds the accuracy difference', () => {
    const yTrue = Array.from({ length: 200 }, () => 1);
    // A wrong on 10 samples, B wrong on 30 (including A's 10): A only-correct on 20.
    const predA = yTrue.map((y, i) => (i < 10 ? 0 : y));
    const predB = yTrue.map((y, i) => (i < 30 ? 0 : y));
    const result = comparePaired(yTrue, predA, predB, { resamples: 1000, seed: 5 });
    expect(result.onlyACorrect).toBe(20);
    expect(result.onlyBCorrect).toBe(0);
    expect(result.mcnemarP).toBeCloseTo(2 * 0.5 ** 20, 15);
    expect(result.accuracyDifference.estimate).toBeCloseTo(0.1, 12);
    expect(result.accuracyDifference.low).toBeGreaterThan(0);
  });
});
