/**
 * The run export document: one run as self-describing JSON (see transfer.ts for reading and
 * writing it, run-export-checks.ts for the checks of an imported one).
 */

import type { AuditResult, DatasetInput, Param, Prediction, Run, SkippedFile, SplitMember } from './entities';

export const RUN_EXPORT_FORMAT = 'mlbench.run';
/** Version of the export document layout (not of the database schema). */
export const RUN_EXPORT_VERSION = 1;

export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export interface RunExport {
  format: typeof RUN_EXPORT_FORMAT;
  version: number;
  /** Tracking schema version of the database it was exported from (informational). */
  schemaVersion: number;
  exportedAt: string;
  /** Sweep membership is local to a database, so it is not exported. */
  run: Omit<Run, 'sweepId' | 'sweepIndex'>;
  params: Param[];
  metrics: { key: string; value: JsonNumber; step: number | null }[];
  dataset: DatasetInput | null;
  extractor: Record<string, string>;
  split: SplitMember[];
  predictions: (Omit<Prediction, 'probabilities'> & { probabilities: JsonNumber[] })[];
  skippedFiles: SkippedFile[];
  /**
   * Label-audit verdicts, only for runs recorded with `audit` (an optional addition within format
   * version 1: older readers ignore it).
   */
  audit?: (Omit<AuditResult, 'probabilities'> & { probabilities: JsonNumber[] })[];
}

export interface ImportResult {
  runId: string;
  status: 'imported' | 'already-present';
}
