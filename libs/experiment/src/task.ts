import { createHash } from 'node:crypto';
import { canonicalJson } from '@mlbench/common';

/**
 * How a run's data was split. There is one procedure today (seeded, stratified per class; see
 * `stratifiedSplit` in @mlbench/data); it is part of the task so a future procedure can never be
 * ranked or gated against this one.
 */
export const SPLIT_PROCEDURE = 'stratified-per-class-seeded-v1';
/** The metric tasks rank by, recomputed from the stored test predictions. */
export const TASK_METRIC = 'test.accuracy';

/**
 * A benchmark task: what makes two numbers comparable. Same dataset content (fingerprint), same
 * split fractions and procedure, same classes, same metric.
 */
export interface BenchmarkTask {
  /** Short hash of everything below: equal for runs that may be compared. */
  key: string;
  datasetFingerprint: string;
  split: { train: number; val: number; test: number };
  splitProcedure: string;
  classes: string[];
  metric: string;
}

export function makeTask(fields: Omit<BenchmarkTask, 'key'>): BenchmarkTask {
  const { datasetFingerprint, split, splitProcedure, classes, metric } = fields;
  const identity = { datasetFingerprint, split: { train: split.train, val: split.val, test: split.test }, splitProcedure, classes: [...classes], metric };
  return { key: createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 12), ...identity };
}

/** The task of a recorded run: its dataset fingerprint and classes, the split fractions of its config. */
export function taskOfRun(resolvedConfig: unknown, dataset: { fingerprint: string; classes: readonly string[] }, metric = TASK_METRIC): BenchmarkTask {
  const split = ((resolvedConfig as { dataset?: { split?: Partial<BenchmarkTask['split']> } } | null)?.dataset?.split ?? {}) as Partial<BenchmarkTask['split']>;
  return makeTask({
    datasetFingerprint: dataset.fingerprint,
    split: { train: split.train ?? Number.NaN, val: split.val ?? Number.NaN, test: split.test ?? Number.NaN },
    splitProcedure: SPLIT_PROCEDURE,
    classes: [...dataset.classes],
    metric,
  });
}

/** Why two tasks differ, in words (empty when they are the same task). */
export function taskDifferences(a: BenchmarkTask, b: BenchmarkTask, names: [string, string] = ['candidate', 'baseline']): string[] {
  const out: string[] = [];
  const [x, y] = names;
  if (a.datasetFingerprint !== b.datasetFingerprint) {
    out.push(`different data: ${x} dataset fingerprint ${a.datasetFingerprint.slice(0, 12)}, ${y} ${b.datasetFingerprint.slice(0, 12)} (another dataset version, or other images)`);
  }
  const fractions = (t: BenchmarkTask): string => `train ${t.split.train} / val ${t.split.val} / test ${t.split.test}`;
  if (fractions(a) !== fractions(b)) out.push(`different split fractions: ${x} ${fractions(a)}, ${y} ${fractions(b)}`);
  if (a.splitProcedure !== b.splitProcedure) out.push(`different split procedure: ${x} ${a.splitProcedure}, ${y} ${b.splitProcedure}`);
  if (a.classes.join(',') !== b.classes.join(',')) out.push(`different classes: ${x} ${a.classes.join(', ')}, ${y} ${b.classes.join(', ')}`);
  if (a.metric !== b.metric) out.push(`different metric: ${x} ${a.metric}, ${y} ${b.metric}`);
  return out;
}

/** e.g. "flowers a1761385c573, split 0.7/0.1/0.2 (stratified-per-class-seeded-v1), test.accuracy". */
export function describeTask(task: BenchmarkTask): string {
  return `data ${task.datasetFingerprint.slice(0, 12)} (${task.classes.length} classes: ${task.classes.join(', ')}), split ${task.split.train}/${task.split.val}/${task.split.test} (${task.splitProcedure}), ${task.metric}`;
}
