import type { Prediction, SplitMember } from '@mlbench/tracking';
import { barChart } from './charts/bar-chart';
import { heatmap } from './charts/heatmap';
import { lineChart, type LineSeries } from './charts/line-chart';
import { seriesColor } from './charts/svg';
import { baseName, dateTime, duration, fixed, intervalText, MISSING, percent, shortId } from './format';
import { seededSample, type ImageSource, type ThumbnailIndex } from './images';
import { confusionFromPredictions, imageSource, membersByPath, predictionTile, statusView, svg, thumbSrc, type StatusView, type Svg, type Tile } from './page-model';
import type { AuditLink } from './audit-page';
import { FULL_MATRIX_CLASS_LIMIT, selectClasses, selectionNote, topConfusions } from './confusion-view';
import type { VerificationView } from './verification';
import type { RunData, RunSummaryData } from './run-data';
import { METRIC_KEYS, intervalKeys } from '@mlbench/experiment/results';

export const TEST_GRID_SIZE = 24;
export const MISCLASSIFIED_LIMIT = 48;
export const OVERVIEW_PER_CLASS = 6;

export interface Fact {
  label: string;
  value: string;
  title?: string;
  warn?: boolean;
}

export interface Headline {
  id: string;
  label: string;
  value: string;
  detail: string;
  /** The run's 95% bootstrap interval, or null when it recorded none (older runs). */
  ci: string | null;
}

export interface PerClassRow {
  name: string;
  precision: string;
  recall: string;
  f1: string;
  support: number;
}

export interface RunPageModel {
  title: string;
  run: { id: string; shortId: string; name: string; started: string; description: string | null };
  status: StatusView;
  error: string | null;
  running: { epochsDone: number; epochsTotal: string } | null;
  facts: readonly Fact[];
  packages: readonly Fact[];
  headline: readonly Headline[];
  curves: { loss: Svg; accuracy: Svg } | null;
  /** `top` and `note` only when the class count is above FULL_MATRIX_CLASS_LIMIT (matrix drawn for the most confused classes). */
  confusion: { chart: Svg; total: number; top: readonly ConfusionRow[] | null; note: string | null } | null;
  perClass: { chart: Svg; rows: readonly PerClassRow[] } | null;
  testGrid: { tiles: readonly Tile[]; correct: number; total: number } | null;
  /** Files left out of the run (`dataset.onBadImage: skip`), with why. */
  skipped: { count: number; rows: readonly { path: string; reason: string; sha256: string }[] };
  misclassified: { tiles: readonly Tile[]; total: number; testCount: number } | null;
  dataset: {
    path: string;
    fingerprint: string;
    splitHash: string;
    imageCount: number;
    classCount: number;
    chart: Svg;
    overview: readonly { name: string; count: number; tiles: readonly Tile[] }[];
    /** Set when only some classes are charted and sampled (more than FULL_MATRIX_CLASS_LIMIT). */
    classNote: string | null;
  } | null;
  extractor: readonly Fact[];
  params: readonly Fact[];
  configText: string;
  indexHref: string;
  /** Link to the run's "Suspected label issues" page (audit-page.ts), when it was audited. */
  audit?: AuditLink | null;
  /** Logged metrics recomputed from the stored predictions (completed runs; see verification.ts). */
  verification?: VerificationView | null;
}

/** Which images a run page shows; shared by the page builder and the thumbnail writer. */
export interface RunImagePlan {
  testGrid: Prediction[];
  misclassified: Prediction[];
  misclassifiedTotal: number;
  overview: { name: string; members: SplitMember[] }[];
}

export function planRunImages(data: RunData): RunImagePlan {
  const test = data.predictions.filter((p) => p.split === 'test');
  const wrong = test.filter((p) => p.predictedLabel !== p.trueLabel);
  // Most confident mistakes first: those are the surprising ones (label noise, look-alike classes).
  const byConfidence = [...wrong].sort((a, b) => b.probabilities[b.predictedLabel] - a.probabilities[a.predictedLabel] || (a.path < b.path ? -1 : 1));
  const classes = data.dataset?.classes ?? [];
  // Sample images of the first FULL_MATRIX_CLASS_LIMIT classes only: 6 tiles for each of 1,000 classes would be most of the page.
  const overview = classes.slice(0, FULL_MATRIX_CLASS_LIMIT).map((name, label) => ({
    name,
    members: seededSample(
      data.split.filter((m) => m.label === label),
      OVERVIEW_PER_CLASS,
      data.run.seed + label,
      (m) => m.path,
    ),
  }));
  return {
    testGrid: seededSample(test, TEST_GRID_SIZE, data.run.seed, (p) => p.path),
    misclassified: byConfidence.slice(0, MISCLASSIFIED_LIMIT),
    misclassifiedTotal: wrong.length,
    overview,
  };
}

/** Originals the run page needs thumbnails of. */
export function runPageImages(data: RunData): ImageSource[] {
  if (!data.dataset) return [];
  const dataset = data.dataset;
  const plan = planRunImages(data);
  const byPath = membersByPath(data.split);
  const members = [...plan.testGrid, ...plan.misclassified]
    .map((p) => byPath.get(p.path))
    .filter((m): m is SplitMember => m !== undefined)
    .concat(plan.overview.flatMap((o) => o.members));
  return members.map((m) => imageSource(dataset, m));
}

/** Curves of one run: loss and accuracy, val solid and train dashed in the same colour pair. */
export function learningCurves(series: readonly { label: string; data: RunSummaryData; color: string }[], titleSuffix = ''): { loss: Svg; accuracy: Svg } {
  const make = (metric: 'loss' | 'accuracy'): LineSeries[] =>
    series.flatMap(({ label, data, color }) => {
      const out: LineSeries[] = [];
      const prefix = label ? `${label} ` : '';
      const val = data.curves[`val.${metric}`];
      const train = data.curves[`train.${metric}`];
      if (val) out.push({ name: `${prefix}val`, points: val, color });
      if (train) out.push({ name: `${prefix}train`, points: train, color, dashed: true });
      return out;
    });
  return {
    loss: svg(lineChart({ title: `Loss per epoch${titleSuffix}`, series: make('loss'), xLabel: 'epoch', yLabel: 'cross-entropy loss', integerX: true, formatY: (v) => v.toFixed(4) })),
    accuracy: svg(
      lineChart({ title: `Accuracy per epoch${titleSuffix}`, series: make('accuracy'), xLabel: 'epoch', yLabel: 'accuracy', integerX: true, formatY: (v) => percent(v) }),
    ),
  };
}

/**
 * The confusion matrix heatmap: counts, row percentages (recall), shaded by row share. Above
 * FULL_MATRIX_CLASS_LIMIT classes only the most confused classes are drawn (the title says so);
 * percentages stay shares of the whole row.
 */
export function confusionChart(matrix: readonly (readonly number[])[], classes: readonly string[], title: string): Svg {
  const rowTotals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const selection = selectClasses(matrix);
  const shown = selection.indices;
  const names = shown.map((i) => classes[i]);
  const cell = (r: number, c: number): number => matrix[shown[r]][shown[c]];
  const total = (r: number): number => rowTotals[shown[r]];
  return svg(
    heatmap({
      title: selection.truncated ? `${title}: ${selectionNote(selection)}` : title,
      rowLabels: names,
      columnLabels: names,
      intensities: shown.map((_, r) => shown.map((_, c) => (total(r) > 0 ? cell(r, c) / total(r) : 0))),
      cellText: (r, c) => [String(cell(r, c)), total(r) > 0 ? percent(cell(r, c) / total(r), 1) : MISSING],
      cellTitle: (r, c) => `actual ${names[r]}, predicted ${names[c]}: ${cell(r, c)} of ${total(r)} (${total(r) > 0 ? percent(cell(r, c) / total(r), 1) : MISSING})`,
      rowAxisLabel: 'actual class',
      columnAxisLabel: 'predicted class',
      palette: 'sequential',
      cellClass: (r, c) => (shown[r] === shown[c] ? 'diagonal' : ''),
    }),
  );
}

/** The largest off-diagonal cells, for pages whose matrix is not drawn in full. */
export function confusionList(matrix: readonly (readonly number[])[], classes: readonly string[]): ConfusionRow[] {
  const rowTotals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  return topConfusions(matrix).map((t) => ({
    actual: classes[t.actual] ?? `#${t.actual}`,
    predicted: classes[t.predicted] ?? `#${t.predicted}`,
    count: t.count,
    share: rowTotals[t.actual] > 0 ? percent(t.count / rowTotals[t.actual], 1) : MISSING,
  }));
}

export interface ConfusionRow {
  actual: string;
  predicted: string;
  count: number;
  /** Share of the actual class's test images. */
  share: string;
}

const metric = (data: RunSummaryData, key: string): number | null => data.final[key] ?? null;

export function buildRunPage(data: RunData, thumbs: ThumbnailIndex, links: { thumbPrefix: string; indexHref: string }): RunPageModel {
  const { run, dataset } = data;
  const classes = dataset?.classes ?? [];
  const env = run.environment;
  const epochsDone = data.curves[METRIC_KEYS.trainLoss]?.length ?? 0;
  const test = data.predictions.filter((p) => p.split === 'test');
  const byPath = membersByPath(data.split);
  const plan = planRunImages(data);
  const tile = (p: Prediction): Tile => predictionTile(p, classes, byPath.get(p.path), thumbs, links.thumbPrefix);

  const facts: Fact[] = [
    { label: 'run id', value: run.id },
    { label: 'started (UTC)', value: dateTime(run.startTime) },
    { label: 'ended (UTC)', value: dateTime(run.endTime) },
    { label: 'duration', value: duration(run.durationMs) },
    { label: 'seed', value: String(run.seed) },
    {
      label: 'git commit',
      value: env['git.commit'] ? `${env['git.commit'].slice(0, 12)}${env['git.dirty'] === 'true' ? ' (dirty)' : ''}` : MISSING,
      title: env['git.dirty'] === 'true' ? 'uncommitted changes were present: the commit alone does not reproduce this run' : env['git.commit'],
      warn: env['git.dirty'] === 'true',
    },
    { label: 'backend', value: env['tfjs.backend'] ? `tfjs ${env['tfjs.version'] ?? ''} ${env['tfjs.backend']}`.replace(/\s+/g, ' ') : MISSING },
    { label: 'node', value: env['node.version'] ?? MISSING },
    { label: 'host', value: [env['os.platform'], env['host.cpus']].filter(Boolean).join(', ') || MISSING },
    { label: 'config hash', value: run.configHash.slice(0, 12), title: run.configHash },
    ...(data.skippedFiles.length > 0
      ? [{ label: 'skipped files', value: `${data.skippedFiles.length} unreadable, left out`, title: 'dataset.onBadImage: skip; listed under Dataset', warn: true }]
      : []),
  ];
  const packages = Object.entries(env)
    .filter(([key]) => key.startsWith('package.'))
    .map(([key, value]) => ({ label: key.slice('package.'.length), value }));

  const testCount = metric(data, METRIC_KEYS.testCount);
  const ci = (key: string, kind: 'percent' | 'fixed'): string | null => intervalText(metric(data, intervalKeys(key).low), metric(data, intervalKeys(key).high), kind);
  const valF1 = metric(data, METRIC_KEYS.valMacroF1);
  const headline: Headline[] = [
    { id: 'test-accuracy', label: 'test accuracy', value: percent(metric(data, METRIC_KEYS.testAccuracy)), ci: ci(METRIC_KEYS.testAccuracy, 'percent'), detail: testCount === null ? '' : `${testCount} test images` },
    { id: 'test-macro-f1', label: 'test macro-F1', value: fixed(metric(data, METRIC_KEYS.testMacroF1)), ci: ci(METRIC_KEYS.testMacroF1, 'fixed'), detail: 'unweighted mean over classes' },
    { id: 'test-log-loss', label: 'test log loss', value: fixed(metric(data, METRIC_KEYS.testLogLoss)), ci: null, detail: 'lower is better' },
    {
      id: 'val-accuracy',
      label: 'val accuracy',
      value: percent(metric(data, METRIC_KEYS.valAccuracy)),
      ci: ci(METRIC_KEYS.valAccuracy, 'percent'),
      detail: `${valF1 === null ? '' : `val macro-F1 ${fixed(valF1)}${ci(METRIC_KEYS.valMacroF1, 'fixed') ? ` (${ci(METRIC_KEYS.valMacroF1, 'fixed')})` : ''} · `}train ${percent(metric(data, METRIC_KEYS.trainAccuracy))}`,
    },
    {
      id: 'train-time',
      label: 'training',
      value: metric(data, METRIC_KEYS.trainSeconds) === null ? MISSING : duration(1000 * (metric(data, METRIC_KEYS.trainSeconds) ?? 0)),
      ci: null,
      detail: metric(data, METRIC_KEYS.extractionImagesPerSecond) === null ? 'features from cache' : `extraction ${fixed(metric(data, METRIC_KEYS.extractionImagesPerSecond), 1)} img/s`,
    },
  ];

  let confusion: RunPageModel['confusion'] = null;
  let perClass: RunPageModel['perClass'] = null;
  if (classes.length > 0 && test.length > 0) {
    const matrix = confusionFromPredictions(test, classes.length);
    const large = classes.length > FULL_MATRIX_CLASS_LIMIT;
    confusion = {
      chart: confusionChart(matrix, classes, `Confusion matrix, test set (${test.length} images)`),
      total: test.length,
      top: large ? confusionList(matrix, classes) : null,
      note: large ? `${classes.length} classes: the matrix shows ${selectionNote(selectClasses(matrix))}; the largest confusions of all classes are listed below.` : null,
    };
    const rows = classes.map((name, i) => ({
      name,
      precision: metric(data, `test.precision.${name}`),
      recall: metric(data, `test.recall.${name}`),
      f1: metric(data, `test.f1.${name}`),
      support: matrix[i].reduce((a, b) => a + b, 0),
    }));
    // Above FULL_MATRIX_CLASS_LIMIT classes the chart shows the classes with the lowest F1; the table lists all.
    const charted = large ? [...rows].sort((a, b) => (a.f1 ?? -1) - (b.f1 ?? -1) || (a.name < b.name ? -1 : 1)).slice(0, FULL_MATRIX_CLASS_LIMIT) : rows;
    perClass = {
      chart: svg(
        barChart({
          title: large ? `Per-class precision, recall and F1 (test): the ${charted.length} classes with the lowest F1 of ${classes.length}` : 'Per-class precision, recall and F1 (test)',
          categories: charted.map((r) => r.name),
          series: [
            { name: 'precision', values: charted.map((r) => r.precision), color: seriesColor(0) },
            { name: 'recall', values: charted.map((r) => r.recall), color: seriesColor(1) },
            { name: 'F1', values: charted.map((r) => r.f1), color: seriesColor(2) },
          ],
          valueLabel: 'score',
          categoryLabel: 'class',
          domain: [0, 1],
          formatValue: (v) => v.toFixed(3),
        }),
      ),
      rows: rows.map((r) => ({ name: r.name, precision: fixed(r.precision, 3), recall: fixed(r.recall, 3), f1: fixed(r.f1, 3), support: r.support })),
    };
  }

  const testGridTiles = plan.testGrid.map(tile);
  // Smallest classes first: those are the ones a split can starve.
  const splitClasses =
    classes.length > FULL_MATRIX_CLASS_LIMIT && dataset
      ? [...classes].sort((a, b) => (dataset.classCounts[a] ?? 0) - (dataset.classCounts[b] ?? 0) || (a < b ? -1 : 1)).slice(0, FULL_MATRIX_CLASS_LIMIT)
      : classes;
  return {
    title: `${run.name} · ${shortId(run.id)}`,
    run: { id: run.id, shortId: shortId(run.id), name: run.name, started: dateTime(run.startTime), description: data.params.description ?? null },
    status: statusView(run.status),
    error: run.error,
    running: run.status === 'running' ? { epochsDone, epochsTotal: data.params['train.epochs'] ?? '?' } : null,
    facts,
    packages,
    headline,
    curves: Object.keys(data.curves).length > 0 ? learningCurves([{ label: '', data, color: seriesColor(0) }]) : null,
    confusion,
    perClass,
    skipped: {
      count: data.skippedFiles.length,
      rows: [...data.skippedFiles].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => ({ path: f.path, reason: f.reason, sha256: f.sha256 ? f.sha256.slice(0, 12) : MISSING })),
    },
    testGrid: testGridTiles.length > 0 ? { tiles: testGridTiles, correct: testGridTiles.filter((t) => !t.wrong).length, total: testGridTiles.length } : null,
    misclassified: test.length > 0 ? { tiles: plan.misclassified.map(tile), total: plan.misclassifiedTotal, testCount: test.length } : null,
    dataset: dataset
      ? {
          path: dataset.path,
          fingerprint: dataset.fingerprint,
          splitHash: dataset.splitHash,
          imageCount: Object.values(dataset.classCounts).reduce((a, b) => a + b, 0),
          classCount: classes.length,
          chart: svg(
            barChart({
              title: splitClasses.length < classes.length ? `Images per class and split: the ${splitClasses.length} smallest of ${classes.length} classes` : 'Images per class and split',
              categories: splitClasses,
              series: (['train', 'val', 'test'] as const).map((split, i) => ({ name: split, values: splitClasses.map((c) => dataset.splitCounts[split]?.[c] ?? 0), color: seriesColor(i) })),
              valueLabel: 'images',
              categoryLabel: 'class',
              formatValue: (v) => String(v),
            }),
          ),
          classNote:
            classes.length > FULL_MATRIX_CLASS_LIMIT
              ? `${classes.length} classes: charts show ${FULL_MATRIX_CLASS_LIMIT} of them (the limit for drawing every class) and sample images are shown for the first ${FULL_MATRIX_CLASS_LIMIT}.`
              : null,
          overview: plan.overview.map((o) => ({
            name: o.name,
            count: dataset.classCounts[o.name] ?? 0,
            tiles: o.members.map((m) => ({ src: thumbSrc(m, thumbs, links.thumbPrefix), alt: `${o.name}: ${m.path}`, lines: [{ text: baseName(m.path), kind: 'note' as const }], wrong: false, title: `${m.path} (${m.split})` })),
          })),
        }
      : null,
    extractor: Object.entries(data.extractor).map(([label, value]) => ({ label, value, title: value })),
    params: Object.entries(data.params)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([label, value]) => ({ label, value })),
    configText: run.configText,
    indexHref: links.indexHref,
  };
}
