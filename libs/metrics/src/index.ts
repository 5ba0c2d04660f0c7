/** @mlbench/metrics: pure metrics and statistics (the public API; helpers stay in their modules). */
export { MetricsInputError, accuracy, argmax, classificationReport, confusionMatrix, logLoss, macroF1 } from './classification';
export type { ClassMetrics, ClassificationReport } from './classification';
export { comparePaired, mcnemarExact, summarizeSample } from './statistics';
export type { Interval, PairedComparison, SampleSummary } from './statistics';
export { splitIntervals, subsetReport } from './split-evaluation';
export type { SplitIntervals } from './split-evaluation';
export { confidentLearning, recoveryScores, stratifiedKFold } from './confident-learning';
export type { AuditFlag, AuditVerdict, ConfidentLearningResult } from './confident-learning';
export { nonInferiority, pairedMeanDifference, twoSidedPValue, welchMeanDifference } from './mean-difference';
export type { MeanDifference, MeanDifferenceTestName, NonInferiority } from './mean-difference';
export { holmAdjust } from './holm';
export { pooledPairedNonInferiority } from './pooled-paired';
export type { PairedStratum, PooledPairedResult } from './pooled-paired';
