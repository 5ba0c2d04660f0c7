import { decideSeedGate, type SeedGateOptions } from './seed-gate';
import { GateInputError } from './gate-input-error';
import { fakeSeedResult } from './testing/fake-seed-result';

const options: SeedGateOptions = { metric: 'test.accuracy', margin: 0.01, alpha: 0.05, minSeeds: 3, decideBy: 'seeds', resamples: 500 };
const group = (correct: number[], seeds = [1, 2, 3], extra: Parameters<typeof fakeSeedResult>[0] extends infer T ? Partial<T> : never = {}) =>
  seeds.map((seed, i) => fakeSeedResult({ seed, correct: correct[i], ...extra }));
const gate = (candidate: ReturnType<typeof group>, baseline: ReturnType<typeof group>, o: Partial<SeedGateOptions> = {}) =>
  decideSeedGate({ source: 'candidate', results: candidate }, { source: 'baseline', results: baseline }, { ...options, ...o });

describe('decideSeedGate', () => {
  it('passes a candidate equal to the baseline within noise, paired by seed', () => {
    // Accuracies per seed (of 200): baseline 180, 178, 182; candidate 181, 177, 183 -> differences +0.5, -0.5, +0.5 points.
    const v = gate(group([181, 177, 183]), group([180, 178, 182]));
    expect(v.paired).toBe(true);
    expect(v.seedTest.test).toBe('paired-t');
    expect(v.seedTest.difference).toBeCloseTo(0.005 / 3, 12);
    // sd of (0.005, -0.005, 0.005) = 0.0057735, se = 0.0033333; t = (0.0016667 + 0.01) / 0.0033333 = 3.5 on 2 df.
    expect(v.seedTest.statistic).toBeCloseTo(3.5, 8);
    expect(v.seedTest.pValue).toBeCloseTo(0.5 - 3.5 / (2 * Math.sqrt(3.5 ** 2 + 2)), 8);
    expect(v.pass).toBe(true);
    expect(v.summary).toMatch(/^PASS: the candidate is not worse than the baseline by more than 1\.00 point of test accuracy/);
    expect(v.seeds.map((s) => s.seed)).toEqual([1, 2, 3]);
    expect(v.imageTest?.pooled.count).toBe(600);
  });

  it('fails a clearly worse candidate and says it is a regression', () => {
    const v = gate(group([170, 168, 171]), group([180, 178, 182]));
    expect(v.seedTest.difference).toBeCloseTo(-(10 + 10 + 11) / 600, 12);
    expect(v.pass).toBe(false);
    expect(v.seedTest.pValue).toBeGreaterThan(0.5);
    expect(v.summary).toMatch(/^FAIL: regression\. The candidate is worse than the baseline by 5\.17 points/);
    expect(v.imageTest?.nonInferior).toBe(false);
  });

  it('fails an uncertain candidate and asks for more seeds', () => {
    // Differences +2, -3, +0.5 points: mean -0.17, very noisy.
    const v = gate(group([184, 172, 183]), group([180, 178, 182]));
    expect(v.pass).toBe(false);
    expect(v.summary).toMatch(/cannot be ruled out.*run more seeds/);
  });

  it('uses Welch when the groups share no seed', () => {
    const v = gate(group([181, 177, 183], [4, 5, 6]), group([180, 178, 182]));
    expect(v.paired).toBe(false);
    expect(v.seedTest.test).toBe('welch-t');
    expect(v.pairing).toMatch(/share no seed/);
    expect(v.imageTest).toBeNull();
    expect(() => gate(group([181, 177, 183], [4, 5, 6]), group([180, 178, 182]), { decideBy: 'images' })).toThrow(/needs paired seeds/);
  });

  it('pairs over the seeds in common and notes the others', () => {
    const v = gate(group([181, 177, 183]), group([180, 178, 182, 179, 181], [1, 2, 3, 4, 5]));
    expect(v.paired).toBe(true);
    expect(v.notes.join(' ')).toMatch(/baseline seeds not run by the candidate, not used: 4, 5/);
  });

  it('refuses different data, split fractions and a different split for the same seed', () => {
    const otherData = group([181, 177, 183], [1, 2, 3], { task: { datasetFingerprint: 'cd'.repeat(32) } });
    expect(() => gate(otherData, group([180, 178, 182]))).toThrow(/cannot compare: different data: candidate dataset fingerprint cdcdcdcdcdcd, baseline abababababab/);
    const otherSplit = group([181, 177, 183], [1, 2, 3], { task: { split: { train: 0.6, val: 0.2, test: 0.2 } } });
    expect(() => gate(otherSplit, group([180, 178, 182]))).toThrow(/different split fractions: candidate train 0\.6 \/ val 0\.2 \/ test 0\.2, baseline train 0\.7/);
    const resplit = group([181, 177, 183], [1, 2, 3], { splitHash: 'other' });
    expect(() => gate(resplit, group([180, 178, 182]))).toThrow(/seed 1 split the data differently/);
  });

  it('refuses duplicate seeds, configurations that differ by more than the seed, and too few seeds', () => {
    expect(() => gate(group([181, 177, 183], [1, 1, 3]), group([180, 178, 182]))).toThrow(/candidate: seed 1 appears 2 times .* exactly one run per seed/);
    const mixed = [fakeSeedResult({ seed: 1, correct: 180 }), fakeSeedResult({ seed: 2, correct: 180, config: { name: 'fake', train: { learningRate: 0.01 } } }), fakeSeedResult({ seed: 3, correct: 180 })];
    expect(() => gate(mixed, group([180, 178, 182]))).toThrow(/differ in more than the seed \(train\.learningRate: 0\.001 vs 0\.01\)/);
    expect(() => gate(group([181, 177], [1, 2]), group([180, 178, 182]))).toThrow(GateInputError);
    expect(() => gate(group([181, 177], [1, 2]), group([180, 178, 182]))).toThrow(/candidate: 2 seeds \(1, 2\); the gate needs at least 3 \(--min-seeds\)/);
  });

  it('names config changes between baseline and candidate', () => {
    const v = gate(group([170, 168, 171], [1, 2, 3], { config: { name: 'fake', train: { learningRate: 0.1 } } }), group([180, 178, 182]));
    expect(v.configDifferences).toEqual(['train.learningRate: 0.001 vs 0.1']);
    // Paths compare by file name: another checkout is no change, another model is.
    const at = (source: string) => group([180, 178, 182], [1, 2, 3], { config: { name: 'fake', model: { extractor: { source } } } });
    expect(gate(at('/ci/models/v2.tflite'), at('/home/me/models/v2.tflite')).configDifferences).toEqual([]);
    expect(gate(at('/ci/models/v1.tflite'), at('v2.tflite')).configDifferences).toEqual(['model.extractor.source: v2.tflite vs v1.tflite']);
  });
});
