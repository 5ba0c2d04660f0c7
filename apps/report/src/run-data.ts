import type { DatasetInput, Prediction, Run, SkippedFile, SplitMember, TrackingStore } from '@mlbench/tracking';
import type { LinePoint } from './charts/line-chart';

/** Everything the summary views (index rows) need about one run. */
export interface RunSummaryData {
  run: Run;
  params: Readonly<Record<string, string>>;
  /** Final metrics (step null) by key. */
  final: Readonly<Record<string, number>>;
  /** Learning curves by key (`train.loss`, ...), sorted by step. */
  curves: Readonly<Record<string, readonly LinePoint[]>>;
  dataset: DatasetInput | null;
  extractor: Readonly<Record<string, string>>;
}

/** A run with its split membership and predictions: what run and comparison pages need. */
export interface RunData extends RunSummaryData {
  split: readonly SplitMember[];
  predictions: readonly Prediction[];
  /** Files left out by `dataset.onBadImage: skip`, with the reason. */
  skippedFiles: readonly SkippedFile[];
}

export async function loadRunSummary(store: TrackingStore, run: Run): Promise<RunSummaryData> {
  const [params, metrics, dataset, extractor] = await Promise.all([store.getParams(run.id), store.getMetrics(run.id), store.getDatasetInput(run.id), store.getExtractor(run.id)]);
  const final: Record<string, number> = {};
  const curves: Record<string, LinePoint[]> = {};
  for (const metric of metrics) {
    if (metric.step === null) final[metric.key] = metric.value;
    else (curves[metric.key] ??= []).push({ x: metric.step, y: metric.value });
  }
  for (const points of Object.values(curves)) points.sort((a, b) => a.x - b.x);
  return { run, params: Object.fromEntries(params.map((p) => [p.key, p.value])), final, curves, dataset, extractor };
}

export async function loadRunData(store: TrackingStore, run: Run): Promise<RunData> {
  const [summary, split, predictions, skippedFiles] = await Promise.all([loadRunSummary(store, run), store.getSplit(run.id), store.getPredictions(run.id), store.getSkippedFiles(run.id)]);
  return { ...summary, split, predictions, skippedFiles };
}
