/** Plain entity types of the tracking store (MLflow-style: run, param, metric, dataset input). */

import type { LabelVerdict } from '@mlbench/common';

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
  /** The process that ran it (null for runs recorded before schema version 3). */
  pid: number | null;
  hostname: string | null;
  /** The sweep this run belongs to, and its position in the sweep's grid. */
  sweepId: string | null;
  sweepIndex: number | null;
}

/** A file the run left out (`dataset.onBadImage: skip`) and why. */
export interface SkippedFile {
  /** Relative to the dataset root, '/' separated. */
  path: string;
  /** sha256 of the bytes, or null when the file could not be read. */
  sha256: string | null;
  reason: string;
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
  /** The process running it; default this process (`process.pid`, `os.hostname()`). */
  pid?: number;
  hostname?: string;
  sweepId?: string;
  sweepIndex?: number;
}

export interface RunFilter {
  name?: string;
  status?: RunStatus;
  sweepId?: string;
  /** Runs whose last heartbeat (ISO time) is before this; runs that never sent one are left out. */
  heartbeatBefore?: string;
  /** Runs whose id starts with this (lowercase hex digits; anything else matches no run). */
  idPrefix?: string;
  /** Newest first; default 1000. */
  limit?: number;
}

export type { AuditFlag } from '@mlbench/common';

/**
 * The label audit's verdict on one image (config `audit`): out-of-fold probabilities from k-fold
 * cross-validated heads over the whole dataset, judged by confident learning.
 */
export interface AuditResult extends LabelVerdict {
  /** Relative to the dataset root, '/' separated. */
  path: string;
  /** The fold (0-based) the image was held out in. */
  fold: number;
  /** Out-of-fold class probabilities. */
  probabilities: number[];
}

/** Everything recorded about a finished run, written in one transaction. */
export interface RunRecord {
  params: Param[];
  metrics: Metric[];
  dataset: DatasetInput;
  extractor: Record<string, string>;
  split: SplitMember[];
  predictions: Prediction[];
  /** Label audit, one row per image (absent when the audit is off). */
  audit?: AuditResult[];
}

export type SweepStatus = 'running' | 'completed' | 'interrupted';

/** A grid of runs from one config's `sweep` section. */
export interface Sweep {
  id: string;
  name: string;
  status: SweepStatus;
  startTime: string;
  endTime: string | null;
  /** Hash of the whole config including its sweep section. */
  configHash: string;
  configText: string;
  /** Dotted config key -> the values swept. */
  definition: Record<string, unknown[]>;
  /** Number of runs in the grid. */
  size: number;
}

export interface NewSweep {
  name: string;
  configHash: string;
  configText: string;
  definition: Record<string, unknown[]>;
  size: number;
}

export interface SweepFilter {
  name?: string;
  configHash?: string;
  /** Newest first; default 1000. */
  limit?: number;
}

export type StudyStatus = 'running' | 'completed' | 'interrupted';

/** A study: one question, several arms, each arm a sweep of one config over the same seeds. */
export interface Study {
  id: string;
  name: string;
  question: string;
  status: StudyStatus;
  startTime: string;
  endTime: string | null;
  configHash: string;
  /** The study file as written. */
  configText: string;
}

export interface NewStudy {
  name: string;
  question: string;
  configHash: string;
  configText: string;
}

/** One arm of a study, in the study's order. */
export interface StudyArm {
  studyId: string;
  position: number;
  label: string;
  /** The arm's config file as listed in the study. */
  config: string;
  sweepId: string;
}

export interface StudyFilter {
  name?: string;
  configHash?: string;
  /** Newest first; default 1000. */
  limit?: number;
}
