/**
 * Evaluation of a trained head on the splits of a run: the metrics (named by metric-keys.ts), the
 * per-image predictions of val and test, and the summary the CLI prints.
 */
import { SPLIT_NAMES, type SplitName } from '@mlbench/data';
import { argmax, bootstrapClassification, classificationReport, type ClassificationReport, type Interval } from '@mlbench/metrics';
import { checkProbabilitiesFinite, type FeatureSet } from '@mlbench/model';
import type { Metric, Prediction } from '@mlbench/tracking';
import { intervalKeys, perClassMetricKey, splitMetricKey, type MetricSplit } from './metric-keys';

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
    metrics.push(...reportMetrics(split, report, classes));
    summaries[split] = summarize(report, classes);
    if (split === 'train') continue;
    if (flagged) metrics.push(...cleanEvaluationMetrics(split, set, rows, flagged, k));
    const intervals = bootstrapClassification(set.labels, rows.map((r) => argmax(r)), k, { resamples: 2000, seed: `${seed}:${split}`, level: 0.95 });
    metrics.push(...intervalMetrics(split, intervals));
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
  const keep = set.indices.flatMap((imageIndex, i) => (flagged.has(imageIndex) ? [] : [i]));
  const clean: MetricSplit = `${split}_clean`;
  if (keep.length === 0) return [{ key: splitMetricKey(clean, 'count'), value: 0, step: null }];
  const report = classificationReport(
    keep.map((i) => set.labels[i]),
    keep.map((i) => rows[i]),
    numClasses,
  );
  return figureMetrics(clean, report);
}

/** `<split>.accuracy`, `.macro_f1`, `.log_loss` and `.count` of a report. */
function figureMetrics(split: MetricSplit, report: ClassificationReport): Metric[] {
  return [
    { key: splitMetricKey(split, 'accuracy'), value: report.accuracy, step: null },
    { key: splitMetricKey(split, 'macro_f1'), value: report.macroF1, step: null },
    { key: splitMetricKey(split, 'log_loss'), value: report.logLoss, step: null },
    { key: splitMetricKey(split, 'count'), value: report.count, step: null },
  ];
}

function reportMetrics(split: SplitName, report: ClassificationReport, classes: readonly string[]): Metric[] {
  const metrics = figureMetrics(split, report);
  report.perClass.forEach((c, i) => {
    metrics.push(
      { key: perClassMetricKey(split, 'precision', classes[i]), value: c.precision, step: null },
      { key: perClassMetricKey(split, 'recall', classes[i]), value: c.recall, step: null },
      { key: perClassMetricKey(split, 'f1', classes[i]), value: c.f1, step: null },
    );
  });
  return metrics;
}

/** Bootstrap intervals of accuracy and macro-F1, as `<split>.<figure>.ci_low|ci_high` metrics. */
function intervalMetrics(split: SplitName, { accuracy, macroF1 }: { accuracy: Interval; macroF1: Interval }): Metric[] {
  const a = intervalKeys(splitMetricKey(split, 'accuracy'));
  const f = intervalKeys(splitMetricKey(split, 'macro_f1'));
  return [
    { key: a.low, value: accuracy.low, step: null },
    { key: a.high, value: accuracy.high, step: null },
    { key: f.low, value: macroF1.low, step: null },
    { key: f.high, value: macroF1.high, step: null },
  ];
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
