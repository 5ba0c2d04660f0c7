/**
 * Largest and smallest of many numbers without `Math.max(...values)`: a spread passes every value
 * as an argument, and a few hundred thousand of them (probabilities of a large audit, thousands
 * of classes) overflow the call stack. Same results as Math.max/Math.min, NaN included.
 */

export function maxOf(values: Iterable<number>): number {
  let max = -Infinity;
  for (const v of values) {
    if (Number.isNaN(v)) return NaN;
    if (v > max) max = v;
  }
  return max;
}

export function minOf(values: Iterable<number>): number {
  let min = Infinity;
  for (const v of values) {
    if (Number.isNaN(v)) return NaN;
    if (v < min) min = v;
  }
  return min;
}

/** Index of the largest value (the first on ties), -1 for none; NaN never wins. */
export function argMax(values: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 ? !Number.isNaN(values[i]) : values[i] > values[best]) best = i;
  return best;
}
