/**
 * The writer of shared records as schema version 8 held them (one row per image in
 * split_assignments and audit_verdicts), kept unchanged for migration 8's data step: a released
 * migration must do what it did when it was released. Migration 10 packs these rows.
 */

import type { AuditResult, SplitMember } from '../entities';
import type { SqlParams, SqlTransaction } from '../database/database';
import { encodeFloat64 } from './rows';
import { auditContentHash, getOrInsert, imageListHash, splitContentHash } from './shared-records';

export async function storeSplitV8(tx: SqlTransaction, split: readonly SplitMember[], dataset: { fingerprint: string; splitHash: string } | null): Promise<number | null> {
  if (split.length === 0) return null;
  const listHash = imageListHash(split);
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
  const splitHash = splitContentHash(listHash, split);
  return getOrInsert(
    tx,
    'splits',
    splitHash,
    'INSERT INTO splits (content_hash, list_id, split_hash) VALUES (?, ?, ?) ON CONFLICT (content_hash) DO NOTHING',
    [splitHash, listId, dataset?.splitHash ?? null],
    (id) => tx.runMany('INSERT INTO split_assignments (split_id, position, split) VALUES (?, ?, ?)', split.map((m, i): SqlParams => [id, i, m.split])),
  );
}

export async function storeAuditV8(tx: SqlTransaction, results: readonly AuditResult[]): Promise<number | null> {
  if (results.length === 0) return null;
  const contentHash = auditContentHash(results);
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
