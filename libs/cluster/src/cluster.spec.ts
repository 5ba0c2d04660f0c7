/**
 * Submit and worker in-process against a real Redis (Debian redis-server on a free port) and a
 * real SQLite store: duplicate submits, a worker refusing other data, retries ending in failure.
 * Process-level failures (kill -9, SIGTERM, Redis restart) are in apps/runner/src/cluster-process.spec.ts.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { writeSyntheticDataset } from '@mlbench/data';
import { ConfigError } from '@mlbench/experiment';
import { openSqliteStore, type TrackingStore } from '@mlbench/tracking';
import { newRun, runRecord } from '@mlbench/tracking/src/testing';
import { redisOptions } from './connection';
import { pointJobId } from './point-job';
import { submitFile } from './submit';
import { runWorker, type WorkerEvent } from './worker';
import { startRedisServer, type RedisServer } from './testing/redis-server';
import { tinySweepConfig, writeTinySweepData } from './testing/tiny-sweep';

jest.setTimeout(120_000);

let redis: RedisServer;
let dir: string;
let queueCount = 0;

const config = (name: string, sweep = 'seed: [1, 2, 3]'): string => tinySweepConfig({ name, epochs: 2, sweep: [sweep] });

beforeAll(async () => {
  redis = await startRedisServer();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cluster-'));
  await writeTinySweepData(dir);
});
afterAll(async () => {
  await redis?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A fresh queue, store and config per test. */
async function setup(name: string, text: string): Promise<{ file: string; store: TrackingStore; queueName: string; cacheDir: string }> {
  const file = path.join(dir, `${name}.yaml`);
  await fs.writeFile(file, text);
  const store = await openSqliteStore(path.join(dir, `${name}.sqlite`));
  return { file, store, queueName: `test-${++queueCount}`, cacheDir: path.join(dir, `cache-${name}`) };
}

describe('submit and worker', () => {
  it('runs every point once; submitting again queues nothing twice and completed points never again', async () => {
    const { file, store, queueName, cacheDir } = await setup('dup', config('dup'));
    try {
      const base = { store, queueUrl: redis.url, queueName, cacheDir };
      const first = await submitFile(file, base);
      expect(first.sweeps[0]).toMatchObject({ queued: 3, alreadyQueued: 0, completed: 0 });
      const again = await submitFile(file, base);
      expect(again.sweeps[0].sweep.id).toBe(first.sweeps[0].sweep.id);
      expect(again.sweeps[0]).toMatchObject({ queued: 0, alreadyQueued: 3, completed: 0 });

      const queue = new Queue(queueName, { connection: redisOptions(redis.url) });
      expect(await queue.getJobCountByTypes('wait')).toBe(3);
      expect((await queue.getJob(pointJobId(first.sweeps[0].sweep.id, 2)))?.data.label).toBe('seed=3');
      await queue.close();

      const events: WorkerEvent[] = [];
      const summary = await runWorker({ ...base, untilEmpty: true, stallMs: 2000, onEvent: (e) => events.push(e) });
      expect(summary.points.filter((p) => p.status === 'completed')).toHaveLength(3);
      expect(events.some((e) => e.type === 'sweep-completed')).toBe(true);

      const runs = await store.searchRuns({ sweepId: first.sweeps[0].sweep.id });
      expect(runs.map((r) => [r.sweepIndex, r.status]).sort()).toEqual([[0, 'completed'], [1, 'completed'], [2, 'completed']]);
      expect((await store.getSweep(first.sweeps[0].sweep.id))?.status).toBe('completed');
      // Features were extracted once, by the first point.
      const extracted = await Promise.all(runs.map(async (r) => (await store.getMetrics(r.id)).find((m) => m.key === 'extraction.extracted')?.value));
      expect(extracted.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(30);

      const done = await submitFile(file, base);
      expect(done.sweeps[0]).toMatchObject({ queued: 0, alreadyQueued: 0, completed: 3 });
      const fresh = await submitFile(file, { ...base, fresh: true });
      expect(fresh.sweeps[0].sweep.id).not.toBe(first.sweeps[0].sweep.id);
      expect(fresh.sweeps[0].queued).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('refuses bad input before recording or queueing anything', async () => {
    const { file, store, queueName, cacheDir } = await setup('bad', config('bad', 'train.learningRat: [0.1]'));
    try {
      await expect(submitFile(file, { store, queueUrl: redis.url, queueName, cacheDir })).rejects.toThrow(ConfigError);
      await fs.writeFile(file, config('bad').replace('path: data', 'path: no-such-folder'));
      await expect(submitFile(file, { store, queueUrl: redis.url, queueName, cacheDir })).rejects.toThrow(/no-such-folder/);
      expect(await store.searchSweeps({})).toEqual([]);
      const queue = new Queue(queueName, { connection: redisOptions(redis.url) });
      expect(await queue.getJobCountByTypes('wait', 'delayed')).toBe(0);
      await queue.close();
    } finally {
      await store.close();
    }
  });

  it('a worker whose dataset differs from the submitter refuses the point, naming both fingerprints, and records no run on it', async () => {
    const data = path.join(dir, 'data-moving');
    await writeSyntheticDataset(data, { classes: ['amber', 'cobalt'], imagesPerClass: 6, seed: 'moving' });
    const { file, store, queueName, cacheDir } = await setup('refuse', config('refuse', 'seed: [1]').replace('path: data', 'path: data-moving'));
    try {
      const submitted = await submitFile(file, { store, queueUrl: redis.url, queueName, cacheDir, attempts: 2, backoffMs: 100 });
      const seen = submitted.inputs[0].datasetFingerprint;
      // Another version of the data on the worker's disk: one image more.
      await fs.copyFile(path.join(data, 'amber', 'img_000.jpg'), path.join(data, 'amber', 'img_extra.jpg'));
      const events: WorkerEvent[] = [];
      await runWorker({ store, queueUrl: redis.url, queueName, cacheDir, untilEmpty: true, stallMs: 2000, onEvent: (e) => events.push(e) });
      const failures = events.filter((e) => e.type === 'point-failed');
      expect(failures.map((e) => e.type === 'point-failed' && e.willRetry)).toEqual([true, false]);
      const runs = await store.searchRuns({ sweepId: submitted.sweeps[0].sweep.id });
      // No run on the other data: one failed row records the refusal after the last attempt.
      expect(runs.map((r) => r.status)).toEqual(['failed']);
      expect(await store.getPredictions(runs[0].id)).toEqual([]);
      const error = runs[0].error ?? '';
      expect(error).toContain('InputMismatchError');
      expect(error).toContain(`submitted with fingerprint ${seen}`);
      expect(error).toMatch(/has fingerprint [0-9a-f]{64} here/);
      expect(error).not.toContain(`has fingerprint ${seen} here`);
      expect((await store.getSweep(submitted.sweeps[0].sweep.id))?.status).toBe('completed');
    } finally {
      await store.close();
    }
  });

  it('a point another attempt completed meanwhile: this attempt is recorded abandoned (superseded), never a second completion; the job and sweep settle', async () => {
    const { file, store, queueName, cacheDir } = await setup('superseded', config('superseded', 'seed: [1]'));
    try {
      const submitted = await submitFile(file, { store, queueUrl: redis.url, queueName, cacheDir });
      const sweepId = submitted.sweeps[0].sweep.id;
      // The attempt of a worker that lost its lock but still finished first.
      const other = await store.createRun({ ...newRun('superseded', 1), sweepId, sweepIndex: 0 });
      await store.completeRun(other.id, runRecord(1, 12));
      const events: WorkerEvent[] = [];
      const summary = await runWorker({ store, queueUrl: redis.url, queueName, cacheDir, untilEmpty: true, stallMs: 2000, onEvent: (e) => events.push(e) });
      expect(summary.points.map((p) => p.status)).toEqual(['superseded']);
      const superseded = events.find((e): e is Extract<WorkerEvent, { type: 'point-superseded' }> => e.type === 'point-superseded');
      expect(superseded?.completedRunId).toBe(other.id);
      const runs = await store.searchRuns({ sweepId });
      expect(runs.map((r) => r.status).sort()).toEqual(['abandoned', 'completed']);
      const loser = runs.find((r) => r.status === 'abandoned');
      expect(loser?.id).toBe(superseded?.runId);
      expect(loser?.error).toMatch(new RegExp(`^abandoned: superseded: .*completed first by run ${other.id}`));
      expect(await store.getPredictions(loser?.id ?? '')).toEqual([]);
      expect((await store.getSweep(sweepId))?.status).toBe('completed');
      const queue = new Queue(queueName, { connection: redisOptions(redis.url) });
      expect((await queue.getJob(pointJobId(sweepId, 0)))?.returnvalue).toMatchObject({ runId: other.id });
      await queue.close();
    } finally {
      await store.close();
    }
  });

  it('a worker that loses a point\'s queue lock mid-point records its attempt abandoned (not interrupted); the point is re-queued and completed once', async () => {
    const { file, store, queueName, cacheDir } = await setup('lost', config('lost', 'seed: [1]').replace('epochs: 2', 'epochs: 400'));
    const client = new Redis(redisOptions(redis.url));
    try {
      const submitted = await submitFile(file, { store, queueUrl: redis.url, queueName, cacheDir });
      const sweepId = submitted.sweeps[0].sweep.id;
      const lockKey = `bull:${queueName}:${pointJobId(sweepId, 0)}:lock`;
      const events: WorkerEvent[] = [];
      let cut = false;
      await runWorker({
        store, queueUrl: redis.url, queueName, cacheDir, untilEmpty: true, stallMs: 2000,
        onEvent: (e) => events.push(e),
        onPipelineEvent: (event) => {
          // Mid-training of the first attempt, the lock vanishes (as when Redis lost this worker for longer than the lock).
          if (event.type !== 'epoch' || event.metrics.epoch !== 5 || cut) return;
          cut = true;
          void client.del(lockKey);
        },
      });
      expect(cut).toBe(true);
      const lost = events.filter((e): e is Extract<WorkerEvent, { type: 'point-lost' }> => e.type === 'point-lost');
      expect(lost).toHaveLength(1);
      const runs = await store.searchRuns({ sweepId });
      expect(runs.map((r) => r.status).sort()).toEqual(['abandoned', 'completed']);
      const dropped = runs.find((r) => r.status === 'abandoned');
      expect(dropped?.id).toBe(lost[0].runId);
      expect(dropped?.error).toMatch(/^abandoned: .* lost the point's queue lock .*during training after \d+\/400 epochs/);
      expect(await store.getPredictions(dropped?.id ?? '')).toEqual([]);
      expect((await store.getSweep(sweepId))?.status).toBe('completed');
    } finally {
      client.disconnect();
      await store.close();
    }
  });

  it('retries a point failing on its own (diverged training) with backoff, then records it failed; the sweep still settles', async () => {
    // A learning rate that makes training diverge at its first epoch: the run starts, then fails on its own.
    const text = config('retry', 'train.learningRate: [0.01, 3.0e+38]').replace('  size: [8, 8]', '  size: [8, 8]\n  scaling: raw').replace('  learningRate: 0.01', '  optimizer: sgd\n  learningRate: 0.01').replace('epochs: 2', 'epochs: 5');
    const { file, store, queueName, cacheDir } = await setup('retry', text);
    try {
      const submitted = await submitFile(file, { store, queueUrl: redis.url, queueName, cacheDir, attempts: 3, backoffMs: 200 });
      const events: WorkerEvent[] = [];
      const started = Date.now();
      await runWorker({ store, queueUrl: redis.url, queueName, cacheDir, untilEmpty: true, stallMs: 2000, onEvent: (e) => events.push(e) });
      const runs = await store.searchRuns({ sweepId: submitted.sweeps[0].sweep.id });
      const byPoint = (i: number): string[] => runs.filter((r) => r.sweepIndex === i).map((r) => r.status);
      // Every attempt is a recorded run: three failed attempts of the diverging point, then no more; the other point completes.
      expect([0, 1].map(byPoint)).toEqual([['completed'], ['failed', 'failed', 'failed']]);
      expect(runs.filter((r) => r.status === 'failed').every((r) => /TrainingDivergedError/.test(r.error ?? ''))).toBe(true);
      const failures = events.filter((e): e is Extract<WorkerEvent, { type: 'point-failed' }> => e.type === 'point-failed');
      expect(failures.map((e) => `${e.point.index}:${e.point.attempt}:${e.willRetry}`).sort()).toEqual(['1:1:true', '1:2:true', '1:3:false']);
      // Exponential backoff: 200 ms, then 400 ms before the last attempt.
      expect(Date.now() - started).toBeGreaterThan(600);
      expect((await store.getSweep(submitted.sweeps[0].sweep.id))?.status).toBe('completed');
    } finally {
      await store.close();
    }
  });
});
