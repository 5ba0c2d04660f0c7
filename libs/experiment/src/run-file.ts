import { loadExperiment } from './config';
import { runExperiment, type RunSummary } from './pipeline';
import * as path from 'node:path';
import { loadStudy, runStudy, type RunStudyOptions, type StudyResult } from './study';
import { isStudyText } from './study-definition';
import { runSweep, type SweepResult } from './sweep-run';
import { readYamlFile } from './yaml-file';

export type FileRunResult = { kind: 'run'; summary: RunSummary } | { kind: 'sweep'; result: SweepResult } | { kind: 'study'; result: StudyResult };

/**
 * The one call behind `runner --config <file>`: a plain config runs once; a config with a
 * `sweep` section runs its whole grid (resumable); a study file runs every arm's grid.
 */
export async function runConfigFile(file: string, options: RunStudyOptions): Promise<FileRunResult> {
  // A study file (top-level `study:`) runs every arm's sweep; see study.ts.
  const text = await readYamlFile(path.resolve(file), 'config file');
  if (isStudyText(text)) return { kind: 'study', result: await runStudy(await loadStudy(file), options) };
  const plan = await loadExperiment(file);
  if (plan.sweep) return { kind: 'sweep', result: await runSweep(plan, options) };
  return { kind: 'run', summary: await runExperiment(plan.runs[0], options) };
}
