/**
 * Writes a run's record as schema versions 1-7 held it (split and audit rows per run, in
 * split_members and audit_results), for tests that migrate older databases forward.
 */

import type { AuditResult, SplitMember } from '../entities';
import type { SqlParams, SqlTransaction } from '../database/database';
import { encodeFloat64, type AuditRow } from '../store/rows';
import { toAuditResult } from '../store/shared-records';
import { SqlTrackingStore } from '../store/sql-tracking-store';
import { writeOwnRows, type StoredRecord } from '../store/run-record-writer';

export async function writeLegacyRunRecord(tx: SqlTransaction, runId: string, record: StoredRecord): Promise<void> {
  await writeOwnRows(tx, runId, record);
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

/** Reads split and audit as schema versions 1-7 held them: exports of an older database, as the code of then made them. */
export class LegacyTrackingStore extends SqlTrackingStore {
  override getSplit(runId: string): Promise<SplitMember[]> {
    return this.db.all<SplitMember>('SELECT path, sha256, label, split FROM split_members WHERE run_id = ? ORDER BY rowid', [runId]);
  }

  override async getAuditResults(runId: string): Promise<AuditResult[]> {
    return (await this.db.all<AuditRow>('SELECT * FROM audit_results WHERE run_id = ? ORDER BY rowid', [runId])).map(toAuditResult);
  }
}
