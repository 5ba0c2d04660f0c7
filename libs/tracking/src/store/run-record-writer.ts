/**
 * The one writer of a run's record (params, metrics, dataset, extractor, split, predictions,
 * skipped files, audit; split and audit shared between runs, see shared-records.ts; predictions
 * packed, see run-predictions.ts), used by `completeRun` and `importRun` alike, inside their transaction.
 */

import type { AuditResult, DatasetInput, Metric, Param, Prediction, SkippedFile, SplitMember } from '../entities';
import { InvalidArgumentError, ParamConflictError } from '../errors';
import type { SqlParams, SqlTransaction } from '../database/database';
import { storePredictions } from './run-predictions';
import { storeAudit, storeSplit } from './shared-records';

/** What a finished run's record holds, as written (an import may lack a dataset). */
export interface StoredRecord {
  params: readonly Param[];
  metrics: readonly Metric[];
  dataset: DatasetInput | null;
  extractor: Readonly<Record<string, string>>;
  split: readonly SplitMember[];
  predictions: readonly Prediction[];
  skippedFiles?: readonly SkippedFile[];
  audit?: readonly AuditResult[];
}

export async function writeRunRecord(tx: SqlTransaction, runId: string, record: StoredRecord): Promise<void> {
  await writeOwnRows(tx, runId, record);
  // Shared with other runs of the same dataset, split and audit (see shared-records.ts).
  const stored = await storeSplit(tx, record.split, record.dataset);
  // Per-image columns name images by their position in this list (see packed-columns.ts).
  const list = stored === null ? null : { id: stored.listId, paths: record.split.map((m) => m.path) };
  await storePredictions(tx, runId, record.predictions, list);
  const auditSetId = await storeAudit(tx, record.audit ?? [], list);
  if (stored !== null || auditSetId !== null) await tx.run('UPDATE runs SET split_id = ?, audit_set_id = ? WHERE id = ?', [stored?.splitId ?? null, auditSetId, runId]);
}

/** The rows that are the run's alone and kept one per row: everything but its split, predictions and audit. */
export async function writeOwnRows(tx: SqlTransaction, runId: string, record: StoredRecord): Promise<void> {
  await insertParams(tx, runId, record.params);
  await insertMetrics(tx, runId, record.metrics);
  const d = record.dataset;
  if (d) {
    await tx.run(
      `INSERT INTO dataset_inputs (run_id, path, fingerprint, classes, class_counts, split_counts, split_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [runId, d.path, d.fingerprint, JSON.stringify(d.classes), JSON.stringify(d.classCounts), JSON.stringify(d.splitCounts), d.splitHash],
    );
  }
  await tx.runMany(
    'INSERT INTO extractor (run_id, key, value) VALUES (?, ?, ?)',
    Object.entries(record.extractor).map(([key, value]): SqlParams => [runId, key, value]),
  );
  await insertSkipped(tx, runId, record.skippedFiles ?? []);
}

/** MLflow semantics: params are write-once; the same value again is accepted (and not duplicated). */
export async function insertParams(tx: SqlTransaction, runId: string, params: readonly Param[]): Promise<void> {
  if (params.length === 0) return;
  const rows = await tx.all<Param>('SELECT key, value FROM params WHERE run_id = ?', [runId]);
  const known = new Map(rows.map((r) => [r.key, r.value]));
  const fresh: SqlParams[] = [];
  for (const { key, value } of params) {
    if (typeof value !== 'string') throw new InvalidArgumentError(`param ${key} must be a string`);
    const existing = known.get(key);
    if (existing === undefined) {
      known.set(key, value);
      fresh.push([runId, key, value]);
    } else if (existing !== value) {
      throw new ParamConflictError(runId, key, existing, value);
    }
  }
  await tx.runMany('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)', fresh);
}

export async function insertMetrics(tx: SqlTransaction, runId: string, metrics: readonly Metric[]): Promise<void> {
  if (metrics.length === 0) return;
  await tx.runMany(
    'INSERT INTO metrics (run_id, key, value, step) VALUES (?, ?, ?, ?)',
    metrics.map((m): SqlParams => [runId, m.key, Number.isNaN(m.value) ? null : m.value, m.step]),
  );
}

/** A file skipped twice (a retried check) is recorded once. */
export async function insertSkipped(tx: SqlTransaction, runId: string, files: readonly SkippedFile[]): Promise<void> {
  if (files.length === 0) return;
  await tx.runMany(
    'INSERT INTO skipped_files (run_id, path, sha256, reason) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    files.map((f): SqlParams => [runId, f.path, f.sha256, f.reason]),
  );
}

export function validateMetrics(metrics: readonly Metric[]): void {
  for (const m of metrics) {
    if (typeof m.value !== 'number') throw new InvalidArgumentError(`metric ${m.key}: value must be a number`);
    if (m.step !== null && !Number.isSafeInteger(m.step)) throw new InvalidArgumentError(`metric ${m.key}: step must be an integer or null, got ${m.step}`);
  }
}

export function validateAudit(results: readonly AuditResult[]): void {
  for (const a of results) {
    if (!Number.isFinite(a.selfConfidence) || !Number.isFinite(a.score)) {
      throw new InvalidArgumentError(`audit result ${a.path}: selfConfidence and score must be finite numbers, got ${a.selfConfidence} and ${a.score}`);
    }
    if (a.flag !== 'label_issue' && a.flag !== 'no_confident_class' && a.flag !== 'ok') throw new InvalidArgumentError(`audit result ${a.path}: unknown flag ${String(a.flag)}`);
    if ((a.flag === 'label_issue') !== (a.suggestedLabel !== null)) {
      throw new InvalidArgumentError(`audit result ${a.path}: a suggested label is given exactly for label issues (flag ${a.flag}, suggested ${a.suggestedLabel})`);
    }
  }
}
