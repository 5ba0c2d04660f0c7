import { borrowStore, loadRunView, resolveRun, type Run, type TrackingStore } from '@mlbench/tracking';
import { experimentConfigSchema } from './config-schema';
import type { LoadedConfig } from './config';
import { ConfigError } from './errors';
import { runExperiment, type RunExperimentOptions } from './pipeline';
import { diffRuns, type RunDiff, type RunSnapshot } from './run-diff';
import { verifyRun, type Verification } from './verify';

/** Final metrics, split, predictions and environment of a recorded run (id or unique prefix). */
export async function snapshotRun(store: TrackingStore, runId: string): Promise<RunSnapshot & { runId: string }> {
  const view = await loadRunView(store, await resolveRun(store, runId));
  const predictions = await store.getPredictions(view.run.id);
  return {
    runId: view.run.id,
    splitHash: view.dataset?.splitHash ?? null,
    datasetFingerprint: view.dataset?.fingerprint ?? null,
    metrics: view.final,
    predictions,
    environment: view.run.environment,
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
 * Runs a recorded run's (id or unique prefix) resolved config again (recording a new run) and compares split,
 * metrics and per-image predictions with the record. The label audit is always computed again, never
 * read from the audit cache the recorded run may have written: otherwise its comparison tests nothing.
 */
export async function reproduceRun(runId: string, options: RunExperimentOptions & { tolerance?: number }): Promise<ReproduceResult> {
  const { store, release } = await borrowStore(options);
  try {
    const run = await resolveRun(store, runId);
    const recorded = await snapshotRun(store, run.id);
    const summary = await runExperiment(configOfRun(run), { ...options, store, auditCache: false });
    const fresh = await snapshotRun(store, summary.run.id);
    const verification = { recorded: await verifyRun(store, run.id), fresh: await verifyRun(store, summary.run.id) };
    return { recordedRunId: run.id, freshRunId: summary.run.id, diff: diffRuns(recorded, fresh, options.tolerance), verification };
  } finally {
    await release();
  }
}
