import { createHash } from 'node:crypto';
import { summarizeSample, type SampleSummary } from '@mlbench/metrics';
import { canonicalJson } from '@mlbench/common';

/** A run as the grouping needs it. */
export interface RunForGrouping {
  id: string;
  seed: number;
  resolvedConfig: unknown;
  /** Final metrics, key -> value. */
  metrics: Readonly<Record<string, number>>;
}

export interface SeedGroup {
  /** Hash of the config without its seed: equal for runs that differ only by seed. */
  key: string;
  runIds: string[];
  seeds: number[];
  /** The shared config (seed removed). */
  config: unknown;
  /** Mean, standard deviation and 95% t-interval of every metric all runs of the group have. */
  metrics: Record<string, SampleSummary>;
}

/** Config identity ignoring the seed. */
export function seedGroupKey(resolvedConfig: unknown): string {
  const { seed: _ignored, ...rest } = (resolvedConfig ?? {}) as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 16);
}

/** Groups runs that differ only by seed and summarises each metric across the seeds. */
export function summarizeSeedGroups(runs: readonly RunForGrouping[], level = 0.95): SeedGroup[] {
  const groups = new Map<string, RunForGrouping[]>();
  for (const run of runs) {
    const key = seedGroupKey(run.resolvedConfig);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.entries()].map(([key, members]) => {
    const shared = Object.keys(members[0].metrics).filter((k) => members.every((m) => Number.isFinite(m.metrics[k])));
    const { seed: _ignored, ...config } = (members[0].resolvedConfig ?? {}) as Record<string, unknown>;
    return {
      key,
      runIds: members.map((m) => m.id),
      seeds: members.map((m) => m.seed),
      config,
      metrics: Object.fromEntries(shared.sort().map((k) => [k, summarizeSample(members.map((m) => m.metrics[k]), level)])),
    };
  });
}
