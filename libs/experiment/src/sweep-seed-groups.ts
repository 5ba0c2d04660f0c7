import type { TrackingStore } from '@mlbench/tracking';
import { isResultMetric } from './metric-keys';
import { summarizeSeedGroups, type SeedGroup } from './seed-groups';

/** Seed groups over a sweep's completed runs, from the store. */
export async function sweepSeedGroups(store: TrackingStore, sweepId: string): Promise<SeedGroup[]> {
  const runs = (await store.searchRuns({ sweepId })).filter((r) => r.status === 'completed').sort((a, b) => (a.sweepIndex ?? 0) - (b.sweepIndex ?? 0));
  const withMetrics = await Promise.all(
    runs.map(async (run) => ({
      id: run.id,
      seed: run.seed,
      resolvedConfig: run.resolvedConfig,
      metrics: Object.fromEntries((await store.getMetrics(run.id)).filter((m) => m.step === null && isResultMetric(m.key)).map((m) => [m.key, m.value])),
    })),
  );
  return summarizeSeedGroups(withMetrics);
}
