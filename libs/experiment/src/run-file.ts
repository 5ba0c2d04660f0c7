import { loadExperiment } from './config';
import { runExperiment, type RunSummary } from './pipeline';
import { runSweep, type RunSweepOptions, type SweepResult } from './sweep-run';

export type FileRunResult = { kind: 'run'; summary: RunSummary } | { kind: 'sweep'; result: SweepResult };

/**
 * The one call behind `runner --config <file>`: a plain config runs once; a config with a
 * `sweep` section runs its whole grid (resumable).
 */
export async function runConfigFile(file: string, options: RunSweepOptions): Promise<FileRunResult> {
  const plan = await loadExperiment(file);
  if (plan.sweep) return { kind: 'sweep', result: await runSweep(plan, options) };
  return { kind: 'run', summary: await runExperiment(plan.runs[0], options) };
}
