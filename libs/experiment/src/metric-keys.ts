/**
 * The names of the metrics a run records: the contract between the pipeline that writes them and
 * the commands, gate and report pages that read them back. Pure strings, no dependencies, so a
 * reader (the report) can use them without loading the pipeline.
 */

/** A split of the data, or the audit's cleaned view of one (`test_clean`: flagged images left out). */
export type MetricSplit = 'train' | 'val' | 'test' | `${'train' | 'val' | 'test'}_clean`;

/** Per-split figures: `<split>.<figure>`, e.g. `test.accuracy`. */
export type SplitFigure = 'accuracy' | 'macro_f1' | 'log_loss' | 'count' | 'loss';

/** `<split>.<figure>`, e.g. `test.accuracy`, `val.loss` (the learning curves use train/val loss and accuracy). */
export const splitMetricKey = (split: MetricSplit, figure: SplitFigure): string => `${split}.${figure}`;

/** `<split>.<precision|recall|f1>.<class>`, e.g. `test.f1.daisy`. */
export const perClassMetricKey = (split: MetricSplit, figure: 'precision' | 'recall' | 'f1', className: string): string => `${split}.${figure}.${className}`;

/** The 95% bootstrap interval of a figure: `<key>.ci_low` and `<key>.ci_high`. */
export const intervalKeys = (key: string): { low: string; high: string } => ({ low: `${key}.ci_low`, high: `${key}.ci_high` });

/** The keys readers use by name. */
export const METRIC_KEYS = {
  testAccuracy: 'test.accuracy',
  testMacroF1: 'test.macro_f1',
  testLogLoss: 'test.log_loss',
  testCount: 'test.count',
  valAccuracy: 'val.accuracy',
  valMacroF1: 'val.macro_f1',
  valLogLoss: 'val.log_loss',
  testCleanAccuracy: 'test_clean.accuracy',
  testCleanMacroF1: 'test_clean.macro_f1',
  testCleanCount: 'test_clean.count',
  trainAccuracy: 'train.accuracy',
  trainLogLoss: 'train.log_loss',
  trainLoss: 'train.loss',
  valLoss: 'val.loss',
  trainSeconds: 'time.train_seconds',
  extractionSeconds: 'time.extraction_seconds',
  extractionCached: 'extraction.cached',
  extractionExtracted: 'extraction.extracted',
  extractionImagesPerSecond: 'extraction.images_per_second',
  headParameters: 'head.parameters',
  progressFeaturesExtracted: 'progress.features_extracted',
  progressEpochsCompleted: 'progress.epochs_completed',
  auditLabelIssues: 'audit.label_issues',
  auditNoConfidentClass: 'audit.no_confident_class',
  auditLabelIssueFraction: 'audit.label_issue_fraction',
  auditOofAccuracy: 'audit.oof_accuracy',
  auditSeconds: 'audit.seconds',
  auditExcludedTrain: 'audit.excluded_train',
} as const;

/** Metrics that are results; timings and cache counts legitimately differ between runs. */
export const isResultMetric = (key: string): boolean => /^(train|val|test)\./.test(key);
