export {
  MetricsInputError,
  accuracy,
  argmax,
  classificationReport,
  confusionMatrix,
  logLoss,
  macroF1,
  perClassMetrics,
} from './classification';
export type { ClassMetrics, ClassificationReport } from './classification';
export {
  bootstrapClassification,
  bootstrapInterval,
  comparePaired,
  mcnemarExact,
  quantileSorted,
  summarizeSample,
} from './statistics';
export type { BootstrapOptions, Interval, PairedComparison, SampleSummary } from './statistics';
export { confidentLearning, perClassThresholds, recoveryScores, stratifiedKFold } from './confident-learning';
export type { AuditFlag, AuditVerdict, ConfidentLearningResult } from './confident-learning';
export {
  differenceInterval,
  nonInferiority,
  pairedMeanDifference,
  sampleVariance,
  studentTCdf,
  studentTQuantile,
  twoSidedPValue,
  welchDegreesOfFreedom,
  welchMeanDifference,
} from './mean-difference';
export type { MeanDifference, MeanDifferenceTestName, NonInferiority } from './mean-difference';
export { holmAdjust } from './holm';
export { pooledPairedNonInferiority } from './pooled-paired';
export type { PairedStratum, PooledPairedResult } from './pooled-paired';
