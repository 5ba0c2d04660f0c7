import { finalMetrics, loadSweepRuns, type TrackingStore } from '@mlbench/tracking';
import { isResultMetric } from './metric-keys';
import { summarizeSeedGroups, type SeedGroup } from './seed-groups';

/** Seed groups over a sweep's completed runs, from the store. */
export async function sweepSeedGroups(store: TrackingStore, sweepId: string): Promise<SeedGroup[]> {
  const runs = (await loadSweepRuns(store, sweepId)).filter((r) => r.status === 'completed');
  const withMetrics = await Promise.all(
    runs.map(async (run) => ({
      id: run.id,
      seed: run.seed,
      resolvedConfig: run.resolvedConfig,
      metrics: Object.fromEntries(Object.entries(finalMetrics(await store.getMetrics(run.id))).filter(([key]) => isResultMetric(key))),
    })),
  );
  return summarizeSeedGroups(withMetrics);
}
