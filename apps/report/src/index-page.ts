import { baseName, dateTime, duration, fixed, MISSING, percent, shortId } from './format';
import { recordLink, statusView, type RecordLink, type StatusView } from './page-model';
import type { Sweep } from '@mlbench/tracking';
import type { RunSummaryData } from './run-data';
import { maxOf } from '@mlbench/common';
import { METRIC_KEYS, type VerdictMetric } from '@mlbench/experiment/results';

/**
 * What the index needs of the checked runs (checked-runs.ts CheckedRuns): the recomputed verdict
 * metrics of the runs that passed, the reason of those left out.
 */
export interface IndexChecks {
  results: ReadonlyMap<string, { metrics: Record<VerdictMetric, number> }>;
  excluded: ReadonlyMap<string, { reason: string }>;
}

/** Hyperparameters shown as index columns: the ones people sweep. */
export const KEY_PARAMS: readonly { key: string; label: string }[] = [
  { key: 'seed', label: 'seed' },
  { key: 'train.optimizer', label: 'optimizer' },
  { key: 'train.learningRate', label: 'lr' },
  { key: 'train.epochs', label: 'epochs' },
  { key: 'train.batchSize', label: 'batch' },
  { key: 'model.head.dropout', label: 'dropout' },
  { key: 'model.head.l2', label: 'l2' },
];

/** A table cell: text shown, value sorted on (numbers sort numerically), optional hover text. */
export interface Cell {
  text: string;
  sort: string;
  title?: string;
}

export interface IndexRow {
  id: string;
  shortId: string;
  href: string;
  name: string;
  status: StatusView;
  error: string | null;
  started: Cell;
  dataset: Cell;
  extractor: Cell;
  params: readonly Cell[];
  accuracy: Cell & { barPercent: number };
  macroF1: Cell;
  /** Why the run's logged numbers are not shown (left out by the check: they do not follow from its predictions); null otherwise. */
  unverified: string | null;
  duration: Cell;
  /** All text of the row, lower-cased, for the filter box. */
  search: string;
}

export interface IndexGroup {
  name: string;
  runCount: number;
  best: string;
  rows: readonly IndexRow[];
}

export interface ComparisonLink {
  href: string;
  /** Run ids, sorted and space-separated: the index script matches the checked boxes against it. */
  runKey: string;
  label: string;
}

/** A sweep in the index's Sweeps section. */
export interface SweepLink extends RecordLink {
  /** What was swept, e.g. "train.learningRate × 2, seed × 5". */
  grid: string;
  /** e.g. "10 of 10 runs: 9 completed, 1 failed". */
  runs: string;
}

export function sweepLink(sweep: Sweep, href: string, runs: readonly RunSummaryData[]): SweepLink {
  const counts = new Map<string, number>();
  for (const d of runs) counts.set(d.run.status, (counts.get(d.run.status) ?? 0) + 1);
  return {
    ...recordLink(sweep, href),
    grid: Object.entries(sweep.definition).map(([key, values]) => `${key} × ${values.length}`).join(', '),
    runs: `${runs.length} of ${sweep.size} runs${runs.length > 0 ? `: ${[...counts.entries()].map(([status, n]) => `${n} ${status}`).join(', ')}` : ''}`,
  };
}

export interface IndexPageModel {
  title: string;
  store: string;
  runCount: number;
  statusCounts: string;
  paramLabels: readonly string[];
  groups: readonly IndexGroup[];
  comparisons: readonly ComparisonLink[];
  sweeps: readonly SweepLink[];
  /** Studies (study-page.ts), newest first; absent = none recorded. */
  studies?: readonly StudyLink[];
  /** Stored runs, sweeps or studies left out because their data cannot be shown (generate.ts). */
  skipped?: readonly { kind: string; id: string; name: string; reason: string }[];
  /** One leaderboard per benchmark task (leaderboard-page.ts); absent = none. */
  leaderboards?: readonly { key: string; href: string; description: string; entries: number; leader: string }[];
  /** Completed runs no leaderboard ranks, and why. */
  leaderboardExcluded?: readonly { shortId: string; href: string; name: string; reason: string }[];
}

/** A study in the index's Studies section. */
export interface StudyLink {
  id: string;
  shortId: string;
  href: string;
  name: string;
  question: string;
  status: string;
  /** UTC, "2026-11-30 03:49". */
  started: string;
}

const numberSort = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '' : String(x));

/**
 * One index row. Accuracy and macro-F1 are the ones recomputed from the run's stored predictions
 * (as on the sweep, study and leaderboard pages); a run without a checked result shows none.
 */
export function indexRow(data: RunSummaryData, href: string, checked: IndexChecks): IndexRow {
  const { run, params, dataset } = data;
  const recomputed = checked.results.get(run.id)?.metrics;
  const accuracy = recomputed?.[METRIC_KEYS.testAccuracy] ?? null;
  const macroF1 = recomputed?.[METRIC_KEYS.testMacroF1];
  const datasetPath = dataset?.path ?? params['dataset.path'];
  const images = dataset ? Object.values(dataset.classCounts).reduce((a, b) => a + b, 0) : null;
  const extractorSource = data.extractor.source ?? params['model.extractor.source'];
  const row: Omit<IndexRow, 'search'> = {
    id: run.id,
    shortId: shortId(run.id),
    href,
    name: run.name,
    status: statusView(run.status),
    error: run.error,
    started: { text: dateTime(run.startTime), sort: run.startTime },
    dataset: {
      text: `${baseName(datasetPath)}${images === null ? '' : ` (${images})`}`,
      sort: baseName(datasetPath),
      title: `${datasetPath ?? ''}${dataset ? `\n${images} images, ${dataset.classes.length} classes: ${dataset.classes.join(', ')}\nfingerprint ${dataset.fingerprint}` : ''}`,
    },
    extractor: { text: baseName(extractorSource), sort: baseName(extractorSource), title: extractorSource },
    params: KEY_PARAMS.map(({ key }) => {
      const value = key === 'seed' ? String(run.seed) : params[key];
      return { text: value ?? MISSING, sort: value ?? '' };
    }),
    accuracy: { text: percent(accuracy), sort: numberSort(accuracy), barPercent: accuracy === null ? 0 : Math.round(1000 * accuracy) / 10 },
    macroF1: { text: fixed(macroF1), sort: numberSort(macroF1) },
    unverified: checked.excluded.get(run.id)?.reason ?? null,
    duration: { text: duration(run.durationMs), sort: numberSort(run.durationMs) },
  };
  const search = [row.id, row.name, row.status.status, row.started.text, row.dataset.text, row.extractor.text, ...row.params.map((p) => p.text), row.error ?? '', row.unverified === null ? '' : 'unverified'].join(' ').toLowerCase();
  return { ...row, search };
}

/** Index: runs grouped by experiment name (groups ordered by their newest run), newest first. */
export function buildIndexPage(runs: readonly RunSummaryData[], options: {
    store: string;
    runHref: (id: string) => string;
    comparisons: readonly ComparisonLink[];
    /** Recorded sweeps with their page and runs, newest first. */
    sweeps?: readonly { sweep: Sweep; href: string; runs: readonly RunSummaryData[] }[];
    /** The report's checked runs: the shown numbers and each group's best are the recomputed ones. */
    checked: IndexChecks;
  },): IndexPageModel {
  const groups = new Map<string, RunSummaryData[]>();
  const newestFirst = [...runs].sort((a, b) => (a.run.startTime < b.run.startTime ? 1 : a.run.startTime > b.run.startTime ? -1 : 0));
  for (const data of newestFirst) {
    const list = groups.get(data.run.name) ?? [];
    list.push(data);
    groups.set(data.run.name, list);
  }
  const counts = new Map<string, number>();
  for (const data of runs) counts.set(data.run.status, (counts.get(data.run.status) ?? 0) + 1);
  return {
    title: 'Runs',
    store: options.store,
    runCount: runs.length,
    statusCounts: [...counts.entries()].map(([status, n]) => `${n} ${status}`).join(', '),
    paramLabels: KEY_PARAMS.map((p) => p.label),
    groups: [...groups.entries()].map(([name, list]) => {
      // Runs left out by the check have no result here: never a group's best.
      const accuracies = list.map((d) => options.checked.results.get(d.run.id)?.metrics[METRIC_KEYS.testAccuracy]).filter((x): x is number => x !== undefined);
      return {
        name,
        runCount: list.length,
        best: accuracies.length > 0 ? percent(maxOf(accuracies)) : MISSING,
        rows: list.map((d) => indexRow(d, options.runHref(d.run.id), options.checked)),
      };
    }),
    comparisons: options.comparisons,
    sweeps: (options.sweeps ?? []).map((s) => sweepLink(s.sweep, s.href, s.runs)),
  };
}
