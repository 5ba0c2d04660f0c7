/**
 * Evaluation of a trained head on the splits of a run: the metrics (named by metric-keys.ts), the
 * per-image predictions of val and test, and the summary the CLI prints.
 */
import { SPLIT_NAMES, type SplitName } from '@mlbench/data';
import { argmax, classificationReport, splitIntervals, type ClassificationReport } from '@mlbench/metrics';
import { checkProbabilitiesFinite, type FeatureSet } from '@mlbench/model';
import type { Metric, Prediction } from '@mlbench/tracking';
import { cleanFigures, intervalFigures, perClassFigures, reportFigures, type Figure } from './split-figures';

export interface SplitSummary {
  count: number;
  accuracy: number;
  macroF1: number;
  logLoss: number;
  perClassF1: Record<string, number>;
  /** 95% bootstrap intervals [low, high] (val and test). */
  accuracyInterval?: [number, number];
  macroF1Interval?: [number, number];
}

/** A split's feature rows with the dataset index of every row. */
export type IndexedFeatureSet = FeatureSet & { indices: number[] };

export interface Evaluation {
  metrics: Metric[];
  predictions: Prediction[];
  summaries: Partial<Record<SplitName, SplitSummary>>;
}

export interface EvaluationInput {
  head: { predict(features: Float32Array, count: number): Float32Array };
  sets: Record<SplitName, IndexedFeatureSet>;
  classes: readonly string[];
  /** Relative path of every image of the dataset, by dataset index. */
  paths: readonly string[];
  /** Seeds the bootstrap intervals (one stream per split). */
  seed: number;
  /** Images the label audit flagged; when given, val and test also get `<split>_clean.*` metrics. */
  flagged?: ReadonlySet<number>;
}

/**
 * Every split with images: classification metrics; val and test also get seeded bootstrap 95%
 * intervals (2000 resamples) and per-image predictions.
 */
export function evaluateSplits({ head, sets, classes, paths, seed, flagged }: EvaluationInput): Evaluation {
  const metrics: Metric[] = [];
  const predictions: Prediction[] = [];
  const summaries: Partial<Record<SplitName, SplitSummary>> = {};
  const k = classes.length;
  for (const split of SPLIT_NAMES) {
    const set = sets[split];
    if (set.labels.length === 0) continue;
    const flat = head.predict(set.features, set.labels.length);
    checkProbabilitiesFinite(flat, `the ${split} split`);
    const rows = set.labels.map((_, i) => Array.from(flat.subarray(i * k, (i + 1) * k)));
    const report = classificationReport(set.labels, rows, k);
    metrics.push(...asMetrics([...reportFigures(split, report), ...perClassFigures(split, report, classes)]));
    summaries[split] = summarize(report, classes);
    if (split === 'train') continue;
    if (flagged) metrics.push(...cleanEvaluationMetrics(split, set, rows, flagged, k));
    const intervals = splitIntervals(set.labels, rows, k, `${seed}:${split}`);
    metrics.push(...asMetrics(intervalFigures(split, intervals)));
    summaries[split] = { ...summarize(report, classes), accuracyInterval: [intervals.accuracy.low, intervals.accuracy.high], macroF1Interval: [intervals.macroF1.low, intervals.macroF1.high] };
    set.indices.forEach((imageIndex, i) => {
      predictions.push({ path: paths[imageIndex], split, trueLabel: set.labels[i], predictedLabel: argmax(rows[i]), probabilities: rows[i] });
    });
  }
  return { metrics, predictions, summaries };
}

/**
 * The "cleaned" evaluation of one split: its metrics over the images the audit did not flag as
 * label issues, as
 * `<split>_clean.accuracy`, `<split>_clean.macro_f1`, `<split>_clean.log_loss`, `<split>_clean.count`.
 * The split itself is never changed; `<split>.*` stays the evaluation on all of it.
 */
export function cleanEvaluationMetrics(
  split: SplitName,
  set: { indices: readonly number[]; labels: readonly number[] },
  rows: readonly (readonly number[])[],
  flagged: ReadonlySet<number>,
  numClasses: number,
): Metric[] {
  return asMetrics(cleanFigures(split, set.labels, rows, numClasses, (i) => !flagged.has(set.indices[i])));
}

/** Final metrics (no step) from figures. */
function asMetrics(figures: readonly Figure[]): Metric[] {
  return figures.map(([key, value]) => ({ key, value, step: null }));
}

function summarize(report: ClassificationReport, classes: readonly string[]): SplitSummary {
  return {
    count: report.count,
    accuracy: report.accuracy,
    macroF1: report.macroF1,
    logLoss: report.logLoss,
    perClassF1: Object.fromEntries(report.perClass.map((c, i) => [classes[i], c.f1])),
  };
}
