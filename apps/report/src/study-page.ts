/**
 * The study page: one question, several arms (each a sweep of one config over the same seeds),
 * written for a reader who has not seen the project. Every number comes from the store.
 */
import { summarizeSample, type SampleSummary } from '@mlbench/metrics';
import { loadStudyArms, type Prediction, type SplitMember, type Study, type StudyArm, type Sweep, type TrackingStore } from '@mlbench/tracking';
import { costChart } from './charts/cost-chart';
import { seriesColor } from './charts/svg';
import { pairedComparison, significanceView, SIGNIFICANCE_LEVEL } from './compare-page';
import { baseName, dateTime, duration, MISSING, percent, pValue, shortId } from './format';
import { seededSample, type ImageSource, type ThumbnailIndex } from './images';
import { confusionFromPredictions, imageSource, membersByPath, predictionTile, statusView, svg, type StatusView, type Svg, type Tile } from './page-model';
import { loadRunSummary, type RunSummaryData } from './run-data';
import { confusionChart } from './run-page';
import { maxOf } from '@mlbench/common';
import { METRIC_KEYS, parseStudyDefinition, type SeedResult } from '@mlbench/experiment/results';
import { withCheckedRuns, type CheckedRuns, type ExcludedRun } from './checked-runs';

export const STUDY_GRID_SIZE = 24;

/** A completed run of an arm with what the study page needs. */
export interface StudyRun {
  summary: RunSummaryData;
  split: readonly SplitMember[];
  /** Test predictions. */
  test: readonly Prediction[];
  /** Test accuracy and macro-F1 recomputed from the predictions (the run's seed result). */
  metrics: SeedResult['metrics'];
}

export interface StudyArmData {
  arm: StudyArm;
  sweep: Sweep | null;
  /** Completed runs that passed verification, by seed. */
  runs: readonly StudyRun[];
  /** Completed runs left out: their logged numbers do not match their predictions (or another check failed). */
  unverified: readonly ExcludedRun[];
  /** Runs of the arm's sweep that did not complete. */
  unfinished: number;
  /**
   * When every run of the arm read its features from the cache: the run in the store that
   * extracted them (same model, layer, engine, backend and preprocessing), for the cost.
   */
  extractedBy?: { runId: string; seconds: number } | null;
}

export interface StudyData {
  study: Study;
  arms: readonly StudyArmData[];
}

/** `checked`: the report's checked runs (runs not in it are checked here). */
export async function loadStudyData(store: TrackingStore, study: Study, summaryById?: ReadonlyMap<string, RunSummaryData>, checked?: CheckedRuns): Promise<StudyData> {
  const arms: StudyArmData[] = [];
  for (const { arm, sweep, runs: sweepRuns } of await loadStudyArms(store, study.id)) {
    const completed = sweepRuns.filter((r) => r.status === 'completed').sort((a, b) => a.seed - b.seed);
    const all = await withCheckedRuns(store, completed, checked);
    const runs: StudyRun[] = [];
    for (const run of completed) {
      const result = all.results.get(run.id);
      if (!result) continue;
      const [summary, split, test] = await Promise.all([summaryById?.get(run.id) ?? loadRunSummary(store, run), store.getSplit(run.id), store.getPredictions(run.id, 'test')]);
      runs.push({ summary, split, test, metrics: result.metrics });
    }
    const unverified = completed.map((r) => all.excluded.get(r.id)).filter((e): e is ExcludedRun => e !== undefined);
    arms.push({ arm, sweep, runs, unverified, unfinished: sweepRuns.length - completed.length, extractedBy: findExtraction(runs, summaryById) });
  }
  return { study, arms };
}

const EXTRACTOR_KEY = ['sha256', 'featureLayer', 'engine', 'backend', 'preprocess'] as const;

/** The newest recorded run that extracted the features an all-cached arm read, or null. */
export function findExtraction(runs: readonly StudyRun[], all: ReadonlyMap<string, RunSummaryData> | undefined): { runId: string; seconds: number } | null {
  const first = runs[0]?.summary;
  if (!first || !all || !runs.every((r) => r.summary.final['extraction.extracted'] === 0)) return null;
  const key = (d: RunSummaryData): string => JSON.stringify(EXTRACTOR_KEY.map((k) => d.extractor[k] ?? null));
  const wanted = key(first);
  const found = [...all.values()]
    .filter((d) => d.run.status === 'completed' && (d.final['extraction.extracted'] ?? 0) > 0 && d.final['extraction.cached'] === 0 && key(d) === wanted && Number.isFinite(d.final['time.extraction_seconds']))
    .sort((a, b) => (a.run.startTime < b.run.startTime ? 1 : -1))[0];
  return found ? { runId: found.run.id, seconds: found.final['time.extraction_seconds'] } : null;
}

export interface ArmRow {
  letter: string;
  label: string;
  baseline: boolean;
  frozen: string;
  trained: string;
  input: string;
  seeds: number;
  accuracy: string;
  interval: string;
  macroF1: string;
  parameters: string;
  extraction: string;
  training: string;
  runs: readonly { seed: number; shortId: string; href: string; accuracy: string }[];
  note: string | null;
}

export interface SeedCell {
  seed: number;
  /** e.g. "−3.1 pp" (this arm minus arm 1 on that seed's test split). */
  difference: string;
  pValue: string;
  significant: boolean;
  title: string;
}

export interface SignificanceRow {
  letter: string;
  label: string;
  cells: readonly SeedCell[];
  /** Mean difference across seeds with its paired t-interval, e.g. "−3.10 pp (95% t-interval −4.0 to −2.2)". */
  acrossSeeds: string;
  verdict: string;
  tone: 'better' | 'worse' | 'same';
}

export interface StudyPageModel {
  title: string;
  study: { id: string; shortId: string; name: string; question: string; status: StatusView; started: string; ended: string; wallTime: string };
  description: string | null;
  setup: readonly { label: string; value: string }[];
  arms: readonly ArmRow[];
  /** Sentences on how the arms rank against arm 1, including any arm that beats it. */
  findings: readonly string[];
  costChart: Svg;
  /** Said under the chart when an arm's extraction time is not in the store. */
  costNote: string | null;
  seeds: readonly number[];
  significance: readonly SignificanceRow[];
  method: string;
  confusion: { chart: Svg; caption: string; roseTulip: string | null; runs: number } | null;
  grid: { tiles: readonly Tile[]; caption: string } | null;
  configText: string;
  indexHref: string;
}

const pp = (x: number, digits = 1): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(digits)} pp`;
const metricValues = (runs: readonly StudyRun[], key: string): number[] => runs.map((r) => r.summary.final[key]).filter((v): v is number => Number.isFinite(v));
/** Verdict metrics come from the predictions, never from the logged numbers. */
const verdictValues = (runs: readonly StudyRun[], key: keyof SeedResult['metrics']): number[] => runs.map((r) => r.metrics[key]).filter((v) => Number.isFinite(v));
const summary = (values: readonly number[]): SampleSummary | null => (values.length > 0 ? summarizeSample(values) : null);
const meanStd = (s: SampleSummary | null): string => (s ? `${percent(s.mean)} ± ${(100 * s.std).toFixed(2)}` : MISSING);
const seconds = (s: number): string => duration(s * 1000);

/** Runs of an arm left out of its numbers, and why. */
function armNote(armData: StudyArmData): string | null {
  const notes: string[] = [];
  if (armData.unfinished > 0) notes.push(`${armData.unfinished} run(s) of this arm did not complete and are left out`);
  for (const e of armData.unverified) notes.push(`run ${shortId(e.runId)} is left out: ${e.reason}`);
  return notes.length > 0 ? notes.join('; ') : null;
}

/** What an arm keeps frozen and what it trains, from its recorded params. */
export function describeArm(params: Readonly<Record<string, string>>, parameters: number | null): { frozen: string; trained: string; input: string } {
  const source = params['model.extractor.source'];
  const extractor = params['model.extractor'];
  const headType = params['model.head.type'] ?? 'softmax';
  const size = params['preprocess.size'] ? (JSON.parse(params['preprocess.size']) as number[]).join('x') : MISSING;
  const count = parameters === null ? '' : ` (${parameters.toLocaleString('en-US')} parameters)`;
  const frozen = extractor === 'none' || !source ? 'nothing (raw pixels)' : `${baseName(source).replace(/\.(tflite|json)$/, '').replace(/_/g, ' ')} (ImageNet weights)`;
  let trained: string;
  if (headType === 'cnn') {
    const blocks = params['model.head.blocks'] ? (JSON.parse(params['model.head.blocks']) as { filters: number }[]).map((b) => b.filters).join('/') : '?';
    const dense = params['model.head.dense'];
    trained = `whole CNN from scratch: conv ${blocks}${dense && dense !== '0' ? `, dense ${dense}` : ''}${count}`;
  } else {
    trained = `softmax layer${count}`;
  }
  return { frozen, trained, input: size };
}

/** Pairs an arm's runs with arm 1's by seed: the same seed means the same split. */
function bySeed(runs: readonly StudyRun[]): Map<number, StudyRun> {
  return new Map(runs.map((r) => [r.summary.run.seed, r]));
}

export function buildStudyPage(data: StudyData, thumbs: ThumbnailIndex, links: { indexHref: string; runHref: (id: string) => string; thumbPrefix: string }): StudyPageModel {
  const { study } = data;
  const letter = (i: number): string => String(i + 1);
  const base = data.arms[0];
  const baseRuns = base ? bySeed(base.runs) : new Map<number, StudyRun>();
  const seeds = [...new Set(data.arms.flatMap((a) => a.runs.map((r) => r.summary.run.seed)))].sort((a, b) => a - b);

  const arms: ArmRow[] = data.arms.map((armData, i) => {
    const accuracy = summary(verdictValues(armData.runs, METRIC_KEYS.testAccuracy));
    const f1 = summary(verdictValues(armData.runs, METRIC_KEYS.testMacroF1));
    const parameters = metricValues(armData.runs, 'head.parameters')[0] ?? null;
    const first = armData.runs[0]?.summary;
    const extractionTimes = metricValues(armData.runs, 'time.extraction_seconds');
    const extracted = metricValues(armData.runs, 'extraction.extracted');
    const allCached = extracted.length > 0 && extracted.every((n) => n === 0);
    const train = summary(metricValues(armData.runs, METRIC_KEYS.trainSeconds));
    const described = first ? describeArm(first.params, parameters) : { frozen: MISSING, trained: MISSING, input: MISSING };
    return {
      letter: letter(i),
      label: armData.arm.label,
      baseline: i === 0,
      ...described,
      seeds: armData.runs.length,
      accuracy: meanStd(accuracy),
      interval: accuracy?.interval ? `${percent(accuracy.interval.low)} – ${percent(accuracy.interval.high)}` : MISSING,
      macroF1: f1 ? `${f1.mean.toFixed(4)} ± ${f1.std.toFixed(4)}` : MISSING,
      parameters: parameters === null ? MISSING : parameters.toLocaleString('en-US'),
      extraction:
        extractionTimes.length === 0
          ? MISSING
          : allCached
            ? armData.extractedBy
              ? `cached; ${seconds(armData.extractedBy.seconds)} when run ${shortId(armData.extractedBy.runId)} extracted them`
              : `cached (${seconds(maxOf(extractionTimes))})`
            : seconds(maxOf(extractionTimes)),
      training: train ? `${seconds(train.mean)} per seed` : MISSING,
      runs: armData.runs.map((r) => ({ seed: r.summary.run.seed, shortId: shortId(r.summary.run.id), href: links.runHref(r.summary.run.id), accuracy: percent(r.metrics[METRIC_KEYS.testAccuracy]) })),
      note: armNote(armData),
    };
  });

  const significance: SignificanceRow[] = data.arms.slice(1).map((armData, k) => {
    const cells: SeedCell[] = [];
    const differences: number[] = [];
    for (const run of armData.runs) {
      const baseRun = baseRuns.get(run.summary.run.seed);
      const paired = baseRun ? pairedComparison(baseRun.test, run.test) : null;
      if (!paired) continue;
      const view = significanceView(paired, ['1', letter(k + 1)]);
      differences.push(view.difference.estimate);
      cells.push({
        seed: run.summary.run.seed,
        difference: pp(view.difference.estimate),
        pValue: `p ${pValue(view.mcnemarP)}`,
        significant: view.significant,
        title: `seed ${run.summary.run.seed}: ${view.sentence} ${view.onlyOtherCorrect} test images only arm ${letter(k + 1)} got right, ${view.onlyBaseCorrect} only arm 1; ${view.paired} paired.`,
      });
    }
    const diff = differences.length > 0 ? summarizeSample(differences) : null;
    let verdict = 'no paired seeds';
    let tone: SignificanceRow['tone'] = 'same';
    if (diff?.interval) {
      const { low, high } = diff.interval;
      if (low > 0) {
        tone = 'better';
        verdict = `beats the frozen MobileNetV2 arm (the whole interval is above 0)`;
      } else if (high < 0) {
        tone = 'worse';
        verdict = 'worse than arm 1 (the whole interval is below 0)';
      } else verdict = 'no clear difference from arm 1 (the interval contains 0)';
    } else if (diff) verdict = 'one seed only: no interval across seeds';
    return {
      letter: letter(k + 1),
      label: armData.arm.label,
      cells,
      acrossSeeds: diff ? `${pp(diff.mean, 2)}${diff.interval ? ` (95% t-interval ${pp(diff.interval.low)} to ${pp(diff.interval.high)})` : ''}` : MISSING,
      verdict,
      tone,
    };
  });

  const findings: string[] = [];
  const baseAccuracy = base ? summary(verdictValues(base.runs, METRIC_KEYS.testAccuracy)) : null;
  if (base && baseAccuracy) {
    findings.push(`Arm 1 (${base.arm.label}) reaches ${percent(baseAccuracy.mean)} mean test accuracy over ${baseAccuracy.n} seed${baseAccuracy.n === 1 ? '' : 's'}.`);
    significance.forEach((row, k) => {
      const other = summary(verdictValues(data.arms[k + 1].runs, METRIC_KEYS.testAccuracy));
      if (!other) return;
      if (row.tone === 'better') findings.push(`Arm ${row.letter} (${row.label}) BEATS the frozen extractor of arm 1: ${percent(other.mean)}, a paired difference of ${row.acrossSeeds}.`);
      else if (row.tone === 'worse') findings.push(`Arm ${row.letter} (${row.label}) is worse: ${percent(other.mean)}, a paired difference of ${row.acrossSeeds}.`);
      else findings.push(`Arm ${row.letter} (${row.label}) reaches ${percent(other.mean)}; against arm 1: ${row.acrossSeeds}, ${row.verdict}.`);
    });
  }

  const costPoints = data.arms.map((armData, i) => {
    const accuracy = summary(verdictValues(armData.runs, METRIC_KEYS.testAccuracy));
    const train = summary(metricValues(armData.runs, METRIC_KEYS.trainSeconds));
    const extraction = metricValues(armData.runs, 'time.extraction_seconds');
    // One extraction serves every seed of an arm (features are cached): its cost is split over the runs.
    // Features cached before the study are charged at the time of the run that extracted them.
    const extractionTotal = armData.extractedBy ? armData.extractedBy.seconds : extraction.reduce((a, b) => a + b, 0);
    const cost = (train?.mean ?? 0) + (extraction.length > 0 ? extractionTotal / extraction.length : 0);
    const unknownExtraction = extraction.length > 0 && !armData.extractedBy && armData.runs.every((r) => r.summary.final['extraction.extracted'] === 0);
    return {
      name: `${letter(i)} ${armData.arm.label}${unknownExtraction ? ' *' : ''}`,
      unknownExtraction,
      cost,
      mean: accuracy?.mean ?? Number.NaN,
      std: accuracy?.std ?? 0,
      color: seriesColor(i),
      title: `${armData.arm.label}: ${meanStd(accuracy)} at ${seconds(cost)} per run (training + extraction, extraction averaged over the seeds)`,
    };
  });

  let confusion: StudyPageModel['confusion'] = null;
  let grid: StudyPageModel['grid'] = null;
  const classes = base?.runs[0]?.summary.dataset?.classes ?? [];
  if (base && base.runs.length > 0 && classes.length > 0) {
    const all = base.runs.flatMap((r) => r.test);
    const matrix = confusionFromPredictions(all, classes.length);
    const roses = classes.indexOf('roses');
    const tulips = classes.indexOf('tulips');
    let roseTulip: string | null = null;
    if (roses >= 0 && tulips >= 0) {
      const rowTotal = (r: number): number => matrix[r].reduce((a, b) => a + b, 0);
      const errors = all.length - matrix.reduce((sum, row, r) => sum + row[r], 0);
      const rt = matrix[roses][tulips];
      const tr = matrix[tulips][roses];
      roseTulip =
        `Roses and tulips are the pair arm 1 confuses most often: ${rt} of ${rowTotal(roses)} test roses (${percent(rt / rowTotal(roses), 1)}) were called tulips and ` +
        `${tr} of ${rowTotal(tulips)} tulips (${percent(tr / rowTotal(tulips), 1)}) roses: ${rt + tr} of all ${errors} mistakes (${percent(errors > 0 ? (rt + tr) / errors : 0, 1)}).`;
      // Said plainly when another pair is in fact more confused.
      let worst = { r: -1, c: -1, n: -1 };
      matrix.forEach((row, r) => row.forEach((n, c) => r !== c && n + matrix[c][r] > worst.n && (worst = { r, c, n: n + matrix[c][r] })));
      if (worst.n > rt + tr) roseTulip = roseTulip.replace('are the pair arm 1 confuses most often', `are often confused, though ${classes[worst.r]}/${classes[worst.c]} is confused more (${worst.n})`);
    }
    confusion = {
      chart: confusionChart(matrix, classes, `Arm 1 test confusion matrix, ${base.runs.length} seed${base.runs.length === 1 ? '' : 's'} summed`),
      caption: `Rows are the actual class, columns the prediction, over the test splits of all ${base.runs.length} seeds of arm 1 (${all.length} test predictions; each seed has its own split).`,
      roseTulip,
      runs: base.runs.length,
    };
    const run = base.runs[0];
    const members = membersByPath(run.split);
    const sample = seededSample(run.test, STUDY_GRID_SIZE, run.summary.run.seed, (p) => p.path);
    grid = {
      tiles: sample.map((p) => predictionTile(p, classes, members.get(p.path), thumbs, links.thumbPrefix)),
      caption: `${sample.length} test photos of arm 1, seed ${run.summary.run.seed} (run ${shortId(run.summary.run.id)}), drawn at random; wrong predictions are framed in red.`,
    };
  }

  const firstRun = base?.runs[0]?.summary;
  const dataset = firstRun?.dataset;
  const split = firstRun ? { train: firstRun.params['dataset.split.train'], val: firstRun.params['dataset.split.val'], test: firstRun.params['dataset.split.test'] } : null;
  const counts = dataset ? Object.fromEntries(Object.entries(dataset.splitCounts).map(([s, perClass]) => [s, Object.values(perClass).reduce((a, b) => a + b, 0)])) : null;
  const setup = [
    { label: 'dataset', value: dataset ? `${dataset.path}: ${Object.values(dataset.classCounts).reduce((a, b) => a + b, 0)} photos, ${dataset.classes.length} classes (${dataset.classes.join(', ')})` : MISSING },
    {
      label: 'split',
      value: split?.train && counts ? `stratified per class: train ${split.train} (${counts.train}), val ${split.val} (${counts.val}), test ${split.test} (${counts.test} photos); a new split per seed` : MISSING,
    },
    { label: 'seeds', value: seeds.length > 0 ? `${seeds.join(', ')}: the same seeds, hence the same splits, in every arm; each seed also sets weight initialisation and shuffling` : MISSING },
    { label: 'frozen', value: 'arms whose extractor is a MobileNet keep its ImageNet weights fixed; their features are computed once per photo and cached' },
    { label: 'trained', value: 'a softmax layer on the features (or on raw pixels), except the CNN arm, which trains every weight from random initialisation' },
    { label: 'training', value: firstRun ? `${firstRun.params['train.optimizer'] ?? MISSING}, learning rate ${firstRun.params['train.learningRate'] ?? MISSING}, batch ${firstRun.params['train.batchSize'] ?? MISSING}; epochs per arm in the arm's config; no augmentation` : MISSING },
  ];
  const wallMs = study.endTime ? Date.parse(study.endTime) - Date.parse(study.startTime) : null;

  return {
    title: `Study ${study.name}`,
    study: { id: study.id, shortId: shortId(study.id), name: study.name, question: study.question, status: statusView(study.status), started: dateTime(study.startTime), ended: dateTime(study.endTime), wallTime: duration(wallMs) },
    description: descriptionOf(study.configText),
    setup,
    arms,
    findings,
    costNote: costPoints.some((p) => p.unknownExtraction)
      ? '* Features read from a cache filled before the study, by a run not in this store: their extraction time is unknown here, so the point shows training time only.'
      : null,
    costChart: svg(costChart({ title: 'Test accuracy against cost per run', points: costPoints, xLabel: 'seconds per run: training + feature extraction (log scale)', yLabel: 'test accuracy', formatY: (v) => percent(v, 0) })),
    seeds,
    significance,
    method:
      `Per seed, every arm is tested on the same test photos as arm 1 (same seed, same split): the cell is the accuracy difference (arm minus arm 1) with the exact ` +
      `McNemar p-value over the photos only one of the two got right (bold: p < ${SIGNIFICANCE_LEVEL}). Across seeds, the mean of the per-seed differences with a ` +
      `95% Student-t interval (n − 1 degrees of freedom): a paired t-interval, since both arms share each seed's split.`,
    confusion,
    grid,
    configText: study.configText,
    indexHref: links.indexHref,
  };
}

/** The `description` of the study file as recorded, for the page's introduction (null when absent or unreadable). */
function descriptionOf(configText: string): string | null {
  try {
    return parseStudyDefinition(configText, 'study').description ?? null;
  } catch {
    return null;
  }
}

/** Originals the study page needs thumbnails of. */
export function studyPageImages(data: StudyData): ImageSource[] {
  const run = data.arms[0]?.runs[0];
  const dataset = run?.summary.dataset;
  if (!run || !dataset) return [];
  const members = membersByPath(run.split);
  return seededSample(run.test, STUDY_GRID_SIZE, run.summary.run.seed, (p) => p.path)
    .map((p) => members.get(p.path))
    .filter((m): m is SplitMember => m !== undefined)
    .map((m) => imageSource(dataset, m));
}
