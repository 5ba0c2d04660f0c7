import seedrandom from 'seedrandom';
import { MetricsInputError } from './classification';
import { quantileSorted, mcnemarExact } from './statistics';

/** One stratum of paired outcomes, e.g. the test images of one seed: was each image right? */
export interface PairedStratum {
  candidateCorrect: readonly boolean[];
  baselineCorrect: readonly boolean[];
}

export interface PooledPairedResult {
  /** Images over all strata. */
  count: number;
  /** Pooled accuracy of the candidate minus the baseline's. */
  difference: number;
  /** Images only the candidate got right, and only the baseline. */
  onlyCandidateCorrect: number;
  onlyBaselineCorrect: number;
  /** Exact two-sided McNemar p-value over the pooled discordant pairs (H0: no difference). */
  mcnemarP: number;
  /** One-sided (1 - alpha) percentile-bootstrap lower bound of the difference. */
  lowerBound: number;
  /** Bootstrap p-value of H0 "difference <= -margin": (resamples at or below -margin + 1) / (resamples + 1). */
  pValue: number;
  nonInferior: boolean;
  margin: number;
  alpha: number;
  resamples: number;
}

/**
 * Pools paired per-image outcomes over strata (seeds) and tests non-inferiority with a
 * stratified paired bootstrap: each resample draws images with replacement within each stratum,
 * so every seed keeps its size. Seeded, so the verdict is reproducible.
 */
export function pooledPairedNonInferiority(
  strata: readonly PairedStratum[],
  options: { margin: number; alpha?: number; resamples?: number; seed?: number | string },
): PooledPairedResult {
  const { margin, alpha = 0.05, resamples = 2000, seed = 0 } = options;
  if (!(margin >= 0)) throw new MetricsInputError(`margin must be a non-negative number, got ${margin}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new MetricsInputError(`resamples must be a positive integer, got ${resamples}`);
  // Per image: +1 only the candidate right, -1 only the baseline, 0 both or neither.
  const deltas = strata.map((s, k) => {
    if (s.candidateCorrect.length !== s.baselineCorrect.length) {
      throw new MetricsInputError(`stratum ${k}: ${s.candidateCorrect.length} candidate but ${s.baselineCorrect.length} baseline outcomes`);
    }
    return Int8Array.from(s.candidateCorrect, (c, i) => Number(c) - Number(s.baselineCorrect[i]));
  });
  const count = deltas.reduce((n, d) => n + d.length, 0);
  if (count === 0) throw new MetricsInputError('pooled paired test of zero images');
  let onlyCandidate = 0;
  let onlyBaseline = 0;
  for (const d of deltas) for (const x of d) (x > 0 ? (onlyCandidate += 1) : x < 0 ? (onlyBaseline += 1) : 0);
  const difference = (onlyCandidate - onlyBaseline) / count;

  const rng = seedrandom(`pooled-paired:${seed}`);
  const values = new Array<number>(resamples);
  let atOrBelow = 0;
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (const d of deltas) for (let i = 0; i < d.length; i++) sum += d[Math.floor(rng() * d.length)];
    values[r] = sum / count;
    if (values[r] <= -margin) atOrBelow++;
  }
  values.sort((a, b) => a - b);
  const pValue = (atOrBelow + 1) / (resamples + 1);
  return {
    count,
    difference,
    onlyCandidateCorrect: onlyCandidate,
    onlyBaselineCorrect: onlyBaseline,
    mcnemarP: mcnemarExact(onlyCandidate, onlyBaseline),
    lowerBound: quantileSorted(values, alpha),
    pValue,
    nonInferior: pValue < alpha,
    margin,
    alpha,
    resamples,
  };
}
