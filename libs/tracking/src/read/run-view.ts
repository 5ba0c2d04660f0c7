/**
 * The read side of a run, MLflow style (`Run = info + data`): a run view is the run with its
 * params, final metrics, learning curves, dataset and extractor; run details add the split,
 * the predictions and the skipped files. Every reader (report pages, `runs show`, reproduce,
 * sweeps) loads runs through here.
 */

import type { DatasetInput, Metric, Prediction, Run, SkippedFile, SplitMember } from '../entities';
import type { TrackingStore } from '../store';

/** One point of a learning curve: x is the step (epoch), y the value. */
export interface CurvePoint {
  x: number;
  y: number;
}

export interface RunView {
  run: Run;
  params: Readonly<Record<string, string>>;
  /** Final metrics (step null) by key. */
  final: Readonly<Record<string, number>>;
  /** Learning curves by key (`train.loss`, ...), sorted by step. */
  curves: Readonly<Record<string, readonly CurvePoint[]>>;
  dataset: DatasetInput | null;
  extractor: Readonly<Record<string, string>>;
}

/** A run view with the split membership, predictions and skipped files (run and comparison pages). */
export interface RunDetails extends RunView {
  split: readonly SplitMember[];
  predictions: readonly Prediction[];
  /** Files left out by `dataset.onBadImage: skip`, with the reason. */
  skippedFiles: readonly SkippedFile[];
}

/** Final metrics (step null) as a key -> value map; a key logged twice keeps its last value. */
export function finalMetrics(metrics: readonly Metric[]): Record<string, number> {
  const final: Record<string, number> = {};
  for (const m of metrics) if (m.step === null) final[m.key] = m.value;
  return final;
}

/** Learning curves (metrics with a step) by key, each sorted by step. */
export function metricCurves(metrics: readonly Metric[]): Record<string, CurvePoint[]> {
  const curves: Record<string, CurvePoint[]> = {};
  for (const m of metrics) if (m.step !== null) (curves[m.key] ??= []).push({ x: m.step, y: m.value });
  for (const points of Object.values(curves)) points.sort((a, b) => a.x - b.x);
  return curves;
}

export async function loadRunView(store: TrackingStore, run: Run): Promise<RunView> {
  const [params, metrics, dataset, extractor] = await Promise.all([store.getParams(run.id), store.getMetrics(run.id), store.getDatasetInput(run.id), store.getExtractor(run.id)]);
  return { run, params: Object.fromEntries(params.map((p) => [p.key, p.value])), final: finalMetrics(metrics), curves: metricCurves(metrics), dataset, extractor };
}

/** `view` reuses a run view loaded already. */
export async function loadRunDetails(store: TrackingStore, run: Run, view?: RunView): Promise<RunDetails> {
  const [loaded, split, predictions, skippedFiles] = await Promise.all([view ?? loadRunView(store, run), store.getSplit(run.id), store.getPredictions(run.id), store.getSkippedFiles(run.id)]);
  return { ...loaded, split, predictions, skippedFiles };
}
