import type BinomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
import type TQuantile from '@stdlib/stats-base-dists-t-quantile';
import seedrandom from 'seedrandom';
import { MetricsInputError, confusionMatrix, macroF1 } from './classification';

// Loaded on first use: each @stdlib distribution is hundreds of small modules (a few tenths of a
// second at every start-up), and an experiment run uses neither.
let binomialCdfFn: typeof BinomialCdf | undefined;
let tQuantileFn: typeof TQuantile | undefined;
const binomialCdf = (x: number, n: number, p: number): number => (binomialCdfFn ??= require('@stdlib/stats-base-dists-binomial-cdf') as typeof BinomialCdf)(x, n, p);
const tQuantile = (p: number, df: number): number => (tQuantileFn ??= require('@stdlib/stats-base-dists-t-quantile') as typeof TQuantile)(p, df);

/** A point estimate with a two-sided interval. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
}

export interface BootstrapOptions {
  /** Number of resamples; at least 1000 for a 95% percentile interval to be stable. */
  resamples?: number;
  seed?: number | string;
  level?: number;
}

const DEFAULTS = { resamples: 2000, seed: 0, level: 0.95 };

/** Linear-interpolated quantile of sorted values (type 7, numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new MetricsInputError('quantile of no values');
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const fraction = position - lower;
  return lower + 1 < sorted.length ? sorted[lower] + fraction * (sorted[lower + 1] - sorted[lower]) : sorted[lower];
}

/**
 * Percentile bootstrap: resamples sample indices with replacement (seeded) and returns the
 * statistic on the full sample with the central `level` interval of the resampled statistics.
 */
export function bootstrapInterval(
  sampleSize: number,
  statistic: (indices: Uint32Array) => number,
  options: BootstrapOptions = {},
): Interval {
  return bootstrapIntervals(sampleSize, [statistic], options)[0];
}

/**
 * `bootstrapInterval` of several statistics over one stream of resamples: each interval equals the
 * one `bootstrapInterval` gives alone with the same options (the same seed draws the same indices),
 * for the price of drawing them once.
 */
export function bootstrapIntervals(
  sampleSize: number,
  statistics: readonly ((indices: Uint32Array) => number)[],
  options: BootstrapOptions = {},
): Interval[] {
  const { resamples, seed, level } = { ...DEFAULTS, ...options };
  if (sampleSize < 1) throw new MetricsInputError('bootstrap of zero samples is undefined');
  if (!Number.isInteger(resamples) || resamples < 1) throw new MetricsInputError(`resamples must be a positive integer, got ${resamples}`);
  const rng = seedrandom(`bootstrap:${seed}`);
  const identity = Uint32Array.from({ length: sampleSize }, (_, i) => i);
  const values = statistics.map(() => new Array<number>(resamples));
  const indices = new Uint32Array(sampleSize);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < sampleSize; i++) indices[i] = Math.floor(rng() * sampleSize);
    for (let s = 0; s < statistics.length; s++) values[s][r] = statistics[s](indices);
  }
  const alpha = (1 - level) / 2;
  return statistics.map((statistic, s) => {
    const sorted = values[s].sort((a, b) => a - b);
    return { estimate: statistic(identity), low: quantileSorted(sorted, alpha), high: quantileSorted(sorted, 1 - alpha), level };
  });
}

/** Bootstrap intervals of accuracy and macro-F1 of one set of predictions. */
export function bootstrapClassification(
  yTrue: readonly number[],
  yPred: readonly number[],
  numClasses: number,
  options: BootstrapOptions = {},
): { accuracy: Interval; macroF1: Interval } {
  if (yTrue.length !== yPred.length) throw new MetricsInputError(`got ${yTrue.length} labels but ${yPred.length} predictions`);
  confusionMatrix(yTrue, yPred, numClasses); // checks every label once; the statistics below index without checks
  const correct = Uint8Array.from(yTrue, (t, i) => (t === yPred[i] ? 1 : 0));
  const accuracyOf = (idx: Uint32Array): number => {
    let right = 0;
    for (let i = 0; i < idx.length; i++) right += correct[idx[i]];
    return right / idx.length;
  };
  // The same matrix confusionMatrix builds from the picked labels, so macroF1 sees equal counts.
  const macroF1Of = (idx: Uint32Array): number => {
    const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
    for (let i = 0; i < idx.length; i++) m[yTrue[idx[i]]][yPred[idx[i]]]++;
    return macroF1(m);
  };
  const [accuracy, f1] = bootstrapIntervals(yTrue.length, [accuracyOf, macroF1Of], options);
  return { accuracy, macroF1: f1 };
}

export interface PairedComparison {
  /** Accuracy of A minus accuracy of B, with its paired bootstrap interval. */
  accuracyDifference: Interval;
  /** Samples A got right and B wrong. */
  onlyACorrect: number;
  /** Samples B got right and A wrong. */
  onlyBCorrect: number;
  /** Exact (binomial) two-sided McNemar p-value. */
  mcnemarP: number;
}

/**
 * Exact McNemar test: under H0 the discordant pairs split 50/50, so
 * p = min(1, 2 * P(X <= min(b, c))) with X ~ Binomial(b + c, 0.5).
 */
export function mcnemarExact(onlyACorrect: number, onlyBCorrect: number): number {
  const n = onlyACorrect + onlyBCorrect;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialCdf(Math.min(onlyACorrect, onlyBCorrect), n, 0.5));
}

/** Compares two classifiers evaluated on the same samples (same order). */
export function comparePaired(
  yTrue: readonly number[],
  predA: readonly number[],
  predB: readonly number[],
  options: BootstrapOptions = {},
): PairedComparison {
  if (predA.length !== yTrue.length || predB.length !== yTrue.length) {
    throw new MetricsInputError(`paired comparison needs the same samples: ${yTrue.length} labels, ${predA.length} and ${predB.length} predictions`);
  }
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const a = predA[i] === yTrue[i];
    const b = predB[i] === yTrue[i];
    if (a && !b) onlyA++;
    if (b && !a) onlyB++;
  }
  const accuracyDifference = bootstrapInterval(yTrue.length, (idx) => {
    let diff = 0;
    for (const i of idx) diff += Number(predA[i] === yTrue[i]) - Number(predB[i] === yTrue[i]);
    return diff / idx.length;
  }, options);
  return { accuracyDifference, onlyACorrect: onlyA, onlyBCorrect: onlyB, mcnemarP: mcnemarExact(onlyA, onlyB) };
}

export interface SampleSummary {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  std: number;
  /** Student-t interval of the mean; null below two values. */
  interval: Interval | null;
}

/** Mean, standard deviation and t-interval of repeated measurements (e.g. one metric over seeds). */
export function summarizeSample(values: readonly number[], level = 0.95): SampleSummary {
  const n = values.length;
  if (n === 0) throw new MetricsInputError('summary of no values');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, std: 0, interval: null };
  const std = Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1));
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * (std / Math.sqrt(n));
  return { n, mean, std, interval: { estimate: mean, low: mean - half, high: mean + half, level } };
}
