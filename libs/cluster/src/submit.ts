import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Queue, type JobsOptions } from 'bullmq';
import Redis from 'ioredis';
import { canonicalJson } from '@mlbench/common';
import {
  checkExperiment,
  ConfigError,
  describePoint,
  isStudyText,
  loadExperiment,
  loadStudy,
  type CheckedInputs,
  type ExperimentPlan,
  type PipelineEvent,
} from '@mlbench/experiment';
import { loadSweepRuns, type Study, type Sweep, type TrackingStore } from '@mlbench/tracking';
import { DEFAULT_QUEUE_NAME, redisOptions } from './connection';
import { pointJobId, settledKey, type PointJobData, type PointJobResult } from './point-job';

export interface SubmitOptions {
  store: TrackingStore;
  /** redis://host:port */
  queueUrl: string;
  queueName?: string;
  cacheDir: string;
  /** Record a new sweep (or study) even when this config was submitted before. */
  fresh?: boolean;
  /** Attempts per point before it is recorded failed (BullMQ `attempts`), default 3. */
  attempts?: number;
  /** First retry delay, doubled each further attempt (BullMQ exponential backoff), default 5 s. */
  backoffMs?: number;
  /** The folder workers remap with their --data-root; default the deepest folder holding every dataset and model. */
  dataRoot?: string;
  signal?: AbortSignal;
  onEvent?: (event: SubmitEvent) => void;
  onPipelineEvent?: (event: PipelineEvent) => void;
}

export type SubmitEvent =
  | { type: 'checking'; arm: string | null; points: number; distinctInputs: number }
  | { type: 'checked'; inputs: CheckedInputs }
  | { type: 'recorded'; kind: 'sweep' | 'study'; id: string; name: string; reused: boolean };

export interface SubmittedSweep {
  sweep: Sweep;
  /** The study arm's label, or null for a plain sweep. */
  label: string | null;
  /** Points added to the queue now. */
  queued: number;
  /** Points whose job was already waiting, delayed or running (not added twice). */
  alreadyQueued: number;
  /** Points with a completed run (never queued again). */
  completed: number;
}

export interface SubmitResult {
  kind: 'sweep' | 'study';
  study: Study | null;
  sweeps: SubmittedSweep[];
  dataRoot: string;
  inputs: CheckedInputs[];
}

interface Arm {
  label: string | null;
  config: string | null;
  plan: ExperimentPlan;
}

/**
 * `runner submit --config <sweep or study>`: checks every point exactly as a local run would
 * (nothing is queued when one is bad), records the sweep or study, and adds one BullMQ job per
 * point not yet completed. Submitting the same file again attaches to what was recorded before:
 * job ids are derived from the sweep and the point, so no point is queued twice.
 */
export async function submitFile(file: string, options: SubmitOptions): Promise<SubmitResult> {
  const emit = (event: SubmitEvent): void => options.onEvent?.(event);
  const text = await fs.readFile(path.resolve(file), 'utf8').catch(() => null);
  const isStudy = text !== null && isStudyText(text);
  const study = isStudy ? await loadStudy(file) : null;
  const arms: Arm[] = study ? study.arms.map((a) => ({ label: a.label, config: a.config, plan: a.plan })) : [{ label: null, config: null, plan: await loadExperiment(file) }];
  for (const arm of arms) {
    if (!arm.plan.sweep) {
      throw new ConfigError(`${arm.plan.file}: has no sweep section; submit queues sweeps and studies (run a single config with: npx nx run runner -- --config ${file})`, arm.plan.file);
    }
  }

  // Validate every point before anything is recorded or queued. Points sharing dataset, preprocessing
  // and extractor share the checks (they are the same checks on the same files).
  const checked = new Map<string, CheckedInputs>();
  const pointInputs: CheckedInputs[][] = [];
  for (const arm of arms) {
    const keys = arm.plan.runs.map((loaded) => canonicalJson({ dataset: loaded.resolved.dataset, preprocess: loaded.resolved.preprocess, extractor: loaded.resolved.model.extractor }));
    emit({ type: 'checking', arm: arm.label, points: keys.length, distinctInputs: new Set(keys).size });
    const inputs: CheckedInputs[] = [];
    for (const [i, loaded] of arm.plan.runs.entries()) {
      let found = checked.get(keys[i]);
      if (!found) {
        found = await checkExperiment(loaded, { cacheDir: options.cacheDir, signal: options.signal, onEvent: options.onPipelineEvent });
        checked.set(keys[i], found);
        emit({ type: 'checked', inputs: found });
      }
      inputs.push(found);
    }
    pointInputs.push(inputs);
  }
  const dataRoot = path.resolve(options.dataRoot ?? commonFolder([...checked.values()].flatMap((c) => [c.datasetRoot, ...(path.isAbsolute(c.modelSource) ? [path.dirname(c.modelSource)] : [])])));

  const { store } = options;
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const connection = redisOptions(options.queueUrl);
  const queue = new Queue<PointJobData, PointJobResult, 'point'>(queueName, { connection });
  const redis = new Redis(connection);
  try {
    // Fail fast with a clear message when Redis is not there (BullMQ would wait for it forever).
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new ConfigError(`--queue: no Redis answers at ${options.queueUrl} (is redis-server running?)`, '(command line)')), 10_000).unref()),
    ]);
    let recordedStudy: Study | null = null;
    const sweeps: Sweep[] = [];
    if (study) {
      const previous = options.fresh ? null : ((await store.searchStudies({ name: study.study.name, configHash: study.hash, limit: 1 }))[0] ?? null);
      recordedStudy = previous ? await store.updateStudyStatus(previous.id, 'running') : await store.createStudy({ name: study.study.name, question: study.study.question, configHash: study.hash, configText: study.text });
      emit({ type: 'recorded', kind: 'study', id: recordedStudy.id, name: recordedStudy.name, reused: previous !== null });
      const previousArms = previous ? await store.getStudyArms(previous.id) : [];
      for (const [position, arm] of arms.entries()) {
        const armSweepId = previousArms.find((a) => a.position === position)?.sweepId;
        const existing = armSweepId ? await store.getSweep(armSweepId) : null;
        const sweep = existing ?? (await createSweep(store, arm.plan));
        if (!existing) await store.setStudyArm({ studyId: recordedStudy.id, position, label: arm.label ?? '', config: arm.config ?? '', sweepId: sweep.id });
        sweeps.push(sweep);
      }
    } else {
      const plan = arms[0].plan;
      const previous = options.fresh ? null : ((await store.searchSweeps({ name: plan.runs[0].config.name, configHash: plan.hash, limit: 1 }))[0] ?? null);
      sweeps.push(previous ?? (await createSweep(store, plan)));
      emit({ type: 'recorded', kind: 'sweep', id: sweeps[0].id, name: sweeps[0].name, reused: previous !== null });
    }

    const results: SubmittedSweep[] = [];
    for (const [a, arm] of arms.entries()) {
      let sweep = sweeps[a];
      const runs = await loadSweepRuns(store, sweep.id);
      const completed = new Set(runs.filter((r) => r.status === 'completed' && r.sweepIndex !== null).map((r) => r.sweepIndex as number));
      const jobs: { name: 'point'; data: PointJobData; opts: JobsOptions }[] = [];
      let alreadyQueued = 0;
      for (const [index, loaded] of arm.plan.runs.entries()) {
        if (completed.has(index)) continue;
        const jobId = pointJobId(sweep.id, index);
        const existing = await queue.getJob(jobId);
        if (existing) {
          const state = await existing.getState();
          // A point that failed its last attempt (or finished without a completed run in this store) is queued afresh.
          if (state === 'failed' || state === 'completed') await existing.remove();
          else if (state !== 'unknown') {
            alreadyQueued++;
            continue;
          }
        }
        jobs.push({
          name: 'point',
          data: {
            sweepId: sweep.id,
            studyId: recordedStudy?.id ?? null,
            index,
            size: arm.plan.runs.length,
            label: `${arm.label ? `${arm.label}: ` : ''}${describePoint(arm.plan.points[index])}`,
            name: loaded.config.name,
            configFile: arm.plan.file,
            configText: arm.plan.text,
            configHash: loaded.hash,
            expected: { datasetFingerprint: pointInputs[a][index].datasetFingerprint, modelSha256: pointInputs[a][index].modelSha256 },
            dataRoot,
            submittedAt: Date.now(),
          },
          opts: { jobId, attempts: options.attempts ?? 3, backoff: { type: 'exponential', delay: options.backoffMs ?? 5000 }, removeOnComplete: false, removeOnFail: false },
        });
      }
      if (jobs.length > 0) {
        await redis.srem(settledKey(queueName, sweep.id), ...jobs.map((j) => String(j.data.index)));
        if (sweep.status !== 'running') sweep = await store.updateSweepStatus(sweep.id, 'running');
        // addBulk is atomic (one MULTI): either every point of the sweep is queued or none.
        await queue.addBulk(jobs);
      } else if (alreadyQueued === 0 && sweep.status !== 'completed') {
        sweep = await store.updateSweepStatus(sweep.id, 'completed');
      }
      results.push({ sweep, label: arm.label, queued: jobs.length, alreadyQueued, completed: completed.size });
    }
    if (recordedStudy && results.every((r) => r.sweep.status === 'completed') && recordedStudy.status !== 'completed') {
      recordedStudy = await store.updateStudyStatus(recordedStudy.id, 'completed');
    }
    return { kind: study ? 'study' : 'sweep', study: recordedStudy, sweeps: results, dataRoot, inputs: [...checked.values()] };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

function createSweep(store: TrackingStore, plan: ExperimentPlan): Promise<Sweep> {
  return store.createSweep({ name: plan.runs[0].config.name, configHash: plan.hash, configText: plan.text, definition: plan.sweep ?? {}, size: plan.runs.length });
}

/** The deepest folder containing every given path. */
export function commonFolder(paths: readonly string[]): string {
  if (paths.length === 0) return path.resolve('.');
  const split = paths.map((p) => path.resolve(p).split(path.sep));
  const first = split[0];
  let depth = 0;
  while (depth < first.length && split.every((parts) => parts[depth] === first[depth])) depth++;
  return first.slice(0, depth).join(path.sep) || path.sep;
}
