import { borrowStore } from '@mlbench/tracking';
import { loadExperiment, parseExperiment, type ExperimentPlan } from './config';
import { GateInputError } from './gate-input-error';
import { decideSeedGate, type SeedGateOptions, type SeedGateVerdict } from './seed-gate';
import { readSeedBaselineFile, seedResultsOfRuns, seedResultsOfSweep, type SeedResult } from './seed-results';
import { runSweep, type RunSweepOptions } from './sweep-run';

export interface SeedGateTarget {
  /** Candidate: run this config over seeds (its `sweep: { seed: [...] }`, or `seeds`)... */
  candidateConfig?: string;
  /** ...over these seeds (default: the config's sweep seeds, else the baseline's seeds)... */
  seeds?: number[];
  /** ...or a recorded sweep (id or unique prefix). */
  candidateSweep?: string;
  /** Baseline: a recorded sweep... */
  baselineSweep?: string;
  /** ...or a reference file in the repository (`runner reference`, or an array of `runs export` documents). */
  reference?: string;
}

/** A candidate seed of the gate failed to run (exit code 1, not bad input). */
export class CandidateRunError extends Error {
  override name = 'CandidateRunError';
}

export interface SeedGateResult extends SeedGateVerdict {
  /** The sweep the gate ran for a candidate config (null for a recorded candidate sweep). */
  candidateSweepId: string | null;
}

/**
 * The gate over seed groups: reads the baseline first (a bad reference fails before anything
 * runs), runs or reads the candidate, recomputes every verdict metric from the predictions and
 * decides (see decideSeedGate).
 */
export async function gateSeedGroups(target: SeedGateTarget, gate: SeedGateOptions, options: RunSweepOptions): Promise<SeedGateResult> {
  if (Boolean(target.candidateConfig) === Boolean(target.candidateSweep)) {
    throw new GateInputError('gate: give the candidate as --config <file> (run over seeds) or --candidate-sweep <id>, exactly one');
  }
  if (Boolean(target.baselineSweep) === Boolean(target.reference)) {
    throw new GateInputError('gate: give the baseline as --reference <file> or --baseline-sweep <id>, exactly one');
  }
  const { store, release } = await borrowStore(options);
  try {
    let baseline: { source: string; results: SeedResult[] };
    if (target.reference) {
      baseline = { source: `reference ${target.reference}`, results: (await readSeedBaselineFile(target.reference)).results };
    } else {
      const sweep = await seedResultsOfSweep(store, target.baselineSweep as string);
      baseline = { source: `sweep ${target.baselineSweep}`, results: sweep.results };
    }

    let candidate: { source: string; results: SeedResult[] };
    let candidateSweepId: string | null = null;
    if (target.candidateSweep) {
      candidate = { source: `sweep ${target.candidateSweep}`, results: (await seedResultsOfSweep(store, target.candidateSweep)).results };
    } else {
      const plan = await seedPlan(target.candidateConfig as string, target.seeds, baseline.results.map((r) => r.seed), gate.minSeeds);
      const wanted = plan.runs[0].config.dataset.split;
      const have = baseline.results[0]?.task.split;
      if (have && (have.train !== wanted.train || have.val !== wanted.val || have.test !== wanted.test)) {
        // Known before any run: refuse now rather than after the seeds ran.
        throw new GateInputError(
          `cannot compare: different split fractions: candidate train ${wanted.train} / val ${wanted.val} / test ${wanted.test}, baseline train ${have.train} / val ${have.val} / test ${have.test}`,
        );
      }
      const result = await runSweep(plan, { ...options, store });
      const failed = result.outcomes.filter((o) => o.status === 'failed');
      if (failed.length > 0) {
        throw new CandidateRunError(`candidate seed${failed.length === 1 ? '' : 's'} failed: ${failed.map((o) => `${String(o.point.seed)} (${o.error ?? 'unknown error'})`).join('; ')}; the gate needs every seed`);
      }
      candidateSweepId = result.sweep.id;
      candidate = {
        source: `${target.candidateConfig} (sweep ${result.sweep.id.slice(0, 8)})`,
        results: await seedResultsOfRuns(store, result.outcomes.map((o) => o.runId).filter((id): id is string => id !== null)),
      };
    }
    return { ...decideSeedGate(candidate, baseline, gate), candidateSweepId };
  } finally {
    await release();
  }
}

/**
 * The candidate config as a seed sweep: its own `sweep` may vary only `seed`; `seeds` replaces a
 * missing sweep; without either, the baseline's seeds are used so the comparison is paired.
 */
export async function seedPlan(file: string, seeds: readonly number[] | undefined, baselineSeeds: readonly number[], minSeeds: number): Promise<ExperimentPlan> {
  const plan = await loadExperiment(file);
  if (plan.sweep) {
    const other = Object.keys(plan.sweep).filter((k) => k !== 'seed');
    if (other.length > 0) {
      throw new GateInputError(`${file}: its sweep varies ${other.join(', ')}; a gate candidate is one configuration over seeds (sweep: { seed: [...] }) — configurations in a seed group may differ only by seed`);
    }
    if (seeds && seeds.length > 0) throw new GateInputError(`${file} already has sweep: { seed: [...] }; give the seeds there or with --seeds, not both`);
    checkSeedList(plan.sweep.seed, file, minSeeds);
    return plan;
  }
  const list = seeds && seeds.length > 0 ? seeds : baselineSeeds;
  checkSeedList(list, seeds && seeds.length > 0 ? '--seeds' : 'the baseline seeds', minSeeds);
  const text = `${plan.text.replace(/\s*$/, '')}\n\n# seeds added by the gate\nsweep:\n  seed: [${list.join(', ')}]\n`;
  return parseExperiment(text, plan.file);
}

function checkSeedList(seeds: readonly unknown[], where: string, minSeeds: number): void {
  const bad = seeds.find((s) => !Number.isInteger(s));
  if (bad !== undefined) throw new GateInputError(`${where}: seed ${JSON.stringify(bad)} is not an integer`);
  const seen = new Set<unknown>();
  for (const s of seeds) {
    if (seen.has(s)) throw new GateInputError(`${where}: seed ${String(s)} is listed twice; a seed group has exactly one run per seed`);
    seen.add(s);
  }
  if (seeds.length < minSeeds) {
    throw new GateInputError(`${where}: ${seeds.length} seed${seeds.length === 1 ? '' : 's'}; the gate needs at least ${minSeeds} (--min-seeds): one seed is a sample of one`);
  }
}
