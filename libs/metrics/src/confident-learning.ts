/**
 * Confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in
 * Dataset Labels", JAIR 2021), as pure functions over out-of-fold class probabilities.
 *
 * - The threshold of class j is the mean probability of j over the images labelled j (their mean
 *   self-confidence). A class nobody is labelled with gets threshold +Infinity (never confident).
 * - An image's confident classes are those whose probability reaches their threshold
 *   (p[j] >= t[j]); its confident class is the most probable of them (lowest index on a tie).
 * - `label_issue`: the confident class differs from the given label; it is the suggested label.
 *   Score = p[suggested] - p[given] (the margin, in (-1, 1]; higher = more suspicious).
 * - `no_confident_class`: no class reaches its threshold (often off-distribution: no flower at
 *   all, or several). Score = 1 - max_j p[j] / t[j], in (0, 1]: how far the best class stays
 *   below its threshold, relative to it.
 * - `ok`: the confident class is the given label. Score = max_{j != given} p[j] - p[given]
 *   (usually negative), so "higher = more suspicious" holds on one scale for every image.
 *
 * Ranks are 1-based within each flag kind, by score descending (ties: lower index first); ok
 * images have no rank.
 */

import { groupByClass, shuffleInPlace, type AuditFlag, type LabelVerdict } from '@mlbench/common';
import seedrandom from 'seedrandom';
import { MetricsInputError } from './classification';

export type { AuditFlag } from '@mlbench/common';

/** The verdict on the image at `index` of the input arrays (see the module comment for each flag and score). */
export interface AuditVerdict extends LabelVerdict {
  index: number;
}

export interface ConfidentLearningResult {
  /** Per class: mean self-confidence of the images labelled with it (+Infinity for an empty class). */
  thresholds: number[];
  /** One verdict per input image, in input order. */
  verdicts: AuditVerdict[];
  /** Indices of label issues, most suspicious first. */
  labelIssues: number[];
  /** Indices of images with no confident class, most suspicious first. */
  noConfidentClass: number[];
  /** Label issues counted by [given][suggested] (the diagonal is always 0). */
  pairCounts: number[][];
}

function checkProbabilities(labels: readonly number[], probabilities: readonly (readonly number[])[], numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new MetricsInputError(`numClasses must be an integer >= 2, got ${numClasses}`);
  if (labels.length !== probabilities.length) {
    throw new MetricsInputError(`labels and probabilities differ in length: ${labels.length} labels vs ${probabilities.length} probability rows`);
  }
  if (labels.length === 0) throw new MetricsInputError('confident learning of zero samples');
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new MetricsInputError(`label ${y} of sample ${i} is not an integer in [0, ${numClasses})`);
    const row = probabilities[i];
    if (row.length !== numClasses) throw new MetricsInputError(`probability row ${i} has ${row.length} values, expected ${numClasses}`);
    for (const p of row) if (!(p >= 0 && p <= 1)) throw new MetricsInputError(`probability row ${i} holds ${p}, expected values in [0, 1]`);
  });
}

/** Per-class thresholds: the mean probability of class j over the samples labelled j. */
export function perClassThresholds(labels: readonly number[], probabilities: readonly (readonly number[])[], numClasses: number): number[] {
  checkProbabilities(labels, probabilities, numClasses);
  const sums = new Array<number>(numClasses).fill(0);
  const counts = new Array<number>(numClasses).fill(0);
  labels.forEach((y, i) => {
    sums[y] += probabilities[i][y];
    counts[y]++;
  });
  return sums.map((s, j) => (counts[j] > 0 ? s / counts[j] : Infinity));
}

/** Flags likely label errors from out-of-fold probabilities (see the module comment). */
export function confidentLearning(labels: readonly number[], probabilities: readonly (readonly number[])[], numClasses: number): ConfidentLearningResult {
  const thresholds = perClassThresholds(labels, probabilities, numClasses);
  const verdicts: AuditVerdict[] = labels.map((given, index) => {
    const p = probabilities[index];
    let confident = -1;
    let bestRatio = -Infinity;
    for (let j = 0; j < numClasses; j++) {
      if (p[j] >= thresholds[j] && (confident < 0 || p[j] > p[confident])) confident = j;
      const ratio = thresholds[j] > 0 ? p[j] / thresholds[j] : p[j] >= thresholds[j] ? Infinity : 0;
      if (ratio > bestRatio) bestRatio = ratio;
    }
    const selfConfidence = p[given];
    if (confident < 0) {
      return { index, givenLabel: given, suggestedLabel: null, selfConfidence, score: 1 - bestRatio, rank: null, flag: 'no_confident_class' as const };
    }
    if (confident !== given) {
      return { index, givenLabel: given, suggestedLabel: confident, selfConfidence, score: p[confident] - selfConfidence, rank: null, flag: 'label_issue' as const };
    }
    let other = 0;
    for (let j = 0; j < numClasses; j++) if (j !== given && p[j] > other) other = p[j];
    return { index, givenLabel: given, suggestedLabel: null, selfConfidence, score: other - selfConfidence, rank: null, flag: 'ok' as const };
  });

  const ranked = (flag: AuditFlag): number[] => {
    const indices = verdicts.filter((v) => v.flag === flag).sort((a, b) => b.score - a.score || a.index - b.index).map((v) => v.index);
    indices.forEach((index, k) => (verdicts[index].rank = k + 1));
    return indices;
  };
  const labelIssues = ranked('label_issue');
  const noConfidentClass = ranked('no_confident_class');
  const pairCounts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (const index of labelIssues) {
    const v = verdicts[index];
    if (v.suggestedLabel !== null) pairCounts[v.givenLabel][v.suggestedLabel]++;
  }
  return { thresholds, verdicts, labelIssues, noConfidentClass, pairCounts };
}

/**
 * Seeded stratified k-fold assignment: the fold (0..k-1) of every sample. Each class's members are
 * shuffled and dealt round-robin, continuing where the previous class stopped, so every fold gets
 * within one sample of n/k overall and of each class's share. Same labels + seed => same folds.
 */
export function stratifiedKFold(labels: readonly number[], folds: number, seed: number | string): number[] {
  if (!Number.isInteger(folds) || folds < 2) throw new MetricsInputError(`folds must be an integer >= 2, got ${folds}`);
  if (labels.length < folds) throw new MetricsInputError(`${labels.length} samples are too few for ${folds} folds; use at most ${labels.length} folds`);
  const rng = seedrandom(`kfold:${seed}`);
  const assignment = new Array<number>(labels.length);
  let next = 0;
  for (const [, members] of groupByClass(labels)) {
    for (const index of shuffleInPlace(members, rng)) {
      assignment[index] = next;
      next = (next + 1) % folds;
    }
  }
  return assignment;
}

/** Precision and recall of `flagged` against the truly noisy set (for benchmarks with injected noise). */
export function recoveryScores(flagged: Iterable<number>, truth: Iterable<number>): { precision: number; recall: number; flagged: number; truePositives: number; noisy: number } {
  const truthSet = new Set(truth);
  const flaggedSet = new Set(flagged);
  let truePositives = 0;
  for (const i of flaggedSet) if (truthSet.has(i)) truePositives++;
  return {
    precision: flaggedSet.size > 0 ? truePositives / flaggedSet.size : 0,
    recall: truthSet.size > 0 ? truePositives / truthSet.size : 0,
    flagged: flaggedSet.size,
    truePositives,
    noisy: truthSet.size,
  };
}
