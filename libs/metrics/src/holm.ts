import { MetricsInputError } from './classification';

/**
 * Holm's step-down adjustment of p-values for multiple comparisons (controls the family-wise
 * error rate): the i-th smallest of m p-values is multiplied by (m - i + 1), made monotone and
 * capped at 1. Returned in the input order.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  for (const p of pValues) if (!(p >= 0 && p <= 1)) throw new MetricsInputError(`p-values must be in [0, 1], got ${p}`);
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
