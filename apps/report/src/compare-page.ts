import { comparePaired, type PairedComparison } from '@mlbench/metrics';
import type { AuditResult, Prediction, SplitMember } from '@mlbench/tracking';
import { errorBarChart } from './charts/error-bar-chart';
import { barChart } from './charts/bar-chart';
import { heatmap } from './charts/heatmap';
import { selectClasses, selectionNote } from './confusion-view';
import { seriesColor } from './charts/svg';
import { duration, fixed, MISSING, percent, pValue, shortId, signed } from './format';
import type { ImageSource, ThumbnailIndex } from './images';
import { confusionFromPredictions, imageSource, membersByPath, recordLink, svg, thumbSrc, type RecordLink, type Svg, type Tile } from './page-model';
import { learningCurves } from './run-page';
import type { RunData } from './run-data';
import { maxOf } from '@mlbench/common';
import { checkedFinal } from './verification';
import { METRIC_KEYS } from '@mlbench/experiment/results';

export const FLIP_LIMIT = 36;
/** Paired bootstrap of the accuracy difference: resamples and a fixed seed, so pages are reproducible. */
export const PAIRED_RESAMPLES = 2000;
export const PAIRED_SEED = 0;
export const SIGNIFICANCE_LEVEL = 0.05;

/** The paired test of one run against the baseline, on the same test images. */
export interface SignificanceView {
  /** e.g. "B is more accurate than A by 1.2 points (95% CI 0.3 to 2.1), McNemar p = 0.01: significant at the 0.05 level." */
  sentence: string;
  significant: boolean;
  /** Accuracy of the other run minus the baseline's, with its paired bootstrap interval. */
  difference: { estimate: number; low: number; high: number };
  mcnemarP: number;
  /** Test images only the other run got right, and only the baseline got right. */
  onlyOtherCorrect: number;
  onlyBaseCorrect: number;
  paired: number;
}

export interface CompareRun extends RecordLink {
  letter: string;
  color: string;
  accuracy: string;
  /** Why the run's logged numbers are not its predictions' (they are shown recomputed), or null. */
  unverified: string | null;
}

export interface DiffRow {
  key: string;
  values: readonly { text: string; differs: boolean }[];
}

export interface MetricRow {
  label: string;
  values: readonly { text: string; delta: string | null; tone: 'better' | 'worse' | 'same' | '' }[];
}

export interface PairView {
  label: string;
  baseLetter: string;
  otherLetter: string;
  comparable: boolean;
  /** Why images and confusion matrices are not compared, when they are not. */
  reason: string | null;
  confusionDiff: Svg | null;
  fixed: { tiles: readonly Tile[]; total: number };
  broken: { tiles: readonly Tile[]; total: number };
  f1Delta: Svg | null;
  /** Accuracy difference, its interval and McNemar's p, when the runs share their test images. */
  significance: SignificanceView | null;
}

export interface ComparePageModel {
  title: string;
  runs: readonly CompareRun[];
  differingParams: readonly DiffRow[];
  equalParamCount: number;
  environmentDiffs: readonly DiffRow[];
  metrics: readonly MetricRow[];
  headlineChart: Svg;
  curves: { loss: Svg; accuracy: Svg } | null;
  perClassF1: Svg | null;
  pairs: readonly PairView[];
  /** The accuracy differences against A with their intervals, when at least one pair is comparable. */
  differenceChart: Svg | null;
  indexHref: string;
}

interface MetricDefinition {
  key: string;
  label: string;
  format: (x: number | null) => string;
  unit: 'pp' | 'plain' | 'seconds';
  digits?: number;
  better: 'higher' | 'lower' | null;
}

const METRICS: readonly MetricDefinition[] = [
  { key: METRIC_KEYS.testAccuracy, label: 'test accuracy', format: (x) => percent(x), unit: 'pp', better: 'higher' },
  { key: METRIC_KEYS.testMacroF1, label: 'test macro-F1', format: (x) => fixed(x), unit: 'plain', better: 'higher' },
  { key: METRIC_KEYS.testLogLoss, label: 'test log loss', format: (x) => fixed(x), unit: 'plain', better: 'lower' },
  { key: METRIC_KEYS.valAccuracy, label: 'val accuracy', format: (x) => percent(x), unit: 'pp', better: 'higher' },
  { key: METRIC_KEYS.valMacroF1, label: 'val macro-F1', format: (x) => fixed(x), unit: 'plain', better: 'higher' },
  { key: METRIC_KEYS.valLogLoss, label: 'val log loss', format: (x) => fixed(x), unit: 'plain', better: 'lower' },
  { key: METRIC_KEYS.trainAccuracy, label: 'train accuracy', format: (x) => percent(x), unit: 'pp', better: null },
  { key: METRIC_KEYS.trainLogLoss, label: 'train log loss', format: (x) => fixed(x), unit: 'plain', better: null },
  { key: METRIC_KEYS.testCount, label: 'test images', format: (x) => (x === null ? MISSING : String(x)), unit: 'plain', digits: 0, better: null },
  { key: METRIC_KEYS.trainSeconds, label: 'training time', format: (x) => (x === null ? MISSING : duration(1000 * x)), unit: 'seconds', digits: 2, better: 'lower' },
];

export const runLetter = (index: number): string => (index < 26 ? String.fromCharCode(65 + index) : `R${index + 1}`);

/** Keys whose values are not all equal (a key missing from some runs counts as differing). */
export function differingKeys(maps: readonly Readonly<Record<string, string>>[]): { differing: string[]; equal: number } {
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))].sort();
  const differing = keys.filter((key) => new Set(maps.map((m) => (key in m ? m[key] : '\u0000missing'))).size > 1);
  return { differing, equal: keys.length - differing.length };
}

function diffRows(maps: readonly Readonly<Record<string, string>>[], keys: readonly string[]): DiffRow[] {
  return keys.map((key) => ({
    key,
    values: maps.map((m) => ({ text: m[key] ?? MISSING, differs: m[key] !== maps[0][key] })),
  }));
}

/** Test images identified by path and content: equal sets mean predictions are paired. */
function testSetKey(split: readonly SplitMember[]): string {
  return split
    .filter((m) => m.split === 'test')
    .map((m) => `${m.path}\u0000${m.sha256}`)
    .sort()
    .join('\n');
}

/** Why two runs cannot be compared image by image, or null when they can. */
export function incomparableReason(a: RunData, b: RunData): string | null {
  if (!a.dataset || !b.dataset) return 'one of the runs has no recorded dataset yet (still running or failed before the end)';
  if (a.dataset.classes.join('\u0000') !== b.dataset.classes.join('\u0000')) return 'the runs have different classes';
  if (testSetKey(a.split) !== testSetKey(b.split)) {
    return (
      `the runs have different test splits (split hash ${a.dataset.splitHash.slice(0, 10)} vs ${b.dataset.splitHash.slice(0, 10)}, ` +
      `seed ${a.run.seed} vs ${b.run.seed}${a.dataset.fingerprint !== b.dataset.fingerprint ? ', different dataset content' : ''}), ` +
      'so they are compared on metrics only: no confusion-matrix difference and no flipped images'
    );
  }
  return null;
}

/**
 * Paired comparison of `other` against `base` on the test images both predicted (aligned by
 * path): the accuracy difference other − base with a seeded paired bootstrap interval, and the
 * exact McNemar p-value. Null when no test image is shared.
 */
export function pairedComparison(base: readonly Prediction[], other: readonly Prediction[]): (PairedComparison & { paired: number }) | null {
  const otherByPath = new Map(other.filter((p) => p.split === 'test').map((p) => [p.path, p]));
  const yTrue: number[] = [];
  const predBase: number[] = [];
  const predOther: number[] = [];
  for (const p of [...base].filter((x) => x.split === 'test').sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const q = otherByPath.get(p.path);
    if (!q || q.trueLabel !== p.trueLabel) continue;
    yTrue.push(p.trueLabel);
    predBase.push(p.predictedLabel);
    predOther.push(q.predictedLabel);
  }
  if (yTrue.length === 0) return null;
  // comparePaired reports A − B: the other run goes first so that positive means "other is better".
  return { ...comparePaired(yTrue, predOther, predBase, { seed: PAIRED_SEED, resamples: PAIRED_RESAMPLES }), paired: yTrue.length };
}

const points = (x: number): string => (100 * x).toFixed(1);

/** The paired comparison in words, with its interval, p-value and verdict at the 0.05 level. */
export function significanceView(comparison: PairedComparison & { paired: number }, letters: readonly [string, string]): SignificanceView {
  const [base, other] = letters;
  const { estimate, low, high } = comparison.accuracyDifference;
  const significant = comparison.mcnemarP < SIGNIFICANCE_LEVEL;
  const verdict = `McNemar p ${pValue(comparison.mcnemarP)}: ${significant ? 'significant' : 'not significant'} at the ${SIGNIFICANCE_LEVEL} level`;
  let claim: string;
  if (Math.abs(estimate) < 1e-12) claim = `${other} and ${base} are equally accurate (difference 0.0 points, 95% CI ${points(low)} to ${points(high)})`;
  else if (estimate > 0) claim = `${other} is more accurate than ${base} by ${points(estimate)} points (95% CI ${points(low)} to ${points(high)})`;
  // Said the other way round, so the interval is of the amount stated.
  else claim = `${other} is less accurate than ${base} by ${points(-estimate)} points (95% CI ${points(-high)} to ${points(-low)})`;
  return {
    sentence: `${claim}, ${verdict}.`,
    significant,
    difference: { estimate, low, high },
    mcnemarP: comparison.mcnemarP,
    onlyOtherCorrect: comparison.onlyACorrect,
    onlyBaseCorrect: comparison.onlyBCorrect,
    paired: comparison.paired,
  };
}

interface Flips {
  fixed: Prediction[];
  broken: Prediction[];
  /** The other run's prediction by path. */
  other: Map<string, Prediction>;
}

/** Test images right in one run and wrong in the other, most confident new prediction first. */
export function flippedPredictions(base: readonly Prediction[], other: readonly Prediction[]): Flips {
  const otherByPath = new Map(other.filter((p) => p.split === 'test').map((p) => [p.path, p]));
  const fixed: Prediction[] = [];
  const broken: Prediction[] = [];
  for (const p of base) {
    if (p.split !== 'test') continue;
    const q = otherByPath.get(p.path);
    if (!q) continue;
    const rightBefore = p.predictedLabel === p.trueLabel;
    const rightAfter = q.predictedLabel === q.trueLabel;
    if (!rightBefore && rightAfter) fixed.push(p);
    if (rightBefore && !rightAfter) broken.push(p);
  }
  const confidence = (p: Prediction): number => {
    const q = otherByPath.get(p.path) as Prediction;
    return q.probabilities[q.predictedLabel];
  };
  const order = (a: Prediction, b: Prediction): number => confidence(b) - confidence(a) || (a.path < b.path ? -1 : 1);
  return { fixed: fixed.sort(order), broken: broken.sort(order), other: otherByPath };
}

/** Originals the comparison page needs thumbnails of. */
export function comparePageImages(runs: readonly RunData[]): ImageSource[] {
  const [base, ...others] = runs;
  const images: ImageSource[] = [];
  if (!base.dataset) return images;
  const byPath = membersByPath(base.split);
  for (const other of others) {
    if (incomparableReason(base, other) !== null) continue;
    const flips = flippedPredictions(base.predictions, other.predictions);
    for (const p of [...flips.fixed.slice(0, FLIP_LIMIT), ...flips.broken.slice(0, FLIP_LIMIT)]) {
      const member = byPath.get(p.path);
      if (member) images.push(imageSource(base.dataset, member));
    }
  }
  return images;
}

function flipTile(p: Prediction, q: Prediction, classes: readonly string[], letters: [string, string], member: SplitMember | undefined, thumbs: ThumbnailIndex, thumbPrefix: string): Tile {
  const name = (label: number): string => classes[label] ?? `#${label}`;
  const mark = (x: Prediction): string => (x.predictedLabel === x.trueLabel ? '✓' : '✗');
  return {
    src: thumbSrc(member, thumbs, thumbPrefix),
    alt: `${p.path}: actual ${name(p.trueLabel)}`,
    lines: [
      { text: `actual: ${name(p.trueLabel)}`, kind: 'true' },
      { text: `${letters[0]}: ${name(p.predictedLabel)} ${mark(p)} ${percent(p.probabilities[p.predictedLabel], 0)}`, kind: p.predictedLabel === p.trueLabel ? 'true' : 'pred' },
      { text: `${letters[1]}: ${name(q.predictedLabel)} ${mark(q)} ${percent(q.probabilities[q.predictedLabel], 0)}`, kind: q.predictedLabel === q.trueLabel ? 'true' : 'pred' },
    ],
    wrong: false,
    title: p.path,
  };
}

function tone(definition: MetricDefinition, delta: number): MetricRow['values'][number]['tone'] {
  if (Math.abs(delta) < 1e-12) return 'same';
  if (definition.better === null) return '';
  return (delta > 0) === (definition.better === 'higher') ? 'better' : 'worse';
}

/** `audits`: each run's label audit verdicts (for its _clean metrics), in the order of `runs`. */
export function buildComparePage(
  runs: readonly RunData[],
  thumbs: ThumbnailIndex,
  links: { thumbPrefix: string; indexHref: string; runHref: (id: string) => string },
  audits: readonly (readonly AuditResult[])[] = [],
): ComparePageModel {
  const [base, ...others] = runs;
  // Every number compared is recomputed from the runs' predictions; an edited run is flagged.
  const checked = runs.map((d, i) => checkedFinal(d, audits[i] ?? []));
  const finals = checked.map((c) => c.final);
  const headers: CompareRun[] = runs.map((data, i) => ({
    letter: runLetter(i),
    ...recordLink(data.run, links.runHref(data.run.id)),
    color: seriesColor(i),
    accuracy: percent(finals[i][METRIC_KEYS.testAccuracy]),
    unverified: checked[i].verification && !checked[i].verification.ok ? checked[i].verification.problems.join('; ') : null,
  }));
  const label = (i: number): string => `${runLetter(i)} ${shortId(runs[i].run.id)}`;

  // The seed is a column of its own in the store; it is a parameter like any other here.
  const paramMaps = runs.map((d) => ({ ...d.params, seed: String(d.run.seed) }));
  const params = differingKeys(paramMaps);
  const envMaps = runs.map((d) => d.run.environment);
  const env = differingKeys(envMaps);

  const metrics: MetricRow[] = METRICS.filter((m) => finals.some((f) => m.key in f)).map((definition) => ({
    label: definition.label,
    values: finals.map((f, i) => {
      const value = f[definition.key] ?? null;
      const reference = finals[0][definition.key] ?? null;
      if (i === 0 || value === null || reference === null) return { text: definition.format(value), delta: null, tone: '' as const };
      const delta = value - reference;
      return { text: definition.format(value), delta: signed(delta, definition.unit, definition.digits), tone: tone(definition, delta) };
    }),
  }));

  const headlineChart = svg(
    barChart({
      title: 'Test accuracy and macro-F1',
      categories: ['test accuracy', 'test macro-F1', 'val accuracy'],
      series: finals.map((f, i) => ({ name: label(i), values: [f[METRIC_KEYS.testAccuracy] ?? null, f[METRIC_KEYS.testMacroF1] ?? null, f[METRIC_KEYS.valAccuracy] ?? null], color: seriesColor(i) })),
      valueLabel: 'score (0-1)',
      categoryLabel: 'metric',
      domain: [0, 1],
      formatValue: (v) => v.toFixed(4),
    }),
  );

  const classes = [...new Set(runs.flatMap((d) => d.dataset?.classes ?? []))];
  const f1 = (i: number, c: string): number | null => finals[i][`test.f1.${c}`] ?? null;
  const perClassF1 =
    classes.length > 0
      ? svg(
          barChart({
            title: 'Per-class F1 (test)',
            categories: classes,
            series: runs.map((_, i) => ({ name: label(i), values: classes.map((c) => f1(i, c)), color: seriesColor(i) })),
            valueLabel: 'F1',
            categoryLabel: 'class',
            domain: [0, 1],
            formatValue: (v) => v.toFixed(3),
          }),
        )
      : null;

  const pairs: PairView[] = others.map((other, k) => {
    const i = k + 1;
    const letters: [string, string] = [runLetter(0), runLetter(i)];
    const reason = incomparableReason(base, other);
    const deltas = classes.map((c) => {
      const a = f1(0, c);
      const b = f1(i, c);
      return a === null || b === null ? null : b - a;
    });
    const f1Delta = deltas.some((d) => d !== null)
      ? svg(
          barChart({
            title: `Per-class F1 change, ${letters[1]} − ${letters[0]}`,
            categories: classes,
            series: [{ name: `${letters[1]} − ${letters[0]}`, values: deltas }],
            valueLabel: 'F1 difference (positive: better in ' + letters[1] + ')',
            categoryLabel: 'class',
            colorBySign: true,
            formatValue: (v) => signed(v, 'plain', 3),
          }),
        )
      : null;
    const pairLabel = `${letters[1]} (${shortId(other.run.id)}) vs ${letters[0]} (${shortId(base.run.id)})`;
    if (reason !== null || !base.dataset) {
      return { label: pairLabel, baseLetter: letters[0], otherLetter: letters[1], comparable: false, reason, confusionDiff: null, fixed: { tiles: [], total: 0 }, broken: { tiles: [], total: 0 }, f1Delta, significance: null };
    }
    const names = base.dataset.classes;
    const a = confusionFromPredictions(base.predictions.filter((p) => p.split === 'test'), names.length);
    const b = confusionFromPredictions(other.predictions.filter((p) => p.split === 'test'), names.length);
    const diff = a.map((row, r) => row.map((v, c) => b[r][c] - v));
    const maxAbs = Math.max(1, maxOf(diff.flat().map(Math.abs)));
    // Above FULL_MATRIX_CLASS_LIMIT classes: the classes whose cells changed most.
    const selection = selectClasses(diff);
    const shown = selection.indices;
    const shownNames = shown.map((i) => names[i]);
    const confusionDiff = svg(
      heatmap({
        title: `Confusion matrix change, ${letters[1]} − ${letters[0]} (test)${selection.truncated ? `: ${selectionNote(selection).replace('most confused', 'most changed')}` : ''}`,
        rowLabels: shownNames,
        columnLabels: shownNames,
        // Green where B is better: more on the diagonal, fewer off it.
        intensities: shown.map((r) => shown.map((c) => ((r === c ? 1 : -1) * diff[r][c]) / maxAbs)),
        cellText: (i, j) => {
          const [r, c] = [shown[i], shown[j]];
          return [diff[r][c] === 0 ? '0' : signed(diff[r][c], 'plain', 0), `${a[r][c]} → ${b[r][c]}`];
        },
        cellTitle: (i, j) => `actual ${shownNames[i]}, predicted ${shownNames[j]}: ${a[shown[i]][shown[j]]} in ${letters[0]}, ${b[shown[i]][shown[j]]} in ${letters[1]}`,
        rowAxisLabel: 'actual class',
        columnAxisLabel: 'predicted class',
        palette: 'diverging',
        cellClass: (i, j) => (i === j ? 'diagonal' : ''),
      }),
    );
    const paired = pairedComparison(base.predictions, other.predictions);
    const flips = flippedPredictions(base.predictions, other.predictions);
    const byPath = membersByPath(base.split);
    const tiles = (list: readonly Prediction[]): Tile[] =>
      list.slice(0, FLIP_LIMIT).map((p) => flipTile(p, flips.other.get(p.path) as Prediction, names, letters, byPath.get(p.path), thumbs, links.thumbPrefix));
    return {
      label: pairLabel,
      baseLetter: letters[0],
      otherLetter: letters[1],
      comparable: true,
      reason: null,
      confusionDiff,
      fixed: { tiles: tiles(flips.fixed), total: flips.fixed.length },
      broken: { tiles: tiles(flips.broken), total: flips.broken.length },
      f1Delta,
      significance: paired ? significanceView(paired, letters) : null,
    };
  });

  const tested = pairs.flatMap((pair) => (pair.significance ? [{ pair, significance: pair.significance }] : []));
  const differenceChart =
    tested.length > 0
      ? svg(
          errorBarChart({
            title: `Test accuracy minus ${runLetter(0)}'s, 95% CI`,
            categories: tested.map(({ pair }) => `${pair.otherLetter} − ${pair.baseLetter}`),
            series: [
              {
                name: 'difference',
                points: tested.map(({ pair, significance }, category) => ({
                  category,
                  mean: significance.difference.estimate,
                  low: significance.difference.low,
                  high: significance.difference.high,
                  title: `${pair.otherLetter} − ${pair.baseLetter}: ${signed(significance.difference.estimate, 'pp', 1)} (95% CI ${signed(significance.difference.low, 'pp', 1)} to ${signed(significance.difference.high, 'pp', 1)}), McNemar p ${pValue(significance.mcnemarP)}`,
                })),
              },
            ],
            xLabel: 'run against the baseline',
            yLabel: 'difference (points)',
            formatY: (v) => String(Number((100 * v).toFixed(1))),
            referenceLine: 0,
            width: Math.max(440, 160 + 90 * tested.length),
            height: 180,
          }),
        )
      : null;

  const hasCurves = runs.some((d) => Object.keys(d.curves).length > 0);
  return {
    title: `Compare ${runs.map((d) => shortId(d.run.id)).join(' · ')}`,
    runs: headers,
    differingParams: diffRows(paramMaps, params.differing),
    equalParamCount: params.equal,
    environmentDiffs: diffRows(envMaps, env.differing),
    metrics,
    headlineChart,
    curves: hasCurves ? learningCurves(runs.map((data, i) => ({ label: runLetter(i), data, color: seriesColor(i) }))) : null,
    perClassF1,
    pairs,
    differenceChart,
    indexHref: links.indexHref,
  };
}
