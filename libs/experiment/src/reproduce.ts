import { openSqliteStore, type Run, type TrackingStore } from '@mlbench/tracking';
import { experimentConfigSchema } from './config-schema';
import type { LoadedConfig } from './config';
import { ConfigError } from './errors';
import { runExperiment, type RunExperimentOptions } from './pipeline';
import { diffRuns, type RunDiff, type RunSnapshot } from './run-diff';
import { UnknownRunError } from './unknown-run-error';
import { verifyRun, type Verification } from './verify';

export { UnknownRunError };

/** Final metrics, split, predictions and environment of a recorded run. */
export async function snapshotRun(store: TrackingStore, runId: string): Promise<RunSnapshot> {
  const run = await store.getRun(runId);
  if (!run) throw new UnknownRunError(runId, store.location);
  const [metrics, dataset, predictions] = await Promise.all([store.getMetrics(runId), store.getDatasetInput(runId), store.getPredictions(runId)]);
  return {
    splitHash: dataset?.splitHash ?? null,
    datasetFingerprint: dataset?.fingerprint ?? null,
    metrics: Object.fromEntries(metrics.filter((m) => m.step === null).map((m) => [m.key, m.value])),
    predictions,
    environment: run.environment,
  };
}

/** The recorded, resolved config of a run, validated again, ready to run. */
export function configOfRun(run: Run): LoadedConfig {
  const parsed = experimentConfigSchema.safeParse(run.resolvedConfig);
  const file = run.environment['config.file'] ?? `(run ${run.id})`;
  if (!parsed.success) {
    throw new ConfigError(`run ${run.id}: its recorded config no longer validates: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, file);
  }
  return { file, text: run.configText, config: parsed.data, resolved: parsed.data, hash: run.configHash };
}

export interface ReproduceResult {
  recordedRunId: string;
  freshRunId: string;
  diff: RunDiff;
  /** Every final metric of the recorded and of the fresh run recomputed from its predictions. */
  verification: { recorded: Verification; fresh: Verification };
}

/**
 * Runs a recorded run's resolved config again (recording a new run) and compares split,
 * metrics and per-image predictions with the record.
 */
export async function reproduceRun(runId: string, options: RunExperimentOptions & { tolerance?: number }): Promise<ReproduceResult> {
  const store = options.store ?? (await openSqliteStore(options.dbPath));
  try {
    const run = await store.getRun(runId);
    if (!run) throw new UnknownRunError(runId, store.location);
    const recorded = await snapshotRun(store, runId);
    const summary = await runExperiment(configOfRun(run), { ...options, store });
    const fresh = await snapshotRun(store, summary.run.id);
    const verification = { recorded: await verifyRun(store, runId), fresh: await verifyRun(store, summary.run.id) };
    return { recordedRunId: runId, freshRunId: summary.run.id, diff: diffRuns(recorded, fresh, options.tolerance), verification };
  } finally {
    if (!options.store) await store.close();
  }
}
