import * as os from 'node:os';
import * as path from 'node:path';
import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import Redis from 'ioredis';
import {
  captureEnvironment,
  InterruptedError,
  parseExperiment,
  runExperiment,
  type ExperimentPlan,
  type LoadedConfig,
  type PipelineEvent,
} from '@mlbench/experiment';
import { InvalidRunStateError, PointAlreadyCompletedError, type TrackingStore } from '@mlbench/tracking';
import { DEFAULT_QUEUE_NAME, redisOptions } from './connection';
import { redisFeatureLock, sharedFeatureLock } from './feature-lock';
import { startLockKeeper } from './lock-keeper';
import { extractedKey, settledKey, type PointJobData, type PointJobResult } from './point-job';

export interface WorkerOptions {
  store: TrackingStore;
  queueUrl: string;
  queueName?: string;
  cacheDir: string;
  /** Points run at once in this process (BullMQ concurrency), default 1. */
  concurrency?: number;
  /** Exit once nothing is waiting, delayed or running anywhere in the queue. */
  untilEmpty?: boolean;
  /** Replaces the data root the points were submitted with (see PointJobData.dataRoot). */
  dataRoot?: string;
  /**
   * BullMQ lock duration and stalled-check interval: a worker that dies holding a point loses it
   * after at most about twice this, and another worker takes it. Default 30 s (BullMQ's default).
   */
  stallMs?: number;
  /** Shown in messages and stored on the jobs (BullMQ worker name); default host:pid. */
  name?: string;
  /** Aborting drains: the current points are interrupted and go back to the queue, then the worker stops. */
  signal?: AbortSignal;
  onEvent?: (event: WorkerEvent) => void;
  onPipelineEvent?: (event: PipelineEvent, point: PointRef) => void;
}

/** Which point an event is about. */
export interface PointRef {
  sweepId: string;
  index: number;
  size: number;
  label: string;
  attempt: number;
  attempts: number;
}

export type WorkerEvent =
  | { type: 'ready'; worker: string; queueName: string; concurrency: number; stallMs: number }
  | { type: 'point-start'; point: PointRef; waitedMs: number; claimToStartMs: number; sincePreviousMs: number | null }
  | { type: 'abandoned-attempt'; point: PointRef; runId: string; hostname: string | null; pid: number | null }
  | { type: 'waiting-for-features'; point: PointRef; cacheKey: string }
  | { type: 'point-completed'; point: PointRef; runId: string; testAccuracy: number; seconds: number }
  | { type: 'point-failed'; point: PointRef; runId: string | null; error: string; willRetry: boolean }
  | { type: 'point-requeued'; point: PointRef; runId: string | null; reason: string }
  /** Another attempt of the point completed first (this one had lost its lock): this attempt is recorded abandoned, not completed. */
  | { type: 'point-superseded'; point: PointRef; runId: string; completedRunId: string }
  /** This worker lost the point's queue lock (cut off from Redis too long): the point stops here, its run is recorded abandoned (as a killed worker's), and it runs elsewhere. */
  | { type: 'point-lost'; point: PointRef; runId: string | null }
  | { type: 'sweep-completed'; sweepId: string }
  | { type: 'queue-error'; message: string }
  | { type: 'stopping'; reason: 'until-empty' | 'signal' };

/** One point this worker processed: for progress lines and the queue-overhead figures. */
export interface PointTiming {
  sweepId: string;
  index: number;
  status: 'completed' | 'failed' | 'requeued' | 'superseded' | 'lost';
  /** Claimed by BullMQ (moved to active) -> the processor started: the queue's overhead per point. */
  claimToStartMs: number;
  /** Queued (or last retried) -> claimed. */
  waitedMs: number;
  /** This worker's previous point ended -> this one started (completion, claim and hand-over), null for its first. */
  sincePreviousMs: number | null;
  startedAt: number;
  endedAt: number;
}

export interface WorkerSummary {
  worker: string;
  points: PointTiming[];
}

/**
 * `runner worker`: takes points from the BullMQ queue and runs each exactly as a local run
 * (recorded into the shared store, feature cache shared). BullMQ holds a renewed lock on each point
 * while it runs; a worker that dies loses it and the stalled-job check re-queues the point for
 * another worker, which first marks the dead attempt's run row abandoned. A point failing on its
 * own is retried with backoff (job `attempts`), then recorded failed. Resolves when the worker
 * has stopped: after a drain (options.signal) or, with untilEmpty, when the queue is empty.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const workerName = options.name ?? `${os.hostname()}:${process.pid}`;
  const stallMs = options.stallMs ?? 30_000;
  const concurrency = options.concurrency ?? 1;
  const emit = (event: WorkerEvent): void => options.onEvent?.(event);
  const connection = redisOptions(options.queueUrl);
  const redis = new Redis(connection);
  redis.on('error', () => undefined); // reconnects by itself; BullMQ reports queue errors below
  const queue = new Queue<PointJobData>(queueName, { connection });
  queue.on('error', () => undefined);
  // Locks are renewed from a thread: long synchronous work (extraction) must not lose them.
  const keeper = startLockKeeper(connection);
  // On PostgreSQL the feature cache is shared through the store (workers on machines sharing no
  // disk), under its advisory lock; on SQLite (one machine) the folder is shared, under a Redis lock.
  const sharedFeatures = options.store.sharedFeatures;
  const lockFeatures = sharedFeatures ? sharedFeatureLock(sharedFeatures) : redisFeatureLock(redis, `mlbench:${queueName}`, { ttlMs: Math.max(2000, stallMs), keeper });
  // Why a point's run stops when this worker loses the point's lock: recorded in its row (abandoned).
  const lostReason = `${workerName} lost the point's queue lock (cut off from Redis, or stalled past the lock); another worker runs the point`;
  /** Per running job: aborts its point when this worker loses the job's lock. */
  const lostLock = new Map<string, AbortController>();
  const plans = new Map<string, ExperimentPlan>();
  const timings: PointTiming[] = [];
  let lastEndedAt: number | null = null;
  const { store } = options;
  const drain = new AbortController();
  const onAbort = (): void => drain.abort(options.signal?.reason ?? 'SIGTERM');
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const processor = async (job: Job<PointJobData, PointJobResult>, token?: string): Promise<PointJobResult> => {
    try {
      return await processPoint(job, token);
    } finally {
      lastEndedAt = Date.now();
    }
  };

  const processPoint = async (job: Job<PointJobData, PointJobResult>, token?: string): Promise<PointJobResult> => {
    const startedAt = Date.now();
    const data = job.data;
    const attempts = job.opts.attempts ?? 1;
    const point: PointRef = { sweepId: data.sweepId, index: data.index, size: data.size, label: data.label, attempt: job.attemptsMade + 1, attempts };
    const claimedAt = job.processedOn ?? startedAt;
    const timing: PointTiming = {
      sweepId: data.sweepId, index: data.index, status: 'requeued', claimToStartMs: startedAt - claimedAt,
      waitedMs: Math.max(0, claimedAt - (job.timestamp + (job.delay ?? 0))), sincePreviousMs: lastEndedAt === null ? null : startedAt - lastEndedAt,
      startedAt, endedAt: startedAt,
    };
    timings.push(timing);
    const requeue = async (runId: string | null, reason: string): Promise<never> => {
      timing.endedAt = Date.now();
      await job.moveToWait(token);
      emit({ type: 'point-requeued', point, runId, reason });
      throw new WaitingError();
    };
    if (drain.signal.aborted) return requeue(null, 'the worker is draining');
    const lost = new AbortController();
    const jobId = job.id ?? '';
    lostLock.set(jobId, lost);
    const qualified = job.queueQualifiedName;
    const stopKeeping = token
      ? keeper.hold({ key: `${qualified}:${jobId}:lock`, token, ttlMs: stallMs, stalledSet: `${qualified}:stalled`, member: jobId }, () => lost.abort(lostReason))
      : () => undefined;
    try {
      return await runPoint(job, point, timing, requeue, lost.signal);
    } finally {
      stopKeeping();
      lostLock.delete(jobId);
    }
  };

  const runPoint = async (
    job: Job<PointJobData, PointJobResult>,
    point: PointRef,
    timing: PointTiming,
    requeue: (runId: string | null, reason: string) => Promise<never>,
    lostSignal: AbortSignal,
  ): Promise<PointJobResult> => {
    const data = job.data;
    const attempts = job.opts.attempts ?? 1;
    const startedAt = timing.startedAt;
    emit({ type: 'point-start', point, waitedMs: timing.waitedMs, claimToStartMs: timing.claimToStartMs, sincePreviousMs: timing.sincePreviousMs });

    // BullMQ gives a point to one worker at a time: a row of this point still `running` belongs to an
    // attempt whose worker lost the lock (killed, machine gone). Marking it abandoned also fences that
    // worker if it is merely stalled: its completeRun would then be refused, so a point completes once.
    for (const stale of await store.searchRuns({ sweepId: data.sweepId, status: 'running', limit: Number.MAX_SAFE_INTEGER })) {
      if (stale.sweepIndex !== data.index) continue;
      try {
        await store.failRun(
          stale.id,
          `abandoned: the attempt of ${stale.hostname ?? '?'} (pid ${stale.pid ?? '?'}) lost its queue lock (worker killed, machine gone or cut off); the point was re-queued and ${workerName} took it over`,
          'abandoned',
        );
        emit({ type: 'abandoned-attempt', point, runId: stale.id, hostname: stale.hostname, pid: stale.pid });
      } catch (error) {
        if (!(error instanceof InvalidRunStateError)) throw error;
      }
    }

    let runId: string | null = null;
    let extractedSoFar = 0;
    let cacheKey: string | null = null;
    let loaded: LoadedConfig | null = null;
    try {
      loaded = resolvePoint(data, plans, options.dataRoot);
      const summary = await runExperiment(loaded, {
        dbPath: store.location,
        store,
        cacheDir: options.cacheDir,
        signal: AbortSignal.any([drain.signal, lostSignal]),
        abandonSignal: lostSignal,
        sweep: { id: data.sweepId, index: data.index },
        expectInputs: data.expected,
        lockFeatures: (key, signal) => lockFeatures(key, signal, () => emit({ type: 'waiting-for-features', point, cacheKey: key })),
        sharedFeatures,
        onEvent: (event) => {
          if (event.type === 'run-created') runId = event.runId;
          if (event.type === 'extract-start') cacheKey = path.basename(event.cacheDir);
          if (event.type === 'extract-progress' && cacheKey) {
            void redis.incrby(extractedKey(queueName, cacheKey), event.done - extractedSoFar).catch(() => undefined);
            extractedSoFar = event.done;
          }
          options.onPipelineEvent?.(event, point);
        },
      });
      timing.status = 'completed';
      timing.endedAt = Date.now();
      emit({ type: 'point-completed', point, runId: summary.run.id, testAccuracy: summary.test.accuracy, seconds: (timing.endedAt - startedAt) / 1000 });
      await settle(data);
      return { runId: summary.run.id, testAccuracy: summary.test.accuracy };
    } catch (error) {
      if (error instanceof WaitingError) throw error;
      if (error instanceof PointAlreadyCompletedError) {
        // The store keeps one completed run per point: this attempt is recorded abandoned (superseded).
        timing.status = 'superseded';
        timing.endedAt = Date.now();
        emit({ type: 'point-superseded', point, runId: error.runId, completedRunId: error.completedRunId });
        await settle(data);
        const accuracy = (await store.getMetrics(error.completedRunId)).find((m) => m.key === 'test.accuracy')?.value ?? NaN;
        return { runId: error.completedRunId, testAccuracy: accuracy };
      }
      if (lostSignal.aborted && !drain.signal.aborted) {
        // Not ours any more: BullMQ's stalled check gives it to another worker (nothing to move here).
        timing.status = 'lost';
        timing.endedAt = Date.now();
        emit({ type: 'point-lost', point, runId });
        throw error;
      }
      if (error instanceof InterruptedError && drain.signal.aborted) return requeue(runId, `drained (${String(drain.signal.reason)}); its run is recorded interrupted`);
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const final = job.attemptsMade + 1 >= attempts;
      timing.status = 'failed';
      timing.endedAt = Date.now();
      if (runId === null && final) {
        // Refused before a run row existed (other data here, bad config on this machine): recorded, so the sweep shows every point.
        const failed = await store.createRun({
          name: data.name,
          seed: loaded?.config.seed ?? 0,
          configHash: loaded?.hash ?? data.configHash,
          configText: data.configText,
          resolvedConfig: loaded?.resolved ?? null,
          environment: captureEnvironment(process.cwd(), { 'config.file': data.configFile, 'cluster.worker': workerName }),
          sweepId: data.sweepId,
          sweepIndex: data.index,
        });
        await store.failRun(failed.id, message);
        runId = failed.id;
      }
      emit({ type: 'point-failed', point, runId, error: message, willRetry: !final });
      if (final) await settle(data);
      throw error;
    }
  };

  /** A point is settled (completed, or failed for good); the last one settles its sweep (and study). */
  const settle = async (data: PointJobData): Promise<void> => {
    const key = settledKey(queueName, data.sweepId);
    await redis.sadd(key, String(data.index));
    if ((await redis.scard(key)) < data.size) return;
    const sweep = await store.getSweep(data.sweepId);
    if (sweep && sweep.status !== 'completed') await store.updateSweepStatus(data.sweepId, 'completed');
    emit({ type: 'sweep-completed', sweepId: data.sweepId });
    if (data.studyId) {
      const arms = await store.getStudyArms(data.studyId);
      const sweeps = await Promise.all(arms.map((a) => store.getSweep(a.sweepId)));
      const study = await store.getStudy(data.studyId);
      if (study && study.status !== 'completed' && sweeps.every((s) => s?.status === 'completed')) await store.updateStudyStatus(data.studyId, 'completed');
    }
  };

  const worker = new Worker<PointJobData, PointJobResult>(queueName, processor, {
    connection,
    concurrency,
    name: workerName,
    lockDuration: stallMs,
    stalledInterval: stallMs,
    // A point may be lost by a dying worker a few times (several kills) before BullMQ fails it.
    maxStalledCount: 3,
    // Long polls are cut short by close(); a short one keeps --until-empty and drains prompt.
    drainDelay: 1,
  });
  worker.on('error', (error) => emit({ type: 'queue-error', message: error.message }));
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const id of jobIds) lostLock.get(id)?.abort(lostReason);
  });
  emit({ type: 'ready', worker: workerName, queueName, concurrency, stallMs });

  let stopping: Promise<void> | null = null;
  const stop = (reason: 'until-empty' | 'signal'): Promise<void> => {
    stopping ??= (async () => {
      emit({ type: 'stopping', reason });
      await worker.close();
    })();
    return stopping;
  };
  // A drain closes the worker at once: BullMQ's close() waits for the running points, which the
  // same signal interrupts (they go back to the queue).
  const drained = new Promise<void>((resolve) => {
    if (drain.signal.aborted) resolve();
    else drain.signal.addEventListener('abort', () => resolve(), { once: true });
  }).then(() => stop('signal'));
  if (options.untilEmpty) {
    // Everything anywhere in the queue counts, including points running on other workers: one of
    // them may die and its point come back.
    while (!drain.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const pending = await queue.getJobCountByTypes('wait', 'active', 'delayed', 'prioritized', 'waiting-children').catch(() => 1);
      if (pending === 0 && !drain.signal.aborted) {
        await stop('until-empty');
        break;
      }
    }
    if (drain.signal.aborted) await drained;
  } else {
    await drained;
  }
  options.signal?.removeEventListener('abort', onAbort);
  await queue.close();
  await keeper.close();
  redis.disconnect();
  return { worker: workerName, points: timings };
}

/** The point's config as this machine sees it: the submitted text parsed here, then --data-root applied. */
function resolvePoint(data: PointJobData, plans: Map<string, ExperimentPlan>, dataRoot: string | undefined): LoadedConfig {
  const memo = `${data.configFile}\0${data.configText}`;
  let plan = plans.get(memo);
  if (!plan) {
    plan = parseExperiment(data.configText, data.configFile, process.env);
    plans.set(memo, plan);
  }
  const loaded = plan.runs[data.index];
  if (!loaded || plan.runs.length !== data.size) throw new Error(`the config of sweep ${data.sweepId} has ${plan.runs.length} points here, the job says ${data.size}`);
  if (!dataRoot) return loaded;
  const remap = (p: string): string => {
    const rel = path.relative(data.dataRoot, p);
    return rel.startsWith('..') || path.isAbsolute(rel) ? p : path.join(path.resolve(dataRoot), rel);
  };
  const extractor = loaded.resolved.model.extractor;
  return {
    ...loaded,
    resolved: {
      ...loaded.resolved,
      dataset: { ...loaded.resolved.dataset, path: remap(loaded.resolved.dataset.path) },
      model: {
        ...loaded.resolved.model,
        extractor: extractor === 'none' || /^https?:\/\//i.test(extractor.source) ? extractor : { ...extractor, source: remap(extractor.source) },
      },
    },
  };
}
