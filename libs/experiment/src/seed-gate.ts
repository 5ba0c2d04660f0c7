import {
  nonInferiority,
  pairedMeanDifference,
  pooledPairedNonInferiority,
  summarizeSample,
  welchMeanDifference,
  type PooledPairedResult,
} from '@mlbench/metrics';
import { flattenConfig } from './config';
import { GateInputError } from './gate-input-error';
import type { SeedResult, VerdictMetric } from './seed-results';
import { describeTask, taskDifferences, type BenchmarkTask } from './task';

export interface SeedGateOptions {
  metric: VerdictMetric;
  /** Largest tolerated loss in the metric's units (0.01 = 1 point of accuracy). */
  margin: number;
  alpha: number;
  /** Seeds required in each group (paired: seeds in common). */
  minSeeds: number;
  /** Which test decides: over seeds (paired t, or Welch) or pooled over every test image (paired only). */
  decideBy: 'seeds' | 'images';
  /** Bootstrap resamples of the pooled image-level test. */
  resamples?: number;
}

export interface SeedGroupSide {
  label: string;
  /** Where the group came from, e.g. "sweep 1a2b3c4d" or "reference experiments/reference/x.json". */
  source: string;
  name: string;
  seeds: number[];
  mean: number;
  std: number;
  /** Two-sided 95% t-interval of the mean. */
  interval: { low: number; high: number } | null;
  runIds: (string | null)[];
}

export interface SeedRow {
  seed: number;
  candidate: number | null;
  baseline: number | null;
  /** candidate - baseline when both have the seed (and it is used for pairing). */
  difference: number | null;
}

export interface DecidingTest {
  test: 'paired-t' | 'welch-t' | 'pooled-paired-bootstrap';
  description: string;
  difference: number;
  /** One-sided (1 - alpha) lower bound of the difference. */
  lowerBound: number;
  pValue: number;
  df: number | null;
  statistic: number | null;
  nonInferior: boolean;
}

export interface SeedGateVerdict {
  metric: VerdictMetric;
  margin: number;
  alpha: number;
  minSeeds: number;
  task: BenchmarkTask;
  candidate: SeedGroupSide;
  baseline: SeedGroupSide;
  paired: boolean;
  /** Why the test is paired or not. */
  pairing: string;
  seeds: SeedRow[];
  /** The test over seeds: paired t, or Welch. */
  seedTest: DecidingTest;
  /** Pooled over the test images of every paired seed (paired groups and accuracy only). */
  imageTest: (DecidingTest & { pooled: PooledPairedResult }) | null;
  decidedBy: DecidingTest['test'];
  pass: boolean;
  /** The verdict in words a reviewer can act on. */
  summary: string;
  /** Config keys in which candidate and baseline differ (informational). */
  configDifferences: string[];
  notes: string[];
}

const points = (x: number, digits = 2): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(digits)}`;
const METRIC_WORDS: Record<VerdictMetric, string> = { 'test.accuracy': 'test accuracy', 'test.macro_f1': 'test macro-F1' };
/** Keys that name where files are on a machine: compared by file name only (a reference keeps no machine paths). */
export const LOCATION_KEYS: ReadonlySet<string> = new Set(['dataset.path', 'model.extractor.source']);

/**
 * Checks one seed group: at least `minSeeds` seeds, no seed twice, and configurations that
 * differ only by seed (each with a message naming the runs and keys).
 */
export function checkSeedGroup(label: string, results: readonly SeedResult[], minSeeds: number): void {
  if (results.length === 0) throw new GateInputError(`${label}: no completed runs to compare`);
  const bySeed = new Map<number, SeedResult[]>();
  for (const r of results) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
  for (const [seed, runs] of bySeed) {
    if (runs.length > 1) {
      throw new GateInputError(`${label}: seed ${seed} appears ${runs.length} times (${runs.map((r) => r.source).join(', ')}); a seed group has exactly one run per seed`);
    }
  }
  const first = results[0];
  for (const r of results.slice(1)) {
    if (r.configKey !== first.configKey) {
      const differences = configDifferences(first.config, r.config);
      throw new GateInputError(
        `${label}: ${r.source} and ${first.source} differ in more than the seed (${differences.slice(0, 5).join('; ') || 'config identity differs'}); a seed group's runs may differ only by seed`,
      );
    }
    const why = taskDifferences(first.task, r.task, [first.source, r.source]);
    if (why.length > 0) throw new GateInputError(`${label}: ${why.join('; ')}`);
  }
  if (results.length < minSeeds) {
    throw new GateInputError(
      `${label}: ${results.length} seed${results.length === 1 ? '' : 's'} (${results.map((r) => r.seed).join(', ')}); the gate needs at least ${minSeeds} (--min-seeds): one seed is a sample of one. Add seeds, e.g. --seeds 1,2,3`,
    );
  }
}

/**
 * Flattened config keys whose values differ, e.g. "train.learningRate: 0.001 vs 0.003"; keys in
 * `byFileName` compare only the last path segment.
 */
export function configDifferences(a: Record<string, unknown>, b: Record<string, unknown>, byFileName: ReadonlySet<string> = new Set()): string[] {
  const flat = (c: Record<string, unknown>): Map<string, string> =>
    new Map(flattenConfig(c).map(([k, v]) => [k, byFileName.has(k) && !/^https?:/i.test(v) ? (v.split(/[\\/]/).pop() ?? v) : v]));
  const fa = flat(a);
  const fb = flat(b);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  return keys.filter((k) => fa.get(k) !== fb.get(k)).map((k) => `${k}: ${fa.get(k) ?? '(absent)'} vs ${fb.get(k) ?? '(absent)'}`);
}

function side(label: string, source: string, results: readonly SeedResult[], metric: VerdictMetric): SeedGroupSide {
  const sorted = [...results].sort((a, b) => a.seed - b.seed);
  const s = summarizeSample(sorted.map((r) => r.metrics[metric]));
  return {
    label,
    source,
    name: sorted[0].name,
    seeds: sorted.map((r) => r.seed),
    mean: s.mean,
    std: s.std,
    interval: s.interval ? { low: s.interval.low, high: s.interval.high } : null,
    runIds: sorted.map((r) => r.runId),
  };
}

/**
 * Decides whether a candidate seed group is non-inferior to a baseline seed group: H0 "the
 * candidate's mean is worse by at least `margin`", one-sided at `alpha`. Paired over the seeds
 * both groups have (same seed on the same task = same split), Welch otherwise; with pairing,
 * also a stratified paired bootstrap over every test image of those seeds. Throws GateInputError
 * for groups that cannot be compared.
 */
export function decideSeedGate(
  candidate: { source: string; results: readonly SeedResult[] },
  baseline: { source: string; results: readonly SeedResult[] },
  options: SeedGateOptions,
): SeedGateVerdict {
  const { metric, margin, alpha, minSeeds } = options;
  if (!(margin >= 0 && margin < 1)) throw new GateInputError(`--margin must be in [0, 1) (0.01 = 1 point), got ${margin}`);
  if (!(alpha > 0 && alpha < 0.5)) throw new GateInputError(`--alpha must be in (0, 0.5), got ${alpha}`);
  if (!Number.isInteger(minSeeds) || minSeeds < 2) throw new GateInputError(`--min-seeds must be an integer of at least 2 (a t-test needs two seeds), got ${minSeeds}`);
  checkSeedGroup('candidate', candidate.results, minSeeds);
  checkSeedGroup('baseline', baseline.results, minSeeds);
  const task = candidate.results[0].task;
  const why = taskDifferences(task, baseline.results[0].task);
  if (why.length > 0) {
    throw new GateInputError(`cannot compare: ${why.join('; ')}. A gate compares seed groups on the same task (${describeTask(task)})`);
  }

  const baseBySeed = new Map(baseline.results.map((r) => [r.seed, r]));
  const common = candidate.results.filter((r) => baseBySeed.has(r.seed)).sort((a, b) => a.seed - b.seed);
  for (const r of common) {
    const b = baseBySeed.get(r.seed) as SeedResult;
    if (b.splitHash !== r.splitHash) {
      throw new GateInputError(
        `cannot compare: seed ${r.seed} split the data differently (split hash ${r.splitHash.slice(0, 12)} in ${r.source}, ${b.splitHash.slice(0, 12)} in ${b.source}); ` +
          'the same seed on the same data and fractions must give the same split, so the split procedure differs',
      );
    }
  }
  const paired = common.length >= minSeeds;
  const notes: string[] = [];
  let pairing: string;
  if (paired) {
    pairing = `paired by seed: ${common.length} seed${common.length === 1 ? '' : 's'} in both groups, each with the same split (same test images)`;
    const unusedC = candidate.results.filter((r) => !baseBySeed.has(r.seed)).map((r) => r.seed);
    const candSeeds = new Set(candidate.results.map((r) => r.seed));
    const unusedB = baseline.results.filter((r) => !candSeeds.has(r.seed)).map((r) => r.seed);
    if (unusedC.length > 0) notes.push(`candidate seeds without a baseline run, not used: ${unusedC.join(', ')}`);
    if (unusedB.length > 0) notes.push(`baseline seeds not run by the candidate, not used: ${unusedB.join(', ')}`);
  } else {
    pairing =
      common.length === 0
        ? 'unpaired (Welch): the groups share no seed'
        : `unpaired (Welch): only ${common.length} seed${common.length === 1 ? '' : 's'} in common, fewer than --min-seeds ${minSeeds}`;
  }

  const candidateUsed = paired ? common : candidate.results;
  const baselineUsed = paired ? common.map((r) => baseBySeed.get(r.seed) as SeedResult) : baseline.results;
  const c = candidateUsed.map((r) => r.metrics[metric]);
  const b = baselineUsed.map((r) => r.metrics[metric]);
  const d = paired ? pairedMeanDifference(c, b) : welchMeanDifference(c, b);
  const ni = nonInferiority(d, margin, alpha);
  const seedTest: DecidingTest = {
    test: d.test,
    description: paired
      ? `paired t over ${c.length} seeds (${d.df} df)`
      : `Welch t over ${c.length} and ${b.length} seeds (${d.df.toFixed(1)} df)`,
    difference: d.difference,
    lowerBound: ni.lowerBound,
    pValue: ni.pValue,
    df: d.df,
    statistic: Number.isFinite(ni.statistic) ? ni.statistic : null,
    nonInferior: ni.nonInferior,
  };
  if (d.standardError === 0) notes.push('every paired seed has the same difference: the t-test is degenerate (zero spread), the bound is the difference itself');

  let imageTest: SeedGateVerdict['imageTest'] = null;
  if (paired && metric === 'test.accuracy') {
    const strata = common.map((r) => {
      const base = baseBySeed.get(r.seed) as SeedResult;
      const baseByPath = new Map(base.test.map((t) => [t.path, t]));
      const rows = r.test.filter((t) => baseByPath.has(t.path));
      if (rows.length !== r.test.length || rows.length !== base.test.length) {
        throw new GateInputError(`cannot compare: seed ${r.seed} has ${r.test.length} candidate and ${base.test.length} baseline test images, ${rows.length} in common, despite equal split hashes`);
      }
      return {
        candidateCorrect: rows.map((t) => t.trueLabel === t.predictedLabel),
        baselineCorrect: rows.map((t) => {
          const other = baseByPath.get(t.path) as SeedResult['test'][number];
          return other.trueLabel === other.predictedLabel;
        }),
      };
    });
    const pooled = pooledPairedNonInferiority(strata, { margin, alpha, resamples: options.resamples ?? 2000, seed: 'gate' });
    imageTest = {
      test: 'pooled-paired-bootstrap',
      description: `paired bootstrap over all ${pooled.count} test images of the ${common.length} seeds (resampled within each seed, ${pooled.resamples} resamples); McNemar over the pooled discordant pairs: ${pooled.onlyCandidateCorrect} only the candidate got right, ${pooled.onlyBaselineCorrect} only the baseline, two-sided p ${formatP(pooled.mcnemarP).startsWith('<') ? '' : '= '}${formatP(pooled.mcnemarP)}`,
      difference: pooled.difference,
      lowerBound: pooled.lowerBound,
      pValue: pooled.pValue,
      df: null,
      statistic: null,
      nonInferior: pooled.nonInferior,
      pooled,
    };
  }
  if (options.decideBy === 'images' && !imageTest) {
    throw new GateInputError(`--decide-by images needs paired seeds and test.accuracy; these groups are ${paired ? `compared on ${metric}` : 'unpaired'}: use --decide-by seeds`);
  }
  const deciding = options.decideBy === 'images' && imageTest ? imageTest : seedTest;

  const seedsAll = [...new Set([...candidate.results, ...baseline.results].map((r) => r.seed))].sort((x, y) => x - y);
  const candBySeed = new Map(candidate.results.map((r) => [r.seed, r]));
  const pairedSeeds = new Set(common.map((r) => r.seed));
  const seeds: SeedRow[] = seedsAll.map((seed) => {
    const cv = candBySeed.get(seed)?.metrics[metric] ?? null;
    const bv = baseBySeed.get(seed)?.metrics[metric] ?? null;
    return { seed, candidate: cv, baseline: bv, difference: paired && pairedSeeds.has(seed) && cv !== null && bv !== null ? cv - bv : null };
  });

  const words = METRIC_WORDS[metric];
  const marginWords = `${(100 * margin).toFixed(2)} point${margin === 0.01 ? '' : 's'} of ${words}`;
  const level = `${Math.round((1 - alpha) * 100)}%`;
  const evidence = `${deciding.description}: difference ${points(deciding.difference)} points, one-sided ${level} lower bound ${points(deciding.lowerBound)}, p ${formatP(deciding.pValue).startsWith('<') ? '' : '= '}${formatP(deciding.pValue)}`;
  let summary: string;
  if (deciding.nonInferior) {
    summary = `PASS: the candidate is not worse than the baseline by more than ${marginWords} (${evidence}; the bound is above −${(100 * margin).toFixed(2)}). No regression at alpha ${alpha}.`;
  } else if (deciding.difference <= -margin) {
    summary = `FAIL: regression. The candidate is worse than the baseline by ${points(-deciding.difference).slice(1)} points of ${words} on average, more than the ${marginWords} allowed (${evidence}). Fix the change, or widen --margin only if the loss is intended.`;
  } else {
    summary =
      `FAIL: a regression of more than ${marginWords} cannot be ruled out (${evidence}; the bound is not above −${(100 * margin).toFixed(2)}). ` +
      `The average difference is within the margin but too uncertain with ${c.length} seeds: run more seeds (--seeds) to decide.`;
  }
  return {
    metric,
    margin,
    alpha,
    minSeeds,
    task,
    // Summaries over the seeds the test used, so the means agree with the difference.
    candidate: side('candidate', candidate.source, candidateUsed, metric),
    baseline: side('baseline', baseline.source, baselineUsed, metric),
    paired,
    pairing,
    seeds,
    seedTest,
    imageTest,
    decidedBy: deciding.test,
    pass: deciding.nonInferior,
    summary,
    configDifferences: configDifferences(baseline.results[0].config, candidate.results[0].config, LOCATION_KEYS),
    notes,
  };
}

/** p-values as reviewers read them: 3 significant digits, "< 0.0001" below that. */
export function formatP(p: number): string {
  if (p < 1e-4) return '< 0.0001';
  return p >= 0.01 ? p.toFixed(3) : p.toPrecision(2);
}
