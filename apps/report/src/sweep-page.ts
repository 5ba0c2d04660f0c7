import type { SampleSummary } from '@mlbench/metrics';
import { loadSweepRuns, type Sweep, type TrackingStore } from '@mlbench/tracking';
import { errorBarChart, type ErrorBarSeries } from './charts/error-bar-chart';
import { seriesColor } from './charts/svg';
import { dateTime, duration, fixed, intervalText, MISSING, percent, shortId } from './format';
import { statusView, svg, type StatusView, type Svg } from './page-model';
import { loadRunSummary, type RunSummaryData } from './run-data';
import { METRIC_KEYS, intervalKeys, summarizeSeedGroups, type SeedGroup, type SeedResult } from '@mlbench/experiment/results';
import { withCheckedRuns, type CheckedRuns, type ExcludedRun } from './checked-runs';

/** Everything a sweep page is built from: the sweep, all its runs (any status) and its seed groups. */
export interface SweepData {
  sweep: Sweep;
  runs: readonly RunSummaryData[];
  /** Checked completed runs grouped by everything but the seed (`seedGroupsOfResults`). */
  groups: readonly SeedGroup[];
  /** Test accuracy and macro-F1 of each checked run, recomputed from its predictions. */
  verdicts: ReadonlyMap<string, SeedResult['metrics']>;
  /** Completed runs whose logged numbers failed verification (or another check): left out of the groups. */
  unverified: readonly ExcludedRun[];
}

export interface SweepCell {
  text: string;
  /** Interval text under the value, or null when the run recorded none. */
  ci: string | null;
}

export interface SweepRow {
  index: string;
  id: string;
  shortId: string;
  href: string;
  /** One value per swept key, in the order of `keys`. */
  values: readonly string[];
  status: StatusView;
  error: string | null;
  accuracy: SweepCell;
  macroF1: SweepCell;
  duration: string;
  /** Member of the best seed group. */
  best: boolean;
  /** Why a completed run is left out of the groups (its logged numbers failed verification), or null. */
  unverified: string | null;
}

export interface GroupRow {
  /** The swept values of the group (seed left out), e.g. "train.learningRate = 0.001". */
  label: string;
  seeds: string;
  n: number;
  accuracy: { meanStd: string; ci: string };
  macroF1: { meanStd: string; ci: string };
  best: boolean;
}

export interface BestConfiguration {
  label: string;
  /** Mean ± std of test accuracy over the group's seeds. */
  accuracy: string;
  /** The 95% t-interval of the mean, or a note when one seed gives none. */
  interval: string;
  macroF1: string;
  seeds: number;
  /** Runs of the group, for links. */
  runs: readonly { shortId: string; href: string }[];
}

export interface SweepPageModel {
  title: string;
  sweep: { id: string; shortId: string; name: string; status: StatusView; started: string; ended: string; size: number };
  counts: string;
  /** Swept keys, table columns. */
  keys: readonly string[];
  rows: readonly SweepRow[];
  failed: readonly { index: string; shortId: string; href: string; point: string; error: string; status: StatusView }[];
  best: BestConfiguration | null;
  /** Metric against each swept key other than the seed, with error bars from the seed groups. */
  plots: readonly { key: string; accuracy: Svg; macroF1: Svg | null }[];
  groups: readonly GroupRow[];
  /** Completed runs left out of the best configuration and the groups, with why. */
  unverified: readonly { shortId: string; href: string; reason: string }[];
  seedKey: boolean;
  configText: string;
  indexHref: string;
}

export const SEED_KEY = 'seed';
type VerdictKey = keyof SeedResult['metrics'];

/**
 * The sweep, all its runs and seed groups, from the store. `summaries` reuses runs loaded already,
 * `checked` the report's checked runs (runs not in it are checked here).
 */
export async function loadSweepData(store: TrackingStore, sweep: Sweep, summaries?: ReadonlyMap<string, RunSummaryData>, checked?: CheckedRuns): Promise<SweepData> {
  const runs = await loadSweepRuns(store, sweep.id);
  const loaded = await Promise.all(runs.map((run) => summaries?.get(run.id) ?? loadRunSummary(store, run)));
  const all = await withCheckedRuns(store, runs, checked);
  const results = runs.map((r) => all.results.get(r.id)).filter((r): r is SeedResult => r !== undefined);
  const unverified = runs.map((r) => all.excluded.get(r.id)).filter((r): r is ExcludedRun => r !== undefined);
  return { sweep, runs: loaded, groups: seedGroupsOfResults(results), verdicts: new Map(results.map((r) => [r.runId as string, r.metrics])), unverified };
}

/** Seed groups over checked runs: the verdict metrics are the ones recomputed from predictions. */
export function seedGroupsOfResults(results: readonly SeedResult[]): SeedGroup[] {
  return summarizeSeedGroups(results.map((r) => ({ id: r.runId as string, seed: r.seed, resolvedConfig: r.config, metrics: r.metrics })));
}

/** A config value as shown (and compared): strings as they are, everything else as JSON. */
export const valueText = (value: unknown): string => (value === undefined ? MISSING : typeof value === 'string' ? value : JSON.stringify(value));

/** Value at a dotted path of a nested config object, or undefined. */
export function getDotted(config: unknown, key: string): unknown {
  let current: unknown = config;
  for (const part of key.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** A run's value of a swept key: its resolved config, else its flattened params; the seed from the run. */
function runValue(data: RunSummaryData, key: string): string {
  if (key === SEED_KEY) return String(data.run.seed);
  const resolved = getDotted(data.run.resolvedConfig, key);
  return resolved !== undefined ? valueText(resolved) : (data.params[key] ?? MISSING);
}

const describe = (keys: readonly string[], values: readonly string[]): string => keys.map((k, i) => `${k} = ${values[i]}`).join(', ');

const meanStd = (s: SampleSummary | undefined, format: (x: number) => string, unit: number): string =>
  s ? `${format(s.mean)} ± ${s.n > 1 ? (unit * s.std).toFixed(unit === 100 ? 2 : 4) : MISSING}${unit === 100 ? ' pp' : ''}` : MISSING;

const tInterval = (s: SampleSummary | undefined, kind: 'percent' | 'fixed', prefix = true): string =>
  !s ? MISSING : s.interval ? (intervalText(s.interval.low, s.interval.high, kind, s.interval.level, prefix) ?? MISSING) : s.n === 1 ? 'one seed: no interval' : MISSING;

/** The best seed group by mean test accuracy (the first on a tie), or null when none has it. */
export function bestGroup(groups: readonly SeedGroup[]): SeedGroup | null {
  let best: SeedGroup | null = null;
  for (const group of groups) {
    const mean = group.metrics[METRIC_KEYS.testAccuracy]?.mean;
    if (mean === undefined) continue;
    if (best === null || mean > (best.metrics[METRIC_KEYS.testAccuracy]?.mean ?? -Infinity)) best = group;
  }
  return best;
}

export function buildSweepPage(data: SweepData, links: { indexHref: string; runHref: (id: string) => string }): SweepPageModel {
  const { sweep, runs, groups } = data;
  const keys = Object.keys(sweep.definition);
  const varied = keys.filter((k) => k !== SEED_KEY);
  const best = bestGroup(groups);
  const bestIds = new Set(best?.runIds ?? []);
  const index = (d: RunSummaryData): string => (d.run.sweepIndex === null ? MISSING : String(d.run.sweepIndex + 1));

  const unverified = new Map(data.unverified.map((e) => [e.runId, e.reason]));
  // A checked run shows its recomputed numbers; an unverified one none (its logged ones are not its predictions'), flagged.
  const shown = (d: RunSummaryData, key: VerdictKey): number | undefined => (unverified.has(d.run.id) ? undefined : data.verdicts.get(d.run.id)?.[key]);
  const ci = (d: RunSummaryData, key: VerdictKey, kind: 'percent' | 'fixed'): string | null =>
    unverified.has(d.run.id) ? null : intervalText(d.final[intervalKeys(key).low], d.final[intervalKeys(key).high], kind);
  const rows: SweepRow[] = runs.map((d) => ({
    index: index(d),
    id: d.run.id,
    shortId: shortId(d.run.id),
    href: links.runHref(d.run.id),
    values: keys.map((k) => runValue(d, k)),
    status: statusView(d.run.status),
    error: d.run.error,
    accuracy: { text: percent(shown(d, METRIC_KEYS.testAccuracy)), ci: ci(d, METRIC_KEYS.testAccuracy, 'percent') },
    macroF1: { text: fixed(shown(d, METRIC_KEYS.testMacroF1)), ci: ci(d, METRIC_KEYS.testMacroF1, 'fixed') },
    duration: duration(d.run.durationMs),
    best: bestIds.has(d.run.id),
    unverified: unverified.get(d.run.id) ?? null,
  }));

  const statusCounts = new Map<string, number>();
  for (const d of runs) statusCounts.set(d.run.status, (statusCounts.get(d.run.status) ?? 0) + 1);
  const counts = `${runs.length} of ${sweep.size} runs recorded${runs.length > 0 ? `: ${[...statusCounts.entries()].map(([s, n]) => `${n} ${s}`).join(', ')}` : ''}`;

  const groupLabel = (group: SeedGroup): string => (varied.length === 0 ? 'all runs (only the seed varies)' : describe(varied, varied.map((k) => valueText(getDotted(group.config, k)))));
  const groupRows: GroupRow[] = [...groups]
    .sort((a, b) => (b.metrics[METRIC_KEYS.testAccuracy]?.mean ?? -Infinity) - (a.metrics[METRIC_KEYS.testAccuracy]?.mean ?? -Infinity))
    .map((group) => ({
      label: groupLabel(group),
      seeds: group.seeds.join(', '),
      n: group.runIds.length,
      accuracy: { meanStd: meanStd(group.metrics[METRIC_KEYS.testAccuracy], (x) => percent(x), 100), ci: tInterval(group.metrics[METRIC_KEYS.testAccuracy], 'percent', false) },
      macroF1: { meanStd: meanStd(group.metrics[METRIC_KEYS.testMacroF1], (x) => fixed(x), 1), ci: tInterval(group.metrics[METRIC_KEYS.testMacroF1], 'fixed', false) },
      best: group === best,
    }));

  const bestView: BestConfiguration | null = best
    ? {
        label: groupLabel(best),
        accuracy: meanStd(best.metrics[METRIC_KEYS.testAccuracy], (x) => percent(x), 100),
        interval: tInterval(best.metrics[METRIC_KEYS.testAccuracy], 'percent'),
        macroF1: meanStd(best.metrics[METRIC_KEYS.testMacroF1], (x) => fixed(x), 1),
        seeds: best.runIds.length,
        runs: best.runIds.map((id) => ({ shortId: shortId(id), href: links.runHref(id) })),
      }
    : null;

  const plots = varied.map((key) => ({
    key,
    accuracy: svg(metricPlot(data, key, varied, METRIC_KEYS.testAccuracy, 'test accuracy', (x) => percent(x, 1))),
    macroF1: groups.some((g) => g.metrics[METRIC_KEYS.testMacroF1]) ? svg(metricPlot(data, key, varied, METRIC_KEYS.testMacroF1, 'test macro-F1', (x) => x.toFixed(3))) : null,
  }));

  const failed = runs
    .filter((d) => d.run.status !== 'completed' && d.run.status !== 'running')
    .map((d) => ({
      index: index(d),
      shortId: shortId(d.run.id),
      href: links.runHref(d.run.id),
      point: describe(keys, keys.map((k) => runValue(d, k))),
      error: d.run.error ?? '(no error recorded)',
      status: statusView(d.run.status),
    }));
  return {
    title: `Sweep ${sweep.name} · ${shortId(sweep.id)}`,
    sweep: { id: sweep.id, shortId: shortId(sweep.id), name: sweep.name, status: statusView(sweep.status), started: dateTime(sweep.startTime), ended: dateTime(sweep.endTime), size: sweep.size },
    counts,
    keys,
    rows,
    failed,
    best: bestView,
    plots,
    groups: groupRows,
    unverified: data.unverified.map((e) => ({ shortId: shortId(e.runId), href: links.runHref(e.runId), reason: e.reason })),
    seedKey: keys.includes(SEED_KEY),
    configText: sweep.configText,
    indexHref: links.indexHref,
  };
}

/**
 * One metric against one swept key: x positions are the key's values in the sweep's order, one
 * series per combination of the other swept keys (seed aside), each point a seed group.
 */
export function metricPlot(data: SweepData, key: string, varied: readonly string[], metric: string, label: string, format: (x: number) => string): string {
  const others = varied.filter((k) => k !== key);
  const categories = (data.sweep.definition[key] ?? []).map(valueText);
  const series = new Map<string, ErrorBarSeries & { points: ErrorBarSeries['points'][number][] }>();
  for (const group of data.groups) {
    const summary = group.metrics[metric];
    if (!summary) continue;
    const value = valueText(getDotted(group.config, key));
    let category = categories.indexOf(value);
    if (category < 0) category = categories.push(value) - 1;
    const name = others.length === 0 ? 'mean over seeds' : describe(others, others.map((k) => valueText(getDotted(group.config, k))));
    const entry = series.get(name) ?? { name, points: [], color: seriesColor(series.size) };
    series.set(name, entry);
    const values = group.runIds.map((id) => data.verdicts.get(id)?.[metric as VerdictKey]).filter((v): v is number => v !== undefined);
    const interval = summary.interval;
    entry.points.push({
      category,
      mean: summary.mean,
      std: summary.std,
      low: interval?.low ?? null,
      high: interval?.high ?? null,
      values,
      title:
        `${others.length ? `${name}, ` : ''}${key} = ${value}: ${label} mean ${format(summary.mean)} ± ${format(summary.std).replace('%', ' pp')} (std, ${summary.n} seed${summary.n === 1 ? '' : 's'})` +
        (interval ? `, 95% t-interval ${format(interval.low)} to ${format(interval.high)}` : ''),
    });
  }
  return errorBarChart({
    title: `${label} by ${key}`,
    categories,
    series: [...series.values()],
    xLabel: key,
    yLabel: label,
    formatY: format,
    clamp: [0, 1],
  });
}
