/**
 * A study: one question answered by several arms, each arm a config with a `sweep` over the same
 * seeds (so every arm is trained and tested on the same splits and comparisons are paired).
 *
 * ```yaml
 * study:
 *   name: frozen-vs-alternatives
 *   question: How far does a frozen extractor get, and what is it worth against the alternatives?
 *   arms:
 *     - { label: Frozen MobileNetV2 + softmax, config: study/arm1-mobilenetv2.yaml }
 * ```
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { readYamlFile } from './yaml-file';
import { borrowStore, type Study, type StudyArm } from '@mlbench/tracking';
import { canonicalJson } from '@mlbench/common';
import { loadExperiment, type ExperimentPlan } from './config';
import { ConfigError, InterruptedError } from './errors';
import { parseStudyDefinition, type StudyDefinition } from './study-definition';
import { runSweep, type RunSweepOptions, type SweepResult } from './sweep-run';

/** A study file, validated, with every arm's config loaded and checked. */
export interface StudyPlan {
  file: string;
  text: string;
  study: StudyDefinition;
  /** Index-aligned with `study.arms`. */
  arms: { label: string; config: string; plan: ExperimentPlan }[];
  /** sha256 over the study and every arm's plan: identifies the study for --resume. */
  hash: string;
}

/**
 * Problems that would make the arms' comparison unpaired: every arm must sweep the same seeds and
 * use the same dataset and split fractions. Pure; one line per problem.
 */
export function pairingProblems(arms: readonly { label: string; plan: ExperimentPlan }[]): string[] {
  const problems: string[] = [];
  const seedsOf = (plan: ExperimentPlan): string => JSON.stringify(plan.sweep?.seed ?? null);
  const [first, ...rest] = arms;
  if (!first) return problems;
  for (const arm of arms) {
    if (!arm.plan.sweep) problems.push(`arm "${arm.label}" (${arm.plan.file}) has no sweep section; add sweep: { seed: [1, 2, 3, 4, 5] }`);
    else if (!arm.plan.sweep.seed) problems.push(`arm "${arm.label}" (${arm.plan.file}) does not sweep the seed; add seed: [...] to its sweep so the arms are paired`);
  }
  const firstRun = first.plan.runs[0].resolved;
  for (const arm of rest) {
    const run = arm.plan.runs[0].resolved;
    if (seedsOf(arm.plan) !== seedsOf(first.plan)) problems.push(`arm "${arm.label}" sweeps seeds ${seedsOf(arm.plan)}, arm "${first.label}" ${seedsOf(first.plan)}: use the same seeds in every arm so the splits are paired`);
    if (run.dataset.path !== firstRun.dataset.path) problems.push(`arm "${arm.label}" reads ${run.dataset.path}, arm "${first.label}" ${firstRun.dataset.path}: every arm must use the same dataset`);
    if (canonicalJson(run.dataset.split) !== canonicalJson(firstRun.dataset.split)) problems.push(`arm "${arm.label}" splits ${canonicalJson(run.dataset.split)}, arm "${first.label}" ${canonicalJson(firstRun.dataset.split)}: use the same split fractions`);
  }
  return problems;
}

/** Reads a study file and every arm config (relative to it), and checks that the arms are paired. */
export async function loadStudy(file: string, env: NodeJS.ProcessEnv = process.env): Promise<StudyPlan> {
  const absFile = path.resolve(file);
  const text = await readYamlFile(absFile, 'study file');
  const study = parseStudyDefinition(text, absFile);
  const arms: StudyPlan['arms'] = [];
  for (const [i, arm] of study.arms.entries()) {
    const armFile = path.resolve(path.dirname(absFile), arm.config);
    try {
      arms.push({ label: arm.label, config: arm.config, plan: await loadExperiment(armFile, env) });
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(`${absFile}: study.arms[${i}] ("${arm.label}"): ${error.message}`, error.file, error.problems);
      throw error;
    }
  }
  const problems = pairingProblems(arms);
  if (problems.length > 0) throw new ConfigError(`${absFile}: the arms are not paired:\n  ${problems.join('\n  ')}`, absFile, problems);
  const hash = createHash('sha256').update(canonicalJson({ text, arms: arms.map((a) => a.plan.hash) })).digest('hex');
  return { file: absFile, text, study, arms, hash };
}

export type StudyEvent =
  | { type: 'study-start'; study: Study; arms: number; resumed: boolean }
  | { type: 'study-arm-start'; index: number; total: number; label: string; config: string; runs: number }
  | { type: 'study-arm-skip'; index: number; total: number; label: string; sweepId: string }
  | { type: 'study-arm-end'; index: number; total: number; label: string; sweepId: string; failed: number; seconds: number };

export interface RunStudyOptions extends RunSweepOptions {
  onStudyEvent?: (event: StudyEvent) => void;
}

export interface StudyArmResult {
  label: string;
  config: string;
  sweepId: string;
  /** Null when the arm's sweep had completed in an earlier, resumed attempt. */
  result: SweepResult | null;
}

export interface StudyResult {
  study: Study;
  arms: StudyArmResult[];
  seconds: number;
}

/**
 * Runs every arm's sweep in order and records the study with its arms. Features are cached by
 * content, so arms sharing an extractor, and every seed of an arm, cost one extraction. With
 * `resume`, the newest unfinished study of the same files continues: completed arms are skipped
 * and an unfinished arm's sweep resumes. An interruption marks the study interrupted.
 */
export async function runStudy(plan: StudyPlan, options: RunStudyOptions): Promise<StudyResult> {
  const started = Date.now();
  const { store, release } = await borrowStore(options);
  const emit = (event: StudyEvent): void => options.onStudyEvent?.(event);
  try {
    let study: Study | null = null;
    let previousArms: StudyArm[] = [];
    if (options.resume) {
      study = (await store.searchStudies({ name: plan.study.name, configHash: plan.hash })).find((s) => s.status !== 'completed') ?? null;
      if (study) {
        study = await store.updateStudyStatus(study.id, 'running');
        previousArms = await store.getStudyArms(study.id);
      }
    }
    const resumed = study !== null;
    study ??= await store.createStudy({ name: plan.study.name, question: plan.study.question, configHash: plan.hash, configText: plan.text });
    emit({ type: 'study-start', study, arms: plan.arms.length, resumed });

    const results: StudyArmResult[] = [];
    const total = plan.arms.length;
    for (const [index, arm] of plan.arms.entries()) {
      const previous = previousArms.find((a) => a.position === index);
      const previousSweep = previous ? await store.getSweep(previous.sweepId) : null;
      if (previous && previousSweep?.status === 'completed') {
        emit({ type: 'study-arm-skip', index, total, label: arm.label, sweepId: previous.sweepId });
        results.push({ label: arm.label, config: arm.config, sweepId: previous.sweepId, result: null });
        continue;
      }
      emit({ type: 'study-arm-start', index, total, label: arm.label, config: arm.config, runs: arm.plan.runs.length });
      const armStarted = Date.now();
      const studyId = study.id;
      let recorded: Promise<void> | null = null;
      try {
        const result = await runSweep(arm.plan, {
          ...options,
          store,
          // An unfinished arm of a resumed study continues its own sweep.
          resume: previousSweep !== null,
          onSweepEvent: (event) => {
            // Recorded as soon as the sweep exists, so an interrupted study can resume this arm.
            if (event.type === 'sweep-start' && !recorded) recorded = store.setStudyArm({ studyId, position: index, label: arm.label, config: arm.config, sweepId: event.sweep.id });
            options.onSweepEvent?.(event);
          },
        });
        await recorded;
        await store.setStudyArm({ studyId, position: index, label: arm.label, config: arm.config, sweepId: result.sweep.id });
        results.push({ label: arm.label, config: arm.config, sweepId: result.sweep.id, result });
        const failed = result.outcomes.filter((o) => o.status === 'failed').length;
        emit({ type: 'study-arm-end', index, total, label: arm.label, sweepId: result.sweep.id, failed, seconds: (Date.now() - armStarted) / 1000 });
      } catch (error) {
        await recorded;
        if (error instanceof InterruptedError) await store.updateStudyStatus(study.id, 'interrupted');
        throw error;
      }
    }
    const finished = await store.updateStudyStatus(study.id, 'completed');
    return { study: finished, arms: results, seconds: (Date.now() - started) / 1000 };
  } finally {
    await release();
  }
}
