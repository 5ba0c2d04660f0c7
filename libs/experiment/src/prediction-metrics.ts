import { classificationReport, splitIntervals } from '@mlbench/metrics';
import { cleanFigures, intervalFigures, perClassFigures, reportFigures, type Figure } from './split-figures';

/** One stored per-image prediction, as recomputation needs it. */
export interface StoredPrediction {
  path: string;
  split: string;
  trueLabel: number;
  predictedLabel: number;
  probabilities: readonly number[];
}

export interface RecomputeOptions {
  /** The run's seed: the bootstrap intervals are seeded with `<seed>:<split>`. */
  seed: number;
  classes: readonly string[];
  /** Paths flagged as label issues by the run's audit: `<split>_clean.*` leaves them out. Null: no audit. */
  labelIssues?: ReadonlySet<string> | null;
  /** Also recompute the 2000-resample bootstrap intervals (`*.ci_low`/`*.ci_high`); slower. */
  intervals?: boolean;
}

/**
 * Every final metric a run derives from its stored predictions (val and test; train predictions
 * are not stored), computed as evaluation.ts computes them from the head's outputs (same metric
 * functions and figures, split-figures.ts; kept apart because evaluation.ts loads the model): accuracy, macro-F1, log loss,
 * count, per-class precision/recall/F1, optionally the seeded bootstrap intervals, and the
 * `_clean` metrics without the audit's label issues.
 */
export function metricsFromPredictions(predictions: readonly StoredPrediction[], options: RecomputeOptions): Record<string, number> {
  const k = options.classes.length;
  const out: Record<string, number> = {};
  for (const split of ['val', 'test'] as const) {
    const rows = predictions.filter((p) => p.split === split);
    if (rows.length === 0) continue;
    const labels = rows.map((p) => p.trueLabel);
    const probabilities = rows.map((p) => p.probabilities);
    const report = classificationReport(labels, probabilities, k);
    const figures: Figure[] = [...reportFigures(split, report), ...perClassFigures(split, report, options.classes)];
    if (options.intervals) figures.push(...intervalFigures(split, splitIntervals(labels, probabilities, k, `${options.seed}:${split}`)));
    const issues = options.labelIssues;
    if (issues) figures.push(...cleanFigures(split, labels, probabilities, k, (i) => !issues.has(rows[i].path)));
    for (const [key, value] of figures) out[key] = value;
  }
  return out;
}
