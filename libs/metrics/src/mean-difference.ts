import type TCdf from '@stdlib/stats-base-dists-t-cdf';
import type TQuantile from '@stdlib/stats-base-dists-t-quantile';
import { MetricsInputError } from './classification';

// Loaded on first use (see statistics.ts): an experiment run uses neither.
let tCdfFn: typeof TCdf | undefined;
let tQuantileFn: typeof TQuantile | undefined;
const tCdf = (t: number, df: number): number => (tCdfFn ??= require('@stdlib/stats-base-dists-t-cdf') as typeof TCdf)(t, df);
const tQuantile = (p: number, df: number): number => (tQuantileFn ??= require('@stdlib/stats-base-dists-t-quantile') as typeof TQuantile)(p, df);

/**
 * Tests on the difference of two means (candidate minus baseline), e.g. test accuracy over
 * seeds: paired t when both were measured on the same units (seeds with the same split),
 * Welch's unequal-variance t otherwise. Pure functions, no I/O.
 */
export type MeanDifferenceTestName = 'paired-t' | 'welch-t';

export interface MeanDifference {
  test: MeanDifferenceTestName;
  /** Values of the candidate and of the baseline (pairs for the paired test). */
  n: { candidate: number; baseline: number };
  meanCandidate: number;
  meanBaseline: number;
  /** meanCandidate - meanBaseline. */
  difference: number;
  /** Standard error of the difference; 0 when every paired difference is the same. */
  standardError: number;
  /** Degrees of freedom: n - 1 (paired) or Welch-Satterthwaite (may be fractional). */
  df: number;
}

export interface NonInferiority {
  /** The largest loss tolerated (in the metric's units, e.g. 0.01 = 1 point of accuracy). */
  margin: number;
  alpha: number;
  /** One-sided (1 - alpha) lower confidence bound of the difference. */
  lowerBound: number;
  /** t statistic of H0 "difference <= -margin"; +-Infinity when the standard error is 0. */
  statistic: number;
  /** One-sided p-value of H0 "the candidate is worse by at least the margin". */
  pValue: number;
  /** True when H0 is rejected at alpha (equivalently: lowerBound > -margin). */
  nonInferior: boolean;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
/** Sample variance (n - 1). */
export function sampleVariance(values: readonly number[]): number {
  if (values.length < 2) throw new MetricsInputError(`a variance needs at least 2 values, got ${values.length}`);
  const m = mean(values);
  return values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1);
}

/** Student t cumulative distribution function (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new MetricsInputError(`degrees of freedom must be positive, got ${df}`);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  return tCdf(t, df);
}

/** Quantile q of the Student t distribution. */
export function studentTQuantile(q: number, df: number): number {
  if (!(df > 0)) throw new MetricsInputError(`degrees of freedom must be positive, got ${df}`);
  if (!(q > 0 && q < 1)) throw new MetricsInputError(`quantile must be in (0, 1), got ${q}`);
  return tQuantile(q, df);
}

/** Welch-Satterthwaite degrees of freedom of two independent samples' mean difference. */
export function welchDegreesOfFreedom(variance1: number, n1: number, variance2: number, n2: number): number {
  const a = variance1 / n1;
  const b = variance2 / n2;
  if (a + b === 0) return n1 + n2 - 2;
  return (a + b) ** 2 / (a ** 2 / (n1 - 1) + b ** 2 / (n2 - 1));
}

/** Paired difference of means: candidate[i] and baseline[i] share unit i (e.g. a seed and its split). */
export function pairedMeanDifference(candidate: readonly number[], baseline: readonly number[]): MeanDifference {
  if (candidate.length !== baseline.length) throw new MetricsInputError(`paired test needs as many baseline as candidate values: ${candidate.length} vs ${baseline.length}`);
  if (candidate.length < 2) throw new MetricsInputError(`paired test needs at least 2 pairs, got ${candidate.length}`);
  const differences = candidate.map((c, i) => c - baseline[i]);
  return {
    test: 'paired-t',
    n: { candidate: candidate.length, baseline: baseline.length },
    meanCandidate: mean(candidate),
    meanBaseline: mean(baseline),
    difference: mean(differences),
    standardError: Math.sqrt(sampleVariance(differences) / differences.length),
    df: differences.length - 1,
  };
}

/** Welch's difference of means of two independent samples (unequal variances). */
export function welchMeanDifference(candidate: readonly number[], baseline: readonly number[]): MeanDifference {
  if (candidate.length < 2 || baseline.length < 2) {
    throw new MetricsInputError(`Welch test needs at least 2 values per group, got ${candidate.length} and ${baseline.length}`);
  }
  const v1 = sampleVariance(candidate);
  const v2 = sampleVariance(baseline);
  const meanCandidate = mean(candidate);
  const meanBaseline = mean(baseline);
  return {
    test: 'welch-t',
    n: { candidate: candidate.length, baseline: baseline.length },
    meanCandidate,
    meanBaseline,
    difference: meanCandidate - meanBaseline,
    standardError: Math.sqrt(v1 / candidate.length + v2 / baseline.length),
    df: welchDegreesOfFreedom(v1, candidate.length, v2, baseline.length),
  };
}

/**
 * One-sided non-inferiority: H0 difference <= -margin against H1 difference > -margin.
 * With a zero standard error (identical differences) the test is degenerate: the bound is the
 * difference itself and p is 0 or 1.
 */
export function nonInferiority(d: MeanDifference, margin: number, alpha = 0.05): NonInferiority {
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new MetricsInputError(`margin must be a non-negative number, got ${margin}`);
  if (!(alpha > 0 && alpha < 0.5)) throw new MetricsInputError(`alpha must be in (0, 0.5), got ${alpha}`);
  if (d.standardError === 0) {
    const nonInferior = d.difference > -margin;
    return { margin, alpha, lowerBound: d.difference, statistic: nonInferior ? Infinity : -Infinity, pValue: nonInferior ? 0 : 1, nonInferior };
  }
  const statistic = (d.difference + margin) / d.standardError;
  const pValue = 1 - studentTCdf(statistic, d.df);
  const lowerBound = d.difference - studentTQuantile(1 - alpha, d.df) * d.standardError;
  return { margin, alpha, lowerBound, statistic, pValue, nonInferior: pValue < alpha };
}

/** Two-sided p-value of H0 "no difference" (1 when the standard error is 0 and the difference is 0). */
export function twoSidedPValue(d: MeanDifference): number {
  if (d.standardError === 0) return d.difference === 0 ? 1 : 0;
  const t = Math.abs(d.difference / d.standardError);
  return Math.min(1, 2 * (1 - studentTCdf(t, d.df)));
}

/** Two-sided t confidence interval of the difference. */
export function differenceInterval(d: MeanDifference, level = 0.95): { low: number; high: number; level: number } {
  const half = d.standardError === 0 ? 0 : studentTQuantile(1 - (1 - level) / 2, d.df) * d.standardError;
  return { low: d.difference - half, high: d.difference + half, level };
}
