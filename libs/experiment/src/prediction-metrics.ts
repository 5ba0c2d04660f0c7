import { argmax, bootstrapClassification, classificationReport } from '@mlbench/metrics';

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
 * are not stored), computed the way the pipeline computes them: accuracy, macro-F1, log loss,
 * count, per-class precision/recall/F1, optionally the seeded bootstrap intervals, and the
 * `_clean` metrics without the audit's label issues.
 */
export function metricsFromPredictions(predictions: readonly StoredPrediction[], options: RecomputeOptions): Record<string, number> {
  const k = options.classes.length;
  const out: Record<string, number> = {};
  for (const split of ['val', 'test']) {
    const rows = predictions.filter((p) => p.split === split);
    if (rows.length === 0) continue;
    const labels = rows.map((p) => p.trueLabel);
    const probabilities = rows.map((p) => p.probabilities);
    const report = classificationReport(labels, probabilities, k);
    out[`${split}.accuracy`] = report.accuracy;
    out[`${split}.macro_f1`] = report.macroF1;
    out[`${split}.log_loss`] = report.logLoss;
    out[`${split}.count`] = report.count;
    report.perClass.forEach((c, i) => {
      out[`${split}.precision.${options.classes[i]}`] = c.precision;
      out[`${split}.recall.${options.classes[i]}`] = c.recall;
      out[`${split}.f1.${options.classes[i]}`] = c.f1;
    });
    if (options.intervals) {
      const ci = bootstrapClassification(labels, probabilities.map((p) => argmax(p)), k, { resamples: 2000, seed: `${options.seed}:${split}`, level: 0.95 });
      out[`${split}.accuracy.ci_low`] = ci.accuracy.low;
      out[`${split}.accuracy.ci_high`] = ci.accuracy.high;
      out[`${split}.macro_f1.ci_low`] = ci.macroF1.low;
      out[`${split}.macro_f1.ci_high`] = ci.macroF1.high;
    }
    if (options.labelIssues) {
      const kept = rows.filter((p) => !options.labelIssues?.has(p.path));
      if (kept.length === 0) out[`${split}_clean.count`] = 0;
      else {
        const clean = classificationReport(kept.map((p) => p.trueLabel), kept.map((p) => p.probabilities), k);
        out[`${split}_clean.accuracy`] = clean.accuracy;
        out[`${split}_clean.macro_f1`] = clean.macroF1;
        out[`${split}_clean.log_loss`] = clean.logLoss;
        out[`${split}_clean.count`] = clean.count;
      }
    }
  }
  return out;
}

/** Test accuracy from (true, predicted) labels alone: what a verdict uses. */
export function accuracyOfLabels(rows: readonly { trueLabel: number; predictedLabel: number }[]): number {
  if (rows.length === 0) return Number.NaN;
  let correct = 0;
  for (const r of rows) if (r.trueLabel === r.predictedLabel) correct++;
  return correct / rows.length;
}
