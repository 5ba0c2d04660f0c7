/**
 * The recorded figures of one split, named by metric-keys.ts: what evaluation.ts records from the
 * head's outputs and prediction-metrics.ts recomputes from stored predictions, written once.
 */
import { subsetReport, type ClassificationReport, type SplitIntervals } from '@mlbench/metrics';
import { intervalKeys, perClassMetricKey, splitMetricKey, type MetricSplit } from './metric-keys';

/** A metric key and its value. */
export type Figure = [key: string, value: number];

/** `<split>.accuracy`, `.macro_f1`, `.log_loss` and `.count` of a report. */
export function reportFigures(split: MetricSplit, report: ClassificationReport): Figure[] {
  return [
    [splitMetricKey(split, 'accuracy'), report.accuracy],
    [splitMetricKey(split, 'macro_f1'), report.macroF1],
    [splitMetricKey(split, 'log_loss'), report.logLoss],
    [splitMetricKey(split, 'count'), report.count],
  ];
}

/** `<split>.precision|recall|f1.<class>` of every class. */
export function perClassFigures(split: MetricSplit, report: ClassificationReport, classes: readonly string[]): Figure[] {
  return report.perClass.flatMap((c, i): Figure[] => [
    [perClassMetricKey(split, 'precision', classes[i]), c.precision],
    [perClassMetricKey(split, 'recall', classes[i]), c.recall],
    [perClassMetricKey(split, 'f1', classes[i]), c.f1],
  ]);
}

/** Bootstrap intervals of accuracy and macro-F1, as `<split>.<figure>.ci_low|ci_high`. */
export function intervalFigures(split: MetricSplit, { accuracy, macroF1 }: SplitIntervals): Figure[] {
  const a = intervalKeys(splitMetricKey(split, 'accuracy'));
  const f = intervalKeys(splitMetricKey(split, 'macro_f1'));
  return [
    [a.low, accuracy.low],
    [a.high, accuracy.high],
    [f.low, macroF1.low],
    [f.high, macroF1.high],
  ];
}

/**
 * The "cleaned" evaluation of a split: its figures over the rows `keep` selects (the images the
 * audit did not flag as label issues), as `<split>_clean.*`; only `<split>_clean.count` = 0 when
 * none is kept. The split itself is never changed.
 */
export function cleanFigures(split: 'train' | 'val' | 'test', labels: readonly number[], rows: readonly (readonly number[])[], numClasses: number, keep: (row: number) => boolean): Figure[] {
  const clean: MetricSplit = `${split}_clean`;
  const report = subsetReport(labels, rows, numClasses, keep);
  return report ? reportFigures(clean, report) : [[splitMetricKey(clean, 'count'), 0]];
}
