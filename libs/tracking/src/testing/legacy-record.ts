/**
 * Writes a run's record as schema versions 1-7 held it (split, prediction and audit rows per run,
 * in split_members, predictions and audit_results), for tests that migrate older databases forward.
 */

import type { AuditResult, Prediction, SplitMember } from '../entities';
import type { SqlParams, SqlTransaction } from '../database/database';
import { decodeFloat64, encodeFloat64, type AuditRow, type PredictionRow } from '../store/rows';
import { toAuditResult } from '../store/shared-records';
import { SqlTrackingStore } from '../store/sql-tracking-store';
import { writeOwnRows, type StoredRecord } from '../store/run-record-writer';

export async function writeLegacyRunRecord(tx: SqlTransaction, runId: string, record: StoredRecord): Promise<void> {
  await writeOwnRows(tx, runId, record);
  await tx.runMany(
    'INSERT INTO predictions (run_id, path, split, true_label, predicted_label, probabilities) VALUES (?, ?, ?, ?, ?, ?)',
    record.predictions.map((p): SqlParams => [runId, p.path, p.split, p.trueLabel, p.predictedLabel, encodeFloat64(p.probabilities)]),
  );
  await tx.runMany(
    'INSERT INTO split_members (run_id, path, sha256, label, split) VALUES (?, ?, ?, ?, ?)',
    record.split.map((m): SqlParams => [runId, m.path, m.sha256, m.label, m.split]),
  );
  await tx.runMany(
    `INSERT INTO audit_results (run_id, path, given_label, suggested_label, self_confidence, score, rank, flag, fold, probabilities)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    (record.audit ?? []).map((a): SqlParams => [runId, a.path, a.givenLabel, a.suggestedLabel, a.selfConfidence, a.score, a.rank, a.flag, a.fold, encodeFloat64(a.probabilities)]),
  );
}

/** Reads split, predictions and audit as schema versions 1-7 held them: exports of an older database, as the code of then made them. */
export class LegacyTrackingStore extends SqlTrackingStore {
  override async getPredictions(runId: string): Promise<Prediction[]> {
    const rows = await this.db.all<PredictionRow>('SELECT * FROM predictions WHERE run_id = ? ORDER BY rowid', [runId]);
    return rows.map((r) => ({ path: r.path, split: r.split, trueLabel: r.true_label, predictedLabel: r.predicted_label, probabilities: decodeFloat64(r.probabilities) }));
  }

  override getSplit(runId: string): Promise<SplitMember[]> {
    return this.db.all<SplitMember>('SELECT path, sha256, label, split FROM split_members WHERE run_id = ? ORDER BY rowid', [runId]);
  }

  override async getAuditResults(runId: string): Promise<AuditResult[]> {
    return (await this.db.all<AuditRow>('SELECT * FROM audit_results WHERE run_id = ? ORDER BY rowid', [runId])).map(toAuditResult);
  }
}

/** Reads split, predictions and audit as schema version 8 held them (shared records one row per image). */
export class LegacyV8TrackingStore extends LegacyTrackingStore {
  override getSplit(runId: string): Promise<SplitMember[]> {
    return this.db.all<SplitMember>(
      `SELECT i.path, i.sha256, i.label, a.split
         FROM runs r
         JOIN splits s ON s.id = r.split_id
         JOIN split_assignments a ON a.split_id = s.id
         JOIN dataset_images i ON i.list_id = s.list_id AND i.position = a.position
        WHERE r.id = ?
        ORDER BY a.position`,
      [runId],
    );
  }

  override async getAuditResults(runId: string): Promise<AuditResult[]> {
    const rows = await this.db.all<AuditRow>('SELECT v.* FROM runs r JOIN audit_verdicts v ON v.set_id = r.audit_set_id WHERE r.id = ? ORDER BY v.position', [runId]);
    return rows.map(toAuditResult);
  }
}
