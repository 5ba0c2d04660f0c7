/**
 * Row types of the tracking schema and their codecs to and from entities.
 *
 * Storage notes (round trips are exact):
 * - metric values are REAL / DOUBLE PRECISION. NaN is stored as NULL (SQLite cannot hold NaN)
 *   and read back as NaN; ±Infinity are kept. SQLite normalises -0 to 0.
 * - prediction probabilities are a BLOB / BYTEA of little-endian float64s: exact, including NaN
 *   and -0, and about half the size of the JSON text.
 * - JSON columns (resolved config, environment, dataset counts) round-trip JSON values; a
 *   property whose value is `undefined` disappears, as with JSON.stringify.
 */

import type { AuditFlag, DatasetInput, Run, RunStatus, SplitName, Study, StudyStatus, Sweep, SweepStatus } from '../entities';
import { InvalidArgumentError, TrackingStoreError } from '../errors';

export interface RunRow {
  id: string;
  name: string;
  status: RunStatus;
  start_time: string;
  end_time: string | null;
  duration_ms: number | null;
  seed: number;
  config_hash: string;
  config_text: string;
  resolved_config: string;
  error: string | null;
  environment: string;
  pid: number | null;
  hostname: string | null;
  sweep_id: string | null;
  sweep_index: number | null;
}

export interface SweepRow {
  id: string;
  name: string;
  status: SweepStatus;
  start_time: string;
  end_time: string | null;
  config_hash: string;
  config_text: string;
  definition: string;
  size: number;
}

export interface StudyRow {
  id: string;
  name: string;
  question: string;
  status: StudyStatus;
  start_time: string;
  end_time: string | null;
  config_hash: string;
  config_text: string;
}

export interface DatasetRow {
  path: string;
  fingerprint: string;
  classes: string;
  class_counts: string;
  split_counts: string;
  split_hash: string;
}

export interface AuditRow {
  path: string;
  given_label: number;
  suggested_label: number | null;
  self_confidence: number;
  score: number;
  rank: number | null;
  flag: AuditFlag;
  fold: number;
  probabilities: Buffer | null;
}

export interface PredictionRow {
  path: string;
  split: SplitName;
  true_label: number;
  predicted_label: number;
  probabilities: Buffer | null;
}

export function toRun(row: RunRow): Run {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    durationMs: row.duration_ms,
    seed: row.seed,
    configHash: row.config_hash,
    configText: row.config_text,
    resolvedConfig: fromJson(row.resolved_config),
    error: row.error,
    environment: JSON.parse(row.environment) as Record<string, string>,
    pid: row.pid ?? null,
    hostname: row.hostname ?? null,
    sweepId: row.sweep_id ?? null,
    sweepIndex: row.sweep_index ?? null,
  };
}

export function toStudy(row: StudyRow): Study {
  return {
    id: row.id,
    name: row.name,
    question: row.question,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    configHash: row.config_hash,
    configText: row.config_text,
  };
}

export function toSweep(row: SweepRow): Sweep {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    configHash: row.config_hash,
    configText: row.config_text,
    definition: JSON.parse(row.definition) as Record<string, unknown[]>,
    size: row.size,
  };
}

export function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new InvalidArgumentError(`${what} is not JSON-serialisable`);
  return text;
}

export function fromJson(text: string): unknown {
  return JSON.parse(text) as unknown;
}

/** Little-endian explicitly, so files move between machines. */
export function encodeFloat64(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => buf.writeDoubleLE(v, i * 8));
  return buf;
}

export function decodeFloat64(buf: Buffer | null): number[] {
  if (!buf) return []; // some drivers hand back a zero-length BLOB as null
  if (buf.length % 8 !== 0) throw new TrackingStoreError('CORRUPT_VALUE', `probabilities BLOB of ${buf.length} bytes is not a float64 array`);
  const out = new Array<number>(buf.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}

export function toDatasetInput(row: DatasetRow): DatasetInput {
  return {
    path: row.path,
    fingerprint: row.fingerprint,
    classes: JSON.parse(row.classes) as string[],
    classCounts: JSON.parse(row.class_counts) as Record<string, number>,
    splitCounts: JSON.parse(row.split_counts) as Record<SplitName, Record<string, number>>,
    splitHash: row.split_hash,
  };
}
