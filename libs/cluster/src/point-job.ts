import type { ExpectedInputs } from '@mlbench/experiment';

/**
 * What a point job carries: everything a worker needs to reproduce the point as the submitter
 * checked it. The config text is parsed again on the worker (so `${VAR}` reads the worker's
 * environment), and the worker refuses data that differs from `expected`.
 */
export interface PointJobData {
  sweepId: string;
  studyId: string | null;
  /** Position in the sweep's grid, and the grid's size. */
  index: number;
  size: number;
  /** e.g. `train.learningRate=0.001 seed=3` */
  label: string;
  name: string;
  /** The config file on the submitter (absolute): names the source, anchors relative paths. */
  configFile: string;
  configText: string;
  /** Config hash of the point as the submitter resolved it. */
  configHash: string;
  expected: ExpectedInputs;
  /** Deepest folder holding the point's dataset and model on the submitter; a worker's --data-root replaces it. */
  dataRoot: string;
  submittedAt: number;
}

/** What a completed point job returns (stored by BullMQ with the job). */
export interface PointJobResult {
  runId: string;
  testAccuracy: number;
}

/**
 * One job id per (sweep, point): BullMQ ignores an add whose id exists, so submitting the same
 * sweep again never queues a point twice. (BullMQ ids may not contain ':'.)
 */
export const pointJobId = (sweepId: string, index: number): string => `${sweepId}-${index}`;

/** Redis set of a sweep's settled points (completed, or failed after its last attempt). */
export const settledKey = (queueName: string, sweepId: string): string => `mlbench:${queueName}:sweep:${sweepId}:settled`;

/** Redis counter of feature vectors extracted by workers, per feature-cache key. */
export const extractedKey = (queueName: string, cacheKey: string): string => `mlbench:${queueName}:extracted:${cacheKey}`;
