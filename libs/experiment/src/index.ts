export { AuditError, CacheWriteError, ConfigError, InterruptedError } from './errors';
export { localProcesses, markAbandonedRuns, type ProcessProbe } from './abandoned';
export { experimentConfigSchema } from './config-schema';
export type { ExperimentConfig } from './config-schema';
export { flattenConfig, hashConfig, loadConfig, loadExperiment, parseConfig, parseExperiment } from './config';
export type { ExperimentPlan, LoadedConfig } from './config';
export { captureEnvironment } from './environment';
export { FeatureCache } from './feature-cache';
export { runExperiment } from './pipeline';
export type { PipelineEvent, RunExperimentOptions, RunSummary } from './pipeline';
export type { SplitSummary } from './evaluation';
export { describePoint, expandGrid, setDotted } from './sweep';
export type { SweepPoint } from './sweep';
export { evaluateGate, parseGateRule } from './gate';
export type { GateRule, GateVerdict } from './gate';
export { gateRun } from './gate-run';
export type { GateResult, GateTarget } from './gate-run';
export { diffRuns } from './run-diff';
export { intervalKeys, isResultMetric, METRIC_KEYS, perClassMetricKey, splitMetricKey } from './metric-keys';
export type { MetricSplit, SplitFigure } from './metric-keys';
export type { RunDiff, RunSnapshot } from './run-diff';
export { configOfRun, reproduceRun, snapshotRun } from './reproduce';
export type { ReproduceResult } from './reproduce';
export { seedGroupKey, summarizeSeedGroups } from './seed-groups';
export type { RunForGrouping, SeedGroup } from './seed-groups';
export { runSweep } from './sweep-run';
export type { RunSweepOptions, SweepEvent, SweepResult, SweepRunOutcome } from './sweep-run';
export { runConfigFile } from './run-file';
export type { FileRunResult } from './run-file';
export { sweepSeedGroups } from './sweep-seed-groups';
export { auditForRun, auditLabels, auditMetrics, auditRecords, flaggedIndices } from './audit';
export type { AuditHooks, AuditOptions, AuditSummary, LabelAudit } from './audit';
export { loadStudy, pairingProblems, runStudy } from './study';
export type { RunStudyOptions, StudyArmResult, StudyEvent, StudyPlan, StudyResult } from './study';
export { isStudyText, parseStudyDefinition, studyFileSchema } from './study-definition';
export type { StudyDefinition } from './study-definition';
export type { CnnHeadConfig, HeadConfig, ModelExtractorConfig } from './config-schema';
export { GateInputError } from './gate-input-error';
export { metricsFromPredictions } from './prediction-metrics';
export type { RecomputeOptions, StoredPrediction } from './prediction-metrics';
export { describeVerificationProblems, loadVerifiableRun, verifyRecord, verifyRun } from './verify';
export type { MetricMismatch, VerifiableRun, Verification, VerifyOptions } from './verify';
export { SPLIT_PROCEDURE, TASK_METRIC, describeTask, makeTask, taskDifferences, taskOfRun } from './task';
export type { BenchmarkTask } from './task';
export {
  SEED_REFERENCE_FORMAT,
  VERDICT_METRICS,
  buildSeedReference,
  readSeedBaselineFile,
  seedReferenceResults,
  seedResultOfRun,
  seedResultsOfRuns,
  seedResultsOfSweep,
  serializeSeedReference,
  verdictMetrics,
  writeSeedReference,
} from './seed-results';
export type { SeedReference, SeedResult, VerdictMetric } from './seed-results';
export { checkSeedGroup, configDifferences, decideSeedGate, formatP } from './seed-gate';
export type { DecidingTest, SeedGateOptions, SeedGateVerdict, SeedGroupSide, SeedRow } from './seed-gate';
export { CandidateRunError, gateSeedGroups, seedPlan } from './seed-gate-run';
export type { SeedGateResult, SeedGateTarget } from './seed-gate-run';
export { buildLeaderboards } from './leaderboard';
export type { Leaderboard, LeaderboardEntry, VersusLeader } from './leaderboard';
