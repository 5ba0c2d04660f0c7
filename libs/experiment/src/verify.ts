import { argmax } from '@mlbench/metrics';
import { finalMetrics, resolveRun, type AuditResult, type DatasetInput, type Run, type SplitMember, type TrackingStore } from '@mlbench/tracking';
import { metricsFromPredictions, type StoredPrediction } from './prediction-metrics';

/** What verification reads of one run (from the store or from an export). */
export interface VerifiableRun {
  runId: string;
  seed: number;
  /** Final metrics as logged, key -> value. */
  recorded: Readonly<Record<string, number>>;
  dataset: Pick<DatasetInput, 'fingerprint' | 'classes' | 'splitCounts'> | null;
  /** Split membership (labels by path); empty when not recorded. */
  split: readonly Pick<SplitMember, 'path' | 'label' | 'split'>[];
  predictions: readonly StoredPrediction[];
  /** The audit's per-image verdicts; empty when the run had no audit. */
  audit: readonly Pick<AuditResult, 'path' | 'flag'>[];
}

export interface MetricMismatch {
  key: string;
  recorded: number;
  recomputed: number;
}

export interface Verification {
  runId: string;
  /** Metrics recomputed from the predictions and compared with the logged value. */
  checked: string[];
  mismatches: MetricMismatch[];
  /** Recomputable metrics the run did not log (older runs, e.g. before intervals existed). */
  notLogged: string[];
  /** Logged split metrics that cannot be recomputed (train.*: train predictions are not stored). */
  notDerivable: string[];
  /** Predictions inconsistent with themselves or the split (edited or truncated records). */
  predictionProblems: string[];
  /** The recomputed values, key -> value. */
  recomputed: Record<string, number>;
  ok: boolean;
}

export interface VerifyOptions {
  /** Also recompute the seeded bootstrap intervals (2000 resamples per split). Default true. */
  intervals?: boolean;
  /** Largest tolerated difference; recomputation is the same arithmetic, so 1e-9 is generous. */
  tolerance?: number;
}

const SPLIT_METRIC = /^(train|val|test)(_clean)?\./;
const EXAMPLES = 3;

/** Recomputes every prediction-derived final metric of a run and compares it with what was logged. */
export function verifyRecord(run: VerifiableRun, options: VerifyOptions = {}): Verification {
  const tolerance = options.tolerance ?? 1e-9;
  const problems: string[] = [];
  const classes = run.dataset?.classes ?? [];
  if (classes.length === 0) problems.push('the run has no recorded dataset classes, so its predictions cannot be scored');

  const labels = new Map(run.split.map((m) => [`${m.split}\0${m.path}`, m.label]));
  const bad = { argmax: [] as string[], label: [] as string[], range: [] as string[] };
  for (const p of run.predictions) {
    if (p.probabilities.length !== classes.length || !Number.isInteger(p.trueLabel) || p.trueLabel < 0 || p.trueLabel >= classes.length) {
      bad.range.push(p.path);
      continue;
    }
    if (argmax(p.probabilities) !== p.predictedLabel) bad.argmax.push(p.path);
    const label = labels.get(`${p.split}\0${p.path}`);
    if (run.split.length > 0 && label !== p.trueLabel) bad.label.push(p.path);
  }
  const list = (paths: string[]): string => `${paths.slice(0, EXAMPLES).join(', ')}${paths.length > EXAMPLES ? `, … (${paths.length} in all)` : ''}`;
  if (bad.range.length > 0) problems.push(`${bad.range.length} prediction(s) with a label or probability count outside the ${classes.length} classes: ${list(bad.range)}`);
  if (bad.argmax.length > 0) problems.push(`${bad.argmax.length} prediction(s) whose predicted class is not the most probable one: ${list(bad.argmax)}`);
  if (bad.label.length > 0) problems.push(`${bad.label.length} prediction(s) whose true class differs from the recorded split: ${list(bad.label)}`);
  if (run.dataset) {
    for (const split of ['val', 'test'] as const) {
      const expected = Object.values(run.dataset.splitCounts[split] ?? {}).reduce((a, b) => a + b, 0);
      const actual = run.predictions.filter((p) => p.split === split).length;
      if (actual !== expected) problems.push(`${split}: ${actual} stored predictions for ${expected} ${split} images`);
    }
  }

  const scorable = problems.length === 0 || (classes.length > 0 && bad.range.length === 0);
  const recomputed = scorable
    ? metricsFromPredictions(run.predictions, {
        seed: run.seed,
        classes,
        labelIssues: run.audit.length > 0 ? new Set(run.audit.filter((a) => a.flag === 'label_issue').map((a) => a.path)) : null,
        intervals: options.intervals ?? true,
      })
    : {};
  const checked: string[] = [];
  const mismatches: MetricMismatch[] = [];
  const notLogged: string[] = [];
  for (const [key, value] of Object.entries(recomputed).sort(([a], [b]) => a.localeCompare(b))) {
    const logged = run.recorded[key];
    if (logged === undefined) {
      notLogged.push(key);
      continue;
    }
    checked.push(key);
    const same = Number.isNaN(value) ? Number.isNaN(logged) : Math.abs(logged - value) <= tolerance;
    if (!same) mismatches.push({ key, recorded: logged, recomputed: value });
  }
  const notDerivable = Object.keys(run.recorded)
    .filter((k) => SPLIT_METRIC.test(k) && !(k in recomputed) && !(options.intervals === false && /\.ci_(low|high)$/.test(k)))
    .sort();
  return { runId: run.runId, checked, mismatches, notLogged, notDerivable, predictionProblems: problems, recomputed, ok: mismatches.length === 0 && problems.length === 0 };
}

/** Reads what verification needs of a recorded run (id or unique prefix). */
export async function loadVerifiableRun(store: TrackingStore, runId: string): Promise<VerifiableRun> {
  return loadRunEvidence(store, await resolveRun(store, runId));
}

/** A recorded run's evidence, with its whole dataset record (the split hash included). */
export interface RunEvidence extends VerifiableRun {
  dataset: DatasetInput | null;
}

/** The evidence of a recorded run: its final metrics, dataset, split membership, predictions and audit verdicts. */
export async function loadRunEvidence(store: TrackingStore, run: Pick<Run, 'id' | 'seed'>): Promise<RunEvidence> {
  const [metrics, dataset, split, predictions, audit] = await Promise.all([
    store.getMetrics(run.id),
    store.getDatasetInput(run.id),
    store.getSplit(run.id),
    store.getPredictions(run.id),
    store.getAuditResults(run.id),
  ]);
  return { runId: run.id, seed: run.seed, recorded: finalMetrics(metrics), dataset, split, predictions, audit };
}

/** `verify <run>`: recomputes every final metric of a recorded run from its predictions. */
export async function verifyRun(store: TrackingStore, runId: string, options: VerifyOptions = {}): Promise<Verification> {
  return verifyRecord(await loadVerifiableRun(store, runId), options);
}

/** One line per problem, for messages (gate refusals, report flags). */
export function describeVerificationProblems(v: Verification, limit = 5): string[] {
  const lines = [
    ...v.predictionProblems,
    ...v.mismatches.map((m) => `${m.key}: logged ${m.recorded}, recomputed from the predictions ${m.recomputed}`),
  ];
  return lines.length > limit ? [...lines.slice(0, limit), `… and ${lines.length - limit} more`] : lines;
}
