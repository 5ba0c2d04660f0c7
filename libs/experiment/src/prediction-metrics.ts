import { argmax, bootstrapClassification, classificationReport } from '@mlbench/metrics';
import { intervalKeys, perClassMetricKey, splitMetricKey, type MetricSplit } from './metric-keys';

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
 * functions, same keys, same bootstrap seeds; kept apart because evaluation.ts loads the model): accuracy, macro-F1, log loss,
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
    const figures = (into: MetricSplit, report: ReturnType<typeof classificationReport>): void => {
      out[splitMetricKey(into, 'accuracy')] = report.accuracy;
      out[splitMetricKey(into, 'macro_f1')] = report.macroF1;
      out[splitMetricKey(into, 'log_loss')] = report.logLoss;
      out[splitMetricKey(into, 'count')] = report.count;
    };
    const report = classificationReport(labels, probabilities, k);
    figures(split, report);
    report.perClass.forEach((c, i) => {
      out[perClassMetricKey(split, 'precision', options.classes[i])] = c.precision;
      out[perClassMetricKey(split, 'recall', options.classes[i])] = c.recall;
      out[perClassMetricKey(split, 'f1', options.classes[i])] = c.f1;
    });
    if (options.intervals) {
      const ci = bootstrapClassification(labels, probabilities.map((p) => argmax(p)), k, { resamples: 2000, seed: `${options.seed}:${split}`, level: 0.95 });
      const a = intervalKeys(splitMetricKey(split, 'accuracy'));
      const f = intervalKeys(splitMetricKey(split, 'macro_f1'));
      out[a.low] = ci.accuracy.low;
      out[a.high] = ci.accuracy.high;
      out[f.low] = ci.macroF1.low;
      out[f.high] = ci.macroF1.high;
    }
    if (options.labelIssues) {
      const kept = rows.filter((p) => !options.labelIssues?.has(p.path));
      if (kept.length === 0) out[splitMetricKey(`${split}_clean`, 'count')] = 0;
      else figures(`${split}_clean`, classificationReport(kept.map((p) => p.trueLabel), kept.map((p) => p.probabilities), k));
    }
  }
  return out;
}
