import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '@mlbench/common';
import { confusionMatrix, macroF1 } from '@mlbench/metrics';
import { loadSweepRuns, parseRunExport, resolveRun, type Run, type TrackingStore } from '@mlbench/tracking';
import { GateInputError } from './gate-input-error';
import { seedGroupKey } from './seed-groups';
import { makeTask, taskOfRun, type BenchmarkTask } from './task';
import { describeVerificationProblems, loadRunEvidence, verifyRecord, type VerifiableRun } from './verify';

/** Metrics a verdict may use: both are recomputed from the per-image test predictions. */
export const VERDICT_METRICS = ['test.accuracy', 'test.macro_f1'] as const;
export type VerdictMetric = (typeof VERDICT_METRICS)[number];

/** One seed of a seed group, with its test predictions: what gates and leaderboards compare. */
export interface SeedResult {
  seed: number;
  /** The run (null only for reference entries that did not keep it). */
  runId: string | null;
  /** Where it came from, for messages: "run 1a2b3c4d" or "reference.json, seed 3". */
  source: string;
  name: string;
  /** Config identity without the seed (seedGroupKey): equal within a seed group. */
  configKey: string;
  /** The resolved config without its seed, for naming differences. */
  config: Record<string, unknown>;
  task: BenchmarkTask;
  splitHash: string;
  /** Verdict metrics recomputed from `test`. */
  metrics: Record<VerdictMetric, number>;
  /** Per-image test outcomes, in the run's order. */
  test: readonly { path: string; trueLabel: number; predictedLabel: number }[];
  /** Cost as logged (informational, not a verdict metric). */
  cost: { headParameters: number | null; extractionSeconds: number | null; extractedImages: number | null; trainSeconds: number | null };
}

/** Recomputes the verdict metrics from (true, predicted) labels. */
export function verdictMetrics(test: SeedResult['test'], numClasses: number): SeedResult['metrics'] {
  if (test.length === 0) return { 'test.accuracy': Number.NaN, 'test.macro_f1': Number.NaN };
  let correct = 0;
  for (const t of test) if (t.trueLabel === t.predictedLabel) correct++;
  const confusion = confusionMatrix(test.map((t) => t.trueLabel), test.map((t) => t.predictedLabel), numClasses);
  return { 'test.accuracy': correct / test.length, 'test.macro_f1': macroF1(confusion) };
}

const withoutSeed = (config: unknown): Record<string, unknown> => {
  const { seed: _seed, ...rest } = (config ?? {}) as Record<string, unknown>;
  return rest;
};
const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/**
 * A recorded run as a seed result, after checking it: completed, exactly one seed (the run's seed
 * is its config's seed), a dataset, and logged numbers that match its predictions.
 */
export function seedResultOfRun(run: Pick<Run, 'id' | 'name' | 'status' | 'seed' | 'resolvedConfig'>, verifiable: VerifiableRun, splitHash: string | null, source = `run ${run.id.slice(0, 8)}`): SeedResult {
  if (run.status !== 'completed') throw new GateInputError(`${source} is ${run.status}, not completed: only completed runs can be compared`);
  const configSeed = (run.resolvedConfig as { seed?: unknown } | null)?.seed;
  if (!Number.isInteger(run.seed) || configSeed !== run.seed) {
    throw new GateInputError(`${source} does not record exactly one seed: run seed ${String(run.seed)}, config seed ${JSON.stringify(configSeed)}; a run is one seed`);
  }
  const dataset = verifiable.dataset;
  if (!dataset || splitHash === null) throw new GateInputError(`${source} has no recorded dataset, so its task (data and split) is unknown`);
  const verification = verifyRecord(verifiable, { intervals: false });
  if (!verification.ok) {
    throw new GateInputError(
      `${source}: its logged numbers do not match its stored predictions, so it is refused:\n  ${describeVerificationProblems(verification).join('\n  ')}\n` +
        `  (check with: npx nx run runner -- verify ${run.id})`,
    );
  }
  const test = verifiable.predictions.filter((p) => p.split === 'test').map((p) => ({ path: p.path, trueLabel: p.trueLabel, predictedLabel: p.predictedLabel }));
  if (test.length === 0) throw new GateInputError(`${source} has no stored test predictions`);
  const recorded = verifiable.recorded;
  return {
    seed: run.seed,
    runId: run.id,
    source,
    name: run.name,
    configKey: seedGroupKey(run.resolvedConfig),
    config: withoutSeed(run.resolvedConfig),
    task: taskOfRun(run.resolvedConfig, dataset),
    splitHash,
    metrics: verdictMetrics(test, dataset.classes.length),
    test,
    cost: {
      headParameters: finite(recorded['head.parameters']),
      extractionSeconds: finite(recorded['time.extraction_seconds']),
      extractedImages: finite(recorded['extraction.extracted']),
      trainSeconds: finite(recorded['time.train_seconds']),
    },
  };
}

/** A recorded run as a seed result, checked and verified against its stored evidence. */
export async function seedResultOfRecordedRun(store: TrackingStore, run: Run): Promise<SeedResult> {
  const evidence = await loadRunEvidence(store, run);
  return seedResultOfRun(run, evidence, evidence.dataset?.splitHash ?? null);
}

/** Recorded runs as seed results (each checked and verified). */
export async function seedResultsOfRuns(store: TrackingStore, runIds: readonly string[]): Promise<SeedResult[]> {
  const out: SeedResult[] = [];
  for (const id of runIds) {
    const run = await resolveRun(store, id);
    out.push(await seedResultOfRecordedRun(store, run));
  }
  return out;
}

/** The completed runs of a recorded sweep as seed results, in grid order. */
export async function seedResultsOfSweep(store: TrackingStore, sweepId: string): Promise<{ results: SeedResult[]; unfinished: number; name: string }> {
  const sweeps = await store.searchSweeps({ limit: Number.MAX_SAFE_INTEGER });
  const matches = sweeps.filter((s) => s.id === sweepId || (sweepId.length >= 4 && s.id.startsWith(sweepId)));
  if (matches.length !== 1) {
    throw new GateInputError(
      matches.length === 0
        ? `sweep ${sweepId} is not in ${store.location}; list sweeps with: npx nx run runner -- runs sweeps --db ${store.location}`
        : `sweep id ${sweepId} is ambiguous (${matches.map((s) => s.id.slice(0, 12)).join(', ')}); give more characters`,
    );
  }
  const runs = await loadSweepRuns(store, matches[0].id);
  const completed = runs.filter((r) => r.status === 'completed');
  return { results: await seedResultsOfRuns(store, completed.map((r) => r.id)), unfinished: runs.length - completed.length, name: matches[0].name };
}

// ---------------------------------------------------------------------------------------------
// Reference files: a seed group checked into the repository.

export const SEED_REFERENCE_FORMAT = 'mlbench.seed-results';
export const SEED_REFERENCE_VERSION = 1;

const fractionsSchema = z.strictObject({ train: z.number(), val: z.number(), test: z.number() });
const seedReferenceSchema = z.strictObject({
  format: z.literal(SEED_REFERENCE_FORMAT),
  version: z.literal(SEED_REFERENCE_VERSION),
  createdAt: z.string(),
  name: z.string().min(1),
  description: z.string().optional(),
  task: z.strictObject({
    datasetFingerprint: z.string().regex(/^[0-9a-f]{8,64}$/, 'expected a hex fingerprint'),
    split: fractionsSchema,
    splitProcedure: z.string().min(1),
    classes: z.array(z.string().min(1)).min(2),
    metric: z.string().min(1),
  }),
  /** The resolved config without seed; dataset and model paths reduced to file names. */
  config: z.record(z.string(), z.unknown()),
  configKey: z.string(),
  seeds: z
    .array(
      z.strictObject({
        seed: z.number().int(),
        runId: z.string().regex(/^[0-9a-f]{32}$/).nullable(),
        splitHash: z.string().min(1),
        /** As logged by the run; checked against the predictions below when read. */
        metrics: z.strictObject({ 'test.accuracy': z.number(), 'test.macro_f1': z.number() }),
        cost: z.strictObject({ headParameters: z.number().nullable(), extractionSeconds: z.number().nullable(), extractedImages: z.number().nullable(), trainSeconds: z.number().nullable() }),
        /** [path, true class, predicted class] per test image. */
        test: z.array(z.tuple([z.string().min(1), z.number().int().min(0), z.number().int().min(0)])).min(1),
      }),
    )
    .min(1),
});
export type SeedReference = z.infer<typeof seedReferenceSchema>;

/** Paths of this machine do not belong in a committed file: keep file names only. */
function portableConfig(config: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, { path?: string; extractor?: { source?: string } | string }>;
  if (copy.dataset && typeof copy.dataset.path === 'string') copy.dataset.path = path.basename(copy.dataset.path);
  const extractor = copy.model?.extractor;
  if (extractor && typeof extractor === 'object' && typeof extractor.source === 'string' && !/^https?:/i.test(extractor.source)) extractor.source = path.basename(extractor.source);
  return copy;
}

/** A seed group as a reference document (one entry per seed, with its test predictions). */
export function buildSeedReference(results: readonly SeedResult[], options: { description?: string; createdAt?: string } = {}): SeedReference {
  if (results.length === 0) throw new GateInputError('a reference needs at least one completed run');
  const first = results[0];
  const { key: _key, ...task } = first.task;
  return {
    format: SEED_REFERENCE_FORMAT,
    version: SEED_REFERENCE_VERSION,
    createdAt: options.createdAt ?? new Date().toISOString(),
    name: first.name,
    ...(options.description ? { description: options.description } : {}),
    task,
    config: portableConfig(first.config),
    configKey: first.configKey,
    seeds: [...results]
      .sort((a, b) => a.seed - b.seed)
      .map((r) => ({
        seed: r.seed,
        runId: r.runId,
        splitHash: r.splitHash,
        metrics: { 'test.accuracy': r.metrics['test.accuracy'], 'test.macro_f1': r.metrics['test.macro_f1'] },
        cost: r.cost,
        test: r.test.map((t): [string, number, number] => [t.path, t.trueLabel, t.predictedLabel]),
      })),
  };
}

/** Indented JSON with one line per test image, so a regenerated reference diffs readably. */
export function serializeSeedReference(reference: SeedReference): string {
  const MARK = '\u0000';
  const text = JSON.stringify(reference, (_key, value: unknown) => (isTestRow(value) ? `${MARK}${JSON.stringify(value)}` : value), 1);
  // Each marked row is a JSON string literal holding the row's own JSON: unwrap it.
  return `${text.replace(/"\\u0000((?:[^"\\]|\\.)*)"/g, (_m, inner: string) => JSON.parse(`"${inner}"`) as string)}\n`;
}

/** Writes a reference file atomically (a half-written reference never replaces a good one). */
export async function writeSeedReference(file: string, reference: SeedReference): Promise<void> {
  await writeFileAtomic(file, serializeSeedReference(reference));
}

const isTestRow = (value: unknown): boolean =>
  Array.isArray(value) && value.length === 3 && typeof value[0] === 'string' && typeof value[1] === 'number' && typeof value[2] === 'number';

/**
 * Reads a baseline file: a seed reference (`mlbench.seed-results`, written by `runner reference`)
 * or an export of a sweep's runs (a JSON array of `mlbench.run` documents from `runs export`).
 * Every number is checked against the predictions in the file; a mismatch is refused.
 */
export async function readSeedBaselineFile(file: string): Promise<{ results: SeedResult[]; name: string }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new GateInputError(`cannot read the reference file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); pass --reference <file> written by \`runner reference\``);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new GateInputError(`${file}: not valid JSON (${(error as Error).message}); a reference is written by \`runner reference <sweep id> --out ${file}\``);
  }
  if (Array.isArray(raw)) return runExportsAsSeedResults(raw, file);
  const parsed = seedReferenceSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new GateInputError(`${file}: not a seed reference (${SEED_REFERENCE_FORMAT} version ${SEED_REFERENCE_VERSION}): ${problems.join('; ')}`);
  }
  return { results: seedReferenceResults(parsed.data, file), name: parsed.data.name };
}

/** The entries of a parsed reference as seed results, each checked against its own predictions. */
export function seedReferenceResults(reference: SeedReference, file: string): SeedResult[] {
  const task = makeTask(reference.task);
  const k = task.classes.length;
  return reference.seeds.map((entry) => {
    const source = `${path.basename(file)}, seed ${entry.seed}`;
    const bad = entry.test.find(([, t, p]) => t >= k || p >= k);
    if (bad) throw new GateInputError(`${source}: test image ${bad[0]} has a class outside the ${k} classes of the task`);
    const test = entry.test.map(([p, trueLabel, predictedLabel]) => ({ path: p, trueLabel, predictedLabel }));
    const metrics = verdictMetrics(test, k);
    for (const key of VERDICT_METRICS) {
      if (Math.abs(metrics[key] - entry.metrics[key]) > 1e-9) {
        throw new GateInputError(`${source}: ${key} is given as ${entry.metrics[key]} but its ${test.length} test predictions give ${metrics[key]}; the file was edited or is damaged, so it is refused`);
      }
    }
    return {
      seed: entry.seed,
      runId: entry.runId,
      source,
      name: reference.name,
      configKey: reference.configKey,
      config: reference.config,
      task,
      splitHash: entry.splitHash,
      metrics,
      test,
      cost: entry.cost,
    };
  });
}

function runExportsAsSeedResults(items: unknown[], file: string): { results: SeedResult[]; name: string } {
  if (items.length === 0) throw new GateInputError(`${file}: an empty list; expected the exported runs of a sweep (one \`runs export\` document per seed)`);
  const results = items.map((item, i) => {
    const where = `${file}[${i}]`;
    const data = parseRunExport(JSON.stringify(item), where);
    // Number() decodes the export's "NaN" / "Infinity" / "-Infinity" strings too.
    const predictions = data.predictions.map((p) => ({ ...p, probabilities: p.probabilities.map(Number) }));
    const recorded = Object.fromEntries(data.metrics.filter((m) => m.step === null).map((m) => [m.key, Number(m.value)]));
    const verifiable: VerifiableRun = { runId: data.run.id, seed: data.run.seed, recorded, dataset: data.dataset, split: data.split, predictions, audit: data.audit ?? [] };
    return seedResultOfRun(data.run, verifiable, data.dataset?.splitHash ?? null, `${path.basename(file)}[${i}] (run ${data.run.id.slice(0, 8)})`);
  });
  return { results, name: results[0].name };
}
