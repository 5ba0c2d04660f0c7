/**
 * The parts of a run's record that many runs share, stored once (schema migration 8):
 *
 * - an image list (path, sha256, label of every image, in the run's order): once per content,
 *   in practice once per dataset fingerprint (`image_lists`, `dataset_images`);
 * - a split (train/val/test of each image of a list): once per content, in practice once per
 *   split hash (`splits`, `split_assignments`);
 * - a label audit's verdicts: once per content, so a re-run with the same data, seed and config
 *   adds nothing (`audit_sets`, `audit_verdicts`).
 *
 * Each is found again by a sha256 over its exact content (`content_hash`), so sharing can never
 * merge two different records: the fingerprint and split hash are kept beside it, as information.
 * A run references them (`runs.split_id`, `runs.audit_set_id`); the views `split_members` and
 * `audit_results` show them per run, as the tables of that name did before migration 8.
 * Concurrent writers of the same content: `INSERT ... ON CONFLICT DO NOTHING` waits for the
 * other transaction, and only the one that inserted the header row writes the members.
 */

import { createHash, type Hash } from 'node:crypto';
import type { AuditResult, SplitMember } from '../entities';
import type { SqlExecutor, SqlParams, SqlTransaction } from '../database/database';
import { decodeFloat64, encodeFloat64, type AuditRow } from './rows';

/** Writes the run's split (and its image list) unless already stored; returns the split's id, null for none. */
export async function storeSplit(tx: SqlTransaction, split: readonly SplitMember[], dataset: { fingerprint: string; splitHash: string } | null): Promise<number | null> {
  if (split.length === 0) return null;
  const listHash = hashOf('image-list', (h) => {
    for (const m of split) line(h, [m.path, m.sha256, m.label]);
  });
  const listId = await getOrInsert(
    tx,
    'image_lists',
    listHash,
    'INSERT INTO image_lists (content_hash, fingerprint, size) VALUES (?, ?, ?) ON CONFLICT (content_hash) DO NOTHING',
    [listHash, dataset?.fingerprint ?? null, split.length],
    (id) =>
      tx.runMany(
        'INSERT INTO dataset_images (list_id, position, path, sha256, label) VALUES (?, ?, ?, ?, ?)',
        split.map((m, i): SqlParams => [id, i, m.path, m.sha256, m.label]),
      ),
  );
  const splitHash = hashOf('split', (h) => {
    h.update(`${listHash}\n`);
    for (const m of split) line(h, [m.split]);
  });
  return getOrInsert(
    tx,
    'splits',
    splitHash,
    'INSERT INTO splits (content_hash, list_id, split_hash) VALUES (?, ?, ?) ON CONFLICT (content_hash) DO NOTHING',
    [splitHash, listId, dataset?.splitHash ?? null],
    (id) => tx.runMany('INSERT INTO split_assignments (split_id, position, split) VALUES (?, ?, ?)', split.map((m, i): SqlParams => [id, i, m.split])),
  );
}

/** Writes the audit verdicts unless already stored; returns the set's id, null for no audit. */
export async function storeAudit(tx: SqlTransaction, results: readonly AuditResult[]): Promise<number | null> {
  if (results.length === 0) return null;
  const contentHash = hashOf('audit', (h) => {
    for (const a of results) {
      line(h, [a.path, a.givenLabel, a.suggestedLabel, a.rank, a.flag, a.fold]);
      // The doubles by their bytes: JSON would merge -0 with 0 and NaN with null.
      h.update(encodeFloat64([a.selfConfidence, a.score, a.probabilities.length, ...a.probabilities]));
    }
  });
  return getOrInsert(
    tx,
    'audit_sets',
    contentHash,
    'INSERT INTO audit_sets (content_hash, size) VALUES (?, ?) ON CONFLICT (content_hash) DO NOTHING',
    [contentHash, results.length],
    (id) =>
      tx.runMany(
        `INSERT INTO audit_verdicts (set_id, position, path, given_label, suggested_label, self_confidence, score, rank, flag, fold, probabilities)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        results.map((a, i): SqlParams => [id, i, a.path, a.givenLabel, a.suggestedLabel, a.selfConfidence, a.score, a.rank, a.flag, a.fold, encodeFloat64(a.probabilities)]),
      ),
  );
}

export function readSplit(db: SqlExecutor, runId: string): Promise<SplitMember[]> {
  return db.all<SplitMember>(
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

export async function readAudit(db: SqlExecutor, runId: string, flag?: AuditResult['flag']): Promise<AuditResult[]> {
  const select = `SELECT v.* FROM runs r JOIN audit_verdicts v ON v.set_id = r.audit_set_id WHERE r.id = ?`;
  const rows =
    flag === undefined
      ? await db.all<AuditRow>(`${select} ORDER BY v.position`, [runId])
      : await db.all<AuditRow>(`${select} AND v.flag = ? ORDER BY v.rank, v.position`, [runId, flag]);
  return rows.map(toAuditResult);
}

export function toAuditResult(r: AuditRow): AuditResult {
  return {
    path: r.path,
    givenLabel: r.given_label,
    suggestedLabel: r.suggested_label,
    selfConfidence: r.self_confidence,
    score: r.score,
    rank: r.rank,
    flag: r.flag,
    fold: r.fold,
    probabilities: decodeFloat64(r.probabilities),
  };
}

async function getOrInsert(
  tx: SqlTransaction,
  table: 'image_lists' | 'splits' | 'audit_sets',
  contentHash: string,
  insertSql: string,
  insertParams: SqlParams,
  writeMembers: (id: number) => Promise<unknown>,
): Promise<number> {
  const find = () => tx.get<{ id: number }>(`SELECT id FROM ${table} WHERE content_hash = ?`, [contentHash]);
  const found = await find();
  if (found) return Number(found.id);
  const { changes } = await tx.run(insertSql, insertParams);
  const row = await find();
  if (!row) throw new Error(`${table} row ${contentHash} vanished inside its transaction`);
  const id = Number(row.id);
  if (changes > 0) await writeMembers(id);
  return id;
}

function hashOf(kind: string, feed: (h: Hash) => void): string {
  const h = createHash('sha256');
  h.update(`mlbench ${kind} v1\n`);
  feed(h);
  return h.digest('hex');
}

function line(h: Hash, values: readonly (string | number | null)[]): void {
  h.update(`${JSON.stringify(values)}\n`);
}
