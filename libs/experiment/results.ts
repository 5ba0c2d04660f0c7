/**
 * The light entry of @mlbench/experiment (`@mlbench/experiment/results`): what readers of recorded
 * results need (metric names, seed groups, study definitions), without the pipeline and so without
 * tfjs. The report generator imports only this.
 */
export { intervalKeys, isResultMetric, METRIC_KEYS, perClassMetricKey, splitMetricKey } from './src/metric-keys';
export type { MetricSplit, SplitFigure } from './src/metric-keys';
export { seedGroupKey, summarizeSeedGroups } from './src/seed-groups';
export type { RunForGrouping, SeedGroup } from './src/seed-groups';
export { sweepSeedGroups } from './src/sweep-seed-groups';
export { parseStudyDefinition } from './src/study-definition';
export type { StudyDefinition } from './src/study-definition';
// Verdicts over recorded results: verification from predictions, seed groups, tasks, leaderboards.
export { metricsFromPredictions } from './src/prediction-metrics';
export type { StoredPrediction } from './src/prediction-metrics';
export { describeVerificationProblems, loadRunEvidence, verifyRecord } from './src/verify';
export type { RunEvidence, VerifiableRun, Verification } from './src/verify';
export { describeTask } from './src/task';
export type { BenchmarkTask } from './src/task';
export { seedResultOfRecordedRun, seedResultOfRun, verdictMetrics, VERDICT_METRICS } from './src/seed-results';
export type { SeedResult, VerdictMetric } from './src/seed-results';
export { formatP } from './src/seed-gate';
export { buildLeaderboards } from './src/leaderboard';
export type { Leaderboard, LeaderboardEntry, VersusLeader } from './src/leaderboard';
