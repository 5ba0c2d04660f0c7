export { ConfigError, InterruptedError } from './errors';
export { experimentConfigSchema } from './config-schema';
export type { ExperimentConfig } from './config-schema';
export { canonicalJson, flattenConfig, hashConfig, loadConfig, parseConfig } from './config';
export type { LoadedConfig } from './config';
export { captureEnvironment } from './environment';
export { FeatureCache, writeAtomic } from './feature-cache';
export { runExperiment, runExperimentFromFile } from './pipeline';
export type { PipelineEvent, RunExperimentOptions, RunSummary, SplitSummary } from './pipeline';
