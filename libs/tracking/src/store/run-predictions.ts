/**
 * A run's per-image predictions, packed into one `run_predictions` row per run (schema migration
 * 10, see packed-columns.ts): images by their position in the run's image list, split letters,
 * labels as fixed-width integers, probabilities as one float64 array. The view `predictions`
 * shows them one row per image, as the table of that name did before.
 */

import type { Prediction, SplitName } from '../entities';
import type { SqlExecutor, SqlTransaction } from '../database/database';
import { InvalidArgumentError } from '../errors';
import { decodeIntegers, encodeInts, packImages, packVectors, splitLetters, storedCount, unpackImages, unpackVectors } from './packed-columns';
import { readListPaths, type ImageList } from './shared-records';

export async function storePredictions(tx: SqlTransaction, runId: string, predictions: readonly Prediction[], list: ImageList | null): Promise<void> {
  if (predictions.length === 0) return;
  const seen = new Set<string>();
  for (const p of predictions) {
    const key = `${p.split}\n${p.path}`;
    if (seen.has(key)) throw new InvalidArgumentError(`prediction for ${p.path} (${p.split}) is given twice`);
    seen.add(key);
  }
  const images = packImages(predictions.map((p) => p.path), list?.paths ?? null);
  const probabilities = packVectors(predictions.map((p) => p.probabilities));
  await tx.run(
    `INSERT INTO run_predictions (run_id, size, list_id, positions, paths, splits, true_labels, predicted_labels, prob_stride, prob_counts, probabilities)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      runId,
      predictions.length,
      images.paths === null ? (list?.id ?? null) : null,
      images.positions,
      images.paths,
      splitLetters.encode(predictions.map((p) => p.split)),
      encodeInts(predictions.map((p) => p.trueLabel), 'prediction true label'),
      encodeInts(predictions.map((p) => p.predictedLabel), 'prediction predicted label'),
      probabilities.stride,
      probabilities.counts,
      probabilities.data,
    ],
  );
}

interface RunPredictionsRow {
  size: number | string;
  list_id: number | string | null;
  positions: string | null;
  paths: string | null;
  splits: string;
  true_labels: string;
  predicted_labels: string;
  prob_stride: number;
  prob_counts: string | null;
  probabilities: Buffer | null;
}

export async function readPredictions(db: SqlExecutor, runId: string, split?: SplitName): Promise<Prediction[]> {
  const row = await db.get<RunPredictionsRow>('SELECT * FROM run_predictions WHERE run_id = ?', [runId]);
  if (!row) return [];
  const splits = splitLetters.decode(row.splits);
  const n = storedCount(row.size, splits.length, `predictions of run ${runId}`);
  const paths = unpackImages(row, n, await readListPaths(db, row.list_id));
  const truth = decodeIntegers(row.true_labels, n, 'prediction true label');
  const predicted = decodeIntegers(row.predicted_labels, n, 'prediction predicted label');
  const probabilities = unpackVectors({ stride: row.prob_stride, counts: row.prob_counts, data: row.probabilities }, n);
  const out: Prediction[] = [];
  for (let k = 0; k < n; k++) {
    if (split !== undefined && splits[k] !== split) continue;
    out.push({ path: paths[k], split: splits[k], trueLabel: truth[k], predictedLabel: predicted[k], probabilities: probabilities[k] });
  }
  return out;
}
