/**
 * Migration 10's data step (both engines): the per-image rows of schema version 8 (split_assignments,
 * audit_verdicts, predictions) become the packed columns of store/packed-columns.ts, in their order.
 */

import type { SqlTransaction } from './database/database';
import type { AuditRow } from './store/rows';
import { decodeFloat64 } from './store/rows';
import type { Prediction, SplitName } from './entities';
import { storePredictions } from './store/run-predictions';
import { AUDIT_PACKED_COLUMNS, packAudit, readListPaths, toAuditResult, type ImageList } from './store/shared-records';
import { splitLetters } from './store/packed-columns';

export async function packPerImageRows(tx: SqlTransaction): Promise<void> {
  const assignments = await tx.all<{ split_id: number | string; split: SplitName }>('SELECT split_id, split FROM split_assignments ORDER BY split_id, position');
  const bySplit = new Map<number, SplitName[]>();
  for (const a of assignments) {
    const id = Number(a.split_id);
    const list = bySplit.get(id) ?? [];
    list.push(a.split);
    bySplit.set(id, list);
  }
  for (const [id, names] of bySplit) await tx.run('UPDATE splits SET assignments = ? WHERE id = ?', [splitLetters.encode(names), id]);

  const lists = new Map<number, string[] | null>();
  const listOf = async (listId: number | string | null | undefined): Promise<ImageList | null> => {
    if (listId === null || listId === undefined) return null;
    const id = Number(listId);
    if (!lists.has(id)) lists.set(id, await readListPaths(tx, id));
    const paths = lists.get(id) ?? null;
    return paths === null ? null : { id, paths };
  };

  const sets = await tx.all<{ id: number | string }>('SELECT id FROM audit_sets ORDER BY id');
  for (const { id } of sets) {
    const verdicts = (await tx.all<AuditRow>('SELECT * FROM audit_verdicts WHERE set_id = ? ORDER BY position', [Number(id)])).map(toAuditResult);
    // The verdicts' images by position in the list of the first run that has them.
    const owner = await tx.get<{ list_id: number | string }>(
      'SELECT s.list_id FROM runs r JOIN splits s ON s.id = r.split_id WHERE r.audit_set_id = ? ORDER BY r.rowid LIMIT 1',
      [Number(id)],
    );
    await tx.run(`UPDATE audit_sets SET ${AUDIT_PACKED_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [...packAudit(verdicts, await listOf(owner?.list_id)), Number(id)]);
  }

  const runs = await tx.all<{ id: string; list_id: number | string | null }>(
    'SELECT r.id, s.list_id FROM runs r LEFT JOIN splits s ON s.id = r.split_id WHERE EXISTS (SELECT 1 FROM predictions p WHERE p.run_id = r.id) ORDER BY r.rowid',
  );
  for (const run of runs) {
    const rows = await tx.all<{ path: string; split: SplitName; true_label: number; predicted_label: number; probabilities: Buffer | null }>(
      'SELECT path, split, true_label, predicted_label, probabilities FROM predictions WHERE run_id = ? ORDER BY rowid',
      [run.id],
    );
    const predictions = rows.map((r): Prediction => ({ path: r.path, split: r.split, trueLabel: Number(r.true_label), predictedLabel: Number(r.predicted_label), probabilities: decodeFloat64(r.probabilities) }));
    await storePredictions(tx, run.id, predictions, await listOf(run.list_id));
  }
}
