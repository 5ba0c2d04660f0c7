/**
 * The parts of a run's record that many runs share, stored once (schema migration 8), packed one
 * row each (migration 10, see packed-columns.ts):
 *
 * - an image list (path, sha256, label of every image, in the run's order): once per content,
 *   in practice once per dataset fingerprint (`image_lists`, `dataset_images`);
 * - a split (train/val/test of each image of a list): once per content, in practice once per
 *   split hash (`splits`, its `assignments` one letter per image);
 * - a label audit's verdicts: once per content, so a re-run with the same data, seed and config
 *   adds nothing (`audit_sets`, one row per audit with its verdicts packed by column; images by
 *   their position in the list of the run that stored it).
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
import { InvalidArgumentError } from '../errors';
import { decodeFloat64, encodeFloat64, type AuditRow } from './rows';
import {
  decodeIntegers,
  decodeInts,
  encodeInts,
  flagLetters,
  packDoubles,
  packImages,
  packVectors,
  splitLetters,
  storedCount,
  unpackDoubles,
  unpackImages,
  unpackVectors,
} from './packed-columns';

/** A stored split: its id and its image list's id (the positions that per-image columns refer to). */
export interface StoredSplit {
  splitId: number;
  listId: number;
}

/** Writes the run's split (and its image list) unless already stored; null for none. */
export async function storeSplit(tx: SqlTransaction, split: readonly SplitMember[], dataset: { fingerprint: string; splitHash: string } | null): Promise<StoredSplit | null> {
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
  const assignments = splitLetters.encode(split.map((m) => m.split));
  const splitId = await getOrInsert(
    tx,
    'splits',
    splitHash,
    'INSERT INTO splits (content_hash, list_id, split_hash, assignments) VALUES (?, ?, ?, ?) ON CONFLICT (content_hash) DO NOTHING',
    [splitHash, listId, dataset?.splitHash ?? null, assignments],
    async () => undefined,
  );
  return { splitId, listId };
}

/**
 * Writes the audit verdicts unless already stored; returns the set's id, null for no audit.
 * `list`: the run's image list (its id and paths), which the verdicts' images refer to.
 */
export async function storeAudit(tx: SqlTransaction, results: readonly AuditResult[], list: ImageList | null): Promise<number | null> {
  if (results.length === 0) return null;
  const paths = results.map((a) => a.path);
  if (new Set(paths).size !== paths.length) throw new InvalidArgumentError('audit results name an image twice');
  const contentHash = auditContentHash(results);
  return getOrInsert(
    tx,
    'audit_sets',
    contentHash,
    `INSERT INTO audit_sets (content_hash, size, ${AUDIT_PACKED_COLUMNS.join(', ')})
     VALUES (?, ?, ${AUDIT_PACKED_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (content_hash) DO NOTHING`,
    [contentHash, results.length, ...packAudit(results, list)],
    async () => undefined,
  );
}

/** The packed columns of audit_sets (migration 10), in the order packAudit gives their values. */
export const AUDIT_PACKED_COLUMNS = ['list_id', 'positions', 'paths', 'given_labels', 'suggested_labels', 'ranks', 'folds', 'flags', 'scores', 'prob_stride', 'prob_counts', 'probabilities'] as const;

export function packAudit(results: readonly AuditResult[], list: ImageList | null): SqlParams {
  const images = packImages(results.map((a) => a.path), list?.paths ?? null);
  const probabilities = packVectors(results.map((a) => a.probabilities));
  return [
    images.paths === null ? (list?.id ?? null) : null,
    images.positions,
    images.paths,
    encodeInts(results.map((a) => a.givenLabel), 'audit given label'),
    encodeInts(results.map((a) => a.suggestedLabel), 'audit suggested label'),
    encodeInts(results.map((a) => a.rank), 'audit rank'),
    encodeInts(results.map((a) => a.fold), 'audit fold'),
    flagLetters.encode(results.map((a) => a.flag)),
    packDoubles(results.flatMap((a) => [a.selfConfidence, a.score])),
    probabilities.stride,
    probabilities.counts,
    probabilities.data,
  ];
}

/** An image list: its id and its paths in position order. */
export interface ImageList {
  id: number;
  paths: readonly string[];
}

/** The paths of a stored image list, in position order. */
export async function readListPaths(db: SqlExecutor, listId: number | string | null): Promise<string[] | null> {
  if (listId === null) return null;
  const rows = await db.all<{ path: string }>('SELECT path FROM dataset_images WHERE list_id = ? ORDER BY position', [Number(listId)]);
  return rows.map((r) => r.path);
}

export async function readSplit(db: SqlExecutor, runId: string): Promise<SplitMember[]> {
  const split = await db.get<{ list_id: number | string; assignments: string }>(
    'SELECT s.list_id, s.assignments FROM runs r JOIN splits s ON s.id = r.split_id WHERE r.id = ?',
    [runId],
  );
  if (!split) return [];
  const images = await db.all<Omit<SplitMember, 'split'>>('SELECT path, sha256, label FROM dataset_images WHERE list_id = ? ORDER BY position', [Number(split.list_id)]);
  const names = splitLetters.decode(split.assignments);
  if (names.length !== images.length) throw new InvalidArgumentError(`stored split of run ${runId} has ${names.length} assignments for ${images.length} images`);
  return images.map((m, k) => ({ path: m.path, sha256: m.sha256, label: Number(m.label), split: names[k] }));
}

interface AuditSetRow {
  size: number | string;
  list_id: number | string | null;
  positions: string | null;
  paths: string | null;
  given_labels: string;
  suggested_labels: string;
  ranks: string;
  folds: string;
  flags: string;
  scores: Buffer | null;
  prob_stride: number;
  prob_counts: string | null;
  probabilities: Buffer | null;
}

/** A run's verdicts in stored order; with `flag`, those of that flag by rank (unranked last). */
export async function readAudit(db: SqlExecutor, runId: string, flag?: AuditResult['flag']): Promise<AuditResult[]> {
  const row = await db.get<AuditSetRow>('SELECT a.* FROM runs r JOIN audit_sets a ON a.id = r.audit_set_id WHERE r.id = ?', [runId]);
  if (!row) return [];
  const all = unpackAudit(row, await readListPaths(db, row.list_id));
  if (flag === undefined) return all;
  return all
    .map((a, k) => ({ a, k }))
    .filter(({ a }) => a.flag === flag)
    .sort((x, y) => (x.a.rank ?? Infinity) - (y.a.rank ?? Infinity) || x.k - y.k)
    .map(({ a }) => a);
}

function unpackAudit(row: AuditSetRow, list: readonly string[] | null): AuditResult[] {
  const flags = flagLetters.decode(row.flags);
  const n = storedCount(row.size, flags.length, 'audit');
  const paths = unpackImages(row, n, list);
  const given = decodeIntegers(row.given_labels, n, 'audit given label');
  const suggested = decodeInts(row.suggested_labels, n);
  const ranks = decodeInts(row.ranks, n);
  const folds = decodeIntegers(row.folds, n, 'audit fold');
  const scores = unpackDoubles(row.scores);
  const probabilities = unpackVectors({ stride: row.prob_stride, counts: row.prob_counts, data: row.probabilities }, n);
  if (scores.length !== 2 * n) throw new InvalidArgumentError(`stored audit of ${n} verdicts has ${scores.length} scores`);
  return paths.map((path, k) => ({
    path,
    givenLabel: given[k],
    suggestedLabel: suggested[k],
    selfConfidence: scores[2 * k],
    score: scores[2 * k + 1],
    rank: ranks[k],
    flag: flags[k],
    fold: folds[k],
    probabilities: probabilities[k],
  }));
}

/** An audit row of schema versions 5-8 (one row per verdict) as an entity. */
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

export async function getOrInsert(
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

/** The content hashes (stable since migration 8: records stored then are found again). */
export function imageListHash(split: readonly SplitMember[]): string {
  return hashOf('image-list', (h) => {
    for (const m of split) line(h, [m.path, m.sha256, m.label]);
  });
}

export function splitContentHash(listHash: string, split: readonly SplitMember[]): string {
  return hashOf('split', (h) => {
    h.update(`${listHash}\n`);
    for (const m of split) line(h, [m.split]);
  });
}

export function auditContentHash(results: readonly AuditResult[]): string {
  return hashOf('audit', (h) => {
    for (const a of results) {
      line(h, [a.path, a.givenLabel, a.suggestedLabel, a.rank, a.flag, a.fold]);
      // The doubles by their bytes: JSON would merge -0 with 0 and NaN with null.
      h.update(encodeFloat64([a.selfConfidence, a.score, a.probabilities.length, ...a.probabilities]));
    }
  });
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
