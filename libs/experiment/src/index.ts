/**
 * Public entry of @mlbench/experiment: the core function behind each runner command (run a config,
 * sweep or study file; reproduce; gate), their events and results, and the typed errors. Readers of
 * recorded results that must not load tfjs (the report) use `@mlbench/experiment/results`.
 */
export { AuditError, CacheWriteError, ConfigError, InterruptedError } from './errors';
export type { CnnHeadConfig, ExperimentConfig, HeadConfig, ModelExtractorConfig } from './config-schema';
export { parseConfig } from './config';
export type { ExperimentPlan, LoadedConfig } from './config';
export { runConfigFile } from './run-file';
export type { FileRunResult } from './run-file';
export { runExperiment } from './pipeline';
export type { PipelineEvent, RunExperimentOptions, RunSummary } from './pipeline';
export type { SplitSummary } from './evaluation';
export type { AuditSummary } from './audit';
export type { RunSweepOptions, SweepEvent, SweepResult, SweepRunOutcome } from './sweep-run';
export type { SweepPoint } from './sweep';
export type { RunStudyOptions, StudyArmResult, StudyEvent, StudyPlan, StudyResult } from './study';
export type { StudyDefinition } from './study-definition';
export { reproduceRun } from './reproduce';
export type { ReproduceResult } from './reproduce';
export type { RunDiff } from './run-diff';
export { gateRun } from './gate-run';
export type { GateResult, GateTarget } from './gate-run';
export { parseGateRule } from './gate';
export type { GateRule, GateVerdict } from './gate';
export { summarizeSeedGroups } from './seed-groups';
export type { RunForGrouping, SeedGroup } from './seed-groups';
export { sweepSeedGroups } from './sweep-seed-groups';
export { METRIC_KEYS } from './metric-keys';
// What a cluster submitter and worker (@mlbench/cluster) compose: load and check the points, run one.
export { loadExperiment, parseExperiment } from './config';
export { describePoint } from './sweep';
export { isStudyText } from './study-definition';
export { loadStudy } from './study';
export { captureEnvironment } from './environment';
export { checkExperiment } from './check-experiment';
export type { CheckedInputs } from './check-experiment';
export { InputMismatchError } from './input-mismatch';
export type { ExpectedInputs } from './input-mismatch';
export { sweepProgress } from './sweep-progress';
export type { SweepProgress } from './sweep-progress';
export { CandidateRunError, gateSeedGroups } from './seed-gate-run';
export type { SeedGateResult, SeedGateTarget } from './seed-gate-run';
export type { DecidingTest, SeedGateOptions, SeedGateVerdict, SeedGroupSide, SeedRow } from './seed-gate';
export { VERDICT_METRICS, buildSeedReference, seedResultsOfSweep, writeSeedReference } from './seed-results';
export type { VerdictMetric } from './seed-results';
export { verifyRun } from './verify';
export type { Verification } from './verify';
export { describeTask } from './task';
export { formatP } from './seed-gate';
