/**
 * The evaluation of one split as a benchmark records it, beside its classification report: the
 * seeded percentile-bootstrap 95% intervals (2000 resamples) of accuracy and macro-F1, and the
 * report of a subset (the images an audit did not flag). Used on a trained head's outputs and on stored predictions alike, so both
 * give the same numbers.
 */
import { argmax, classificationReport, type ClassificationReport } from './classification';
import { bootstrapClassification, type Interval } from './statistics';

/** Resamples and level of the intervals of every split evaluation. */
export const SPLIT_BOOTSTRAP = { resamples: 2000, level: 0.95 } as const;

export interface SplitIntervals {
  accuracy: Interval;
  macroF1: Interval;
}

/** Seeded bootstrap intervals of a split's accuracy and macro-F1 (the predicted class of a row is its argmax). */
export function splitIntervals(labels: readonly number[], rows: readonly (readonly number[])[], numClasses: number, seed: string): SplitIntervals {
  const { accuracy, macroF1 } = bootstrapClassification(labels, rows.map((r) => argmax(r)), numClasses, { resamples: SPLIT_BOOTSTRAP.resamples, seed, level: SPLIT_BOOTSTRAP.level });
  return { accuracy, macroF1 };
}

/** The report of the rows `keep` selects (e.g. the images an audit did not flag); null when it keeps none. */
export function subsetReport(labels: readonly number[], rows: readonly (readonly number[])[], numClasses: number, keep: (row: number) => boolean): ClassificationReport | null {
  const kept = labels.flatMap((_, i) => (keep(i) ? [i] : []));
  if (kept.length === 0) return null;
  return classificationReport(
    kept.map((i) => labels[i]),
    kept.map((i) => rows[i]),
    numClasses,
  );
}
