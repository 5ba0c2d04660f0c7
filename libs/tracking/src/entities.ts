/** Plain entity types of the tracking store (MLflow-style: run, param, metric, dataset input). */

export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted' | 'abandoned';
export type SplitName = 'train' | 'val' | 'test';

export interface Run {
  id: string;
  name: string;
  status: RunStatus;
  /** ISO-8601 timestamps. */
  startTime: string;
  endTime: string | null;
  durationMs: number | null;
  seed: number;
  configHash: string;
  /** The YAML text exactly as the user wrote it. */
  configText: string;
  /** The resolved config (paths absolute, variables substituted, defaults filled) as JSON. */
  resolvedConfig: unknown;
  /** Error message for failed runs. */
  error: string | null;
  /** Environment: git commit, dirty flag, node/tfjs/backend/package versions, host. */
  environment: Record<string, string>;
}

export interface Param {
  key: string;
  value: string;
}

/** A metric value; `step` is the epoch for learning curves, null for final metrics. */
export interface Metric {
  key: string;
  value: number;
  step: number | null;
}

export interface DatasetInput {
  /** Absolute path of the dataset root. */
  path: string;
  /** Content hash over relative paths and file bytes. */
  fingerprint: string;
  classes: string[];
  /** Image count per class over the whole dataset. */
  classCounts: Record<string, number>;
  /** Image count per class per split. */
  splitCounts: Record<SplitName, Record<string, number>>;
  /** Hash of the split membership (same seed + same data => same hash). */
  splitHash: string;
}

export interface SplitMember {
  /** Path relative to the dataset root, '/' separated. */
  path: string;
  /** sha256 of the file bytes. */
  sha256: string;
  label: number;
  split: SplitName;
}

export interface Prediction {
  path: string;
  split: SplitName;
  trueLabel: number;
  predictedLabel: number;
  probabilities: number[];
}

export interface NewRun {
  name: string;
  seed: number;
  configHash: string;
  configText: string;
  resolvedConfig: unknown;
  environment: Record<string, string>;
}

export interface RunFilter {
  name?: string;
  status?: RunStatus;
  /** Newest first; default 1000. */
  limit?: number;
}

/** Everything recorded about a finished run, written in one transaction. */
export interface RunRecord {
  params: Param[];
  metrics: Metric[];
  dataset: DatasetInput;
  extractor: Record<string, string>;
  split: SplitMember[];
  predictions: Prediction[];
}
