import { shuffleInPlace } from '@mlbench/common';
import seedrandom from 'seedrandom';
import { MetricsInputError } from './classification';
import { confidentLearning, perClassThresholds, recoveryScores, stratifiedKFold } from './confident-learning';

// Hand-computed case: 3 classes, 6 images.
//   thresholds: t0 = (0.9 + 0.7) / 2 = 0.8, t1 = (0.8 + 0.1) / 2 = 0.45, t2 = (0.8 + 0.4) / 2 = 0.6
//   #0 [0.9 .05 .05] label 0: 0.9 >= 0.8                      -> ok, score 0.05 - 0.9 = -0.85
//   #1 [0.7 0.2 0.1] label 0: nothing reaches its threshold    -> no confident class,
//                             ratios 0.875, 0.444, 0.167       -> score 1 - 0.875 = 0.125
//   #2 [0.1 0.8 0.1] label 1: 0.8 >= 0.45                      -> ok
//   #3 [.85 0.1 .05] label 1: 0.85 >= 0.8 (class 0)            -> label issue 1 -> 0, score 0.85 - 0.1 = 0.75
//   #4 [0.1 0.1 0.8] label 2: ok
//   #5 [0.3 0.3 0.4] label 2: ratios 0.375, 0.667, 0.667       -> no confident class, score 1/3
const labels = [0, 0, 1, 1, 2, 2];
const probs = [
  [0.9, 0.05, 0.05],
  [0.7, 0.2, 0.1],
  [0.1, 0.8, 0.1],
  [0.85, 0.1, 0.05],
  [0.1, 0.1, 0.8],
  [0.3, 0.3, 0.4],
];

describe('perClassThresholds', () => {
  it('is the mean self-confidence per labelled class', () => {
    const t = perClassThresholds(labels, probs, 3);
    expect(t[0]).toBeCloseTo(0.8, 12);
    expect(t[1]).toBeCloseTo(0.45, 12);
    expect(t[2]).toBeCloseTo(0.6, 12);
  });
  it('gives a class nobody is labelled with an infinite threshold', () => {
    expect(perClassThresholds([0, 1], [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]], 3)[2]).toBe(Infinity);
  });
  it('rejects bad input with the sample named', () => {
    expect(() => perClassThresholds([0, 3], probs.slice(0, 2), 3)).toThrow(/label 3 of sample 1/);
    expect(() => perClassThresholds([0], [[0.5, 0.5]], 3)).toThrow(/row 0 has 2 values, expected 3/);
    expect(() => perClassThresholds([0, 1], [[0.5, 0.5, 0]], 3)).toThrow(MetricsInputError);
    expect(() => perClassThresholds([0], [[NaN, 0.5, 0.5]], 3)).toThrow(/NaN/);
    expect(() => perClassThresholds([], [], 3)).toThrow(/zero samples/);
  });
});

describe('confidentLearning', () => {
  const result = confidentLearning(labels, probs, 3);

  it('flags the confident off-label image with its suggested class and margin score', () => {
    expect(result.labelIssues).toEqual([3]);
    const v = result.verdicts[3];
    expect(v).toMatchObject({ index: 3, givenLabel: 1, suggestedLabel: 0, flag: 'label_issue', rank: 1 });
    expect(v.selfConfidence).toBeCloseTo(0.1, 12);
    expect(v.score).toBeCloseTo(0.75, 12);
  });

  it('ranks images with no confident class by how far they stay below the thresholds', () => {
    expect(result.noConfidentClass).toEqual([5, 1]);
    expect(result.verdicts[5].score).toBeCloseTo(1 / 3, 12);
    expect(result.verdicts[1].score).toBeCloseTo(0.125, 12);
    expect(result.verdicts[5]).toMatchObject({ flag: 'no_confident_class', suggestedLabel: null, rank: 1 });
    expect(result.verdicts[1].rank).toBe(2);
  });

  it('leaves the rest ok, unranked, with a negative margin score', () => {
    for (const i of [0, 2, 4]) expect(result.verdicts[i]).toMatchObject({ flag: 'ok', rank: null, suggestedLabel: null });
    expect(result.verdicts[0].score).toBeCloseTo(-0.85, 12);
  });

  it('counts label issues per (given, suggested) pair', () => {
    expect(result.pairCounts).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('finds injected label flips in separable blobs, and suggests the original class', () => {
    const rng = seedrandom('blobs');
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const centres = [
      [0, 0],
      [8, 0],
      [0, 8],
      [8, 8],
    ];
    const k = centres.length;
    const points: number[][] = [];
    const truth: number[] = [];
    for (let c = 0; c < k; c++) {
      for (let i = 0; i < 100; i++) {
        points.push([centres[c][0] + gauss(), centres[c][1] + gauss()]);
        truth.push(c);
      }
    }
    // Flip 5% of the labels (20 of 400) to another class, seeded.
    const given = [...truth];
    const order = shuffleInPlace(given.map((_, i) => i), rng);
    const flipped = order.slice(0, 20);
    for (const i of flipped) given[i] = (truth[i] + 1 + Math.floor(rng() * (k - 1))) % k;

    // Out-of-fold probabilities from a nearest-centroid softmax fitted on the other folds.
    const folds = stratifiedKFold(given, 5, 7);
    const oof: number[][] = new Array(points.length);
    for (let f = 0; f < 5; f++) {
      const sums = centres.map(() => [0, 0, 0]);
      points.forEach((p, i) => {
        if (folds[i] === f) return;
        sums[given[i]][0] += p[0];
        sums[given[i]][1] += p[1];
        sums[given[i]][2]++;
      });
      const means = sums.map(([x, y, n]) => [x / n, y / n]);
      points.forEach((p, i) => {
        if (folds[i] !== f) return;
        const logits = means.map((m) => -((p[0] - m[0]) ** 2 + (p[1] - m[1]) ** 2) / 2);
        const max = Math.max(...logits);
        const exp = logits.map((l) => Math.exp(l - max));
        const total = exp.reduce((a, b) => a + b, 0);
        oof[i] = exp.map((e) => e / total);
      });
    }

    const found = confidentLearning(given, oof, k);
    expect([...found.labelIssues].sort((a, b) => a - b)).toEqual([...flipped].sort((a, b) => a - b));
    for (const i of flipped) expect(found.verdicts[i].suggestedLabel).toBe(truth[i]);
    expect(recoveryScores(found.labelIssues, flipped)).toEqual({ precision: 1, recall: 1, flagged: 20, truePositives: 20, noisy: 20 });
    expect(found.pairCounts.flat().reduce((a, b) => a + b, 0)).toBe(20);
  });
});

describe('stratifiedKFold', () => {
  const y = [...new Array<number>(23).fill(0), ...new Array<number>(12).fill(1), ...new Array<number>(7).fill(2)];

  it('balances folds overall and per class', () => {
    const folds = stratifiedKFold(y, 5, 1);
    const sizes = [0, 1, 2, 3, 4].map((f) => folds.filter((x) => x === f).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(42);
    for (const c of [0, 1, 2]) {
      const perFold = [0, 1, 2, 3, 4].map((f) => folds.filter((x, i) => x === f && y[i] === c).length);
      expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
    }
  });

  it('is a function of labels and seed', () => {
    expect(stratifiedKFold(y, 5, 1)).toEqual(stratifiedKFold(y, 5, 1));
    expect(stratifiedKFold(y, 5, 1)).not.toEqual(stratifiedKFold(y, 5, 2));
  });

  it('rejects fewer than two folds or more folds than samples', () => {
    expect(() => stratifiedKFold(y, 1, 0)).toThrow(/folds must be an integer >= 2, got 1/);
    expect(() => stratifiedKFold([0, 1], 3, 0)).toThrow(/2 samples are too few for 3 folds/);
  });
});

describe('recoveryScores', () => {
  it('computes precision and recall of a flagged set', () => {
    expect(recoveryScores([1, 2, 3, 4], [2, 4, 6])).toEqual({ precision: 0.5, recall: 2 / 3, flagged: 4, truePositives: 2, noisy: 3 });
    expect(recoveryScores([], [1])).toMatchObject({ precision: 0, recall: 0 });
  });
});
