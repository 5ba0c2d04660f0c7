/**
 * Simulation benchmark of the cluster queue:
 *
 *   npm run bench:cluster                         # 1,000 points over 4 worker processes
 *   npm run bench:cluster -- --points 200 --workers 2
 *   npm run bench:cluster -- --postgres           # the PostgreSQL store, each worker its own cache folder
 *
 * Trivial points (pixel extractor on a few generated 8x8 images, one epoch) so the queue, not the
 * model, is what is measured. A throwaway Redis (AOF on) and SQLite store in a temp folder (with
 * --postgres: a throwaway PostgreSQL server as the store, and each worker its own --cache-dir, as on
 * separate machines sharing the feature cache through the store). Also prints the extractions the
 * workers counted (one per image expected). Prints:
 * points completed exactly once / more than once / lost, queue overhead per point (claim -> the
 * worker's processor starting, and the gap between one point ending and the same worker's next
 * start, and BullMQ's own claim/finish timestamps), time per point, throughput, wall time. Exits 1 unless every
 * point completed exactly once.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { extractedKey, redisOptions, submitFile } from '@mlbench/cluster';
import { startRedisServer } from '@mlbench/cluster/src/testing/redis-server';
import { writeSyntheticDataset } from '@mlbench/data';
import { openTrackingStore } from '@mlbench/tracking';
import { startPostgres, type PostgresServer } from '@mlbench/tracking/src/testing';
import { spawnRunner } from './runner-process';
import { positiveIntOption } from './positive-int-option';

const QUEUE = 'mlbench-sim';
/** 3 classes of 6 generated images. */
const IMAGES = 18;

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const describe = (values: number[], unit: string): string => {
  const s = [...values].sort((a, b) => a - b);
  return `median ${quantile(s, 0.5).toFixed(1)} ${unit}, p95 ${quantile(s, 0.95).toFixed(1)} ${unit}, max ${s[s.length - 1].toFixed(1)} ${unit}`;
};

async function main(): Promise<void> {
  const points = positiveIntOption('points', 1000);
  const workers = positiveIntOption('workers', 4);
  const postgres = process.argv.includes('--postgres');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlbench-cluster-sim-'));
  let pg: PostgresServer | null = null;
  let redis: Awaited<ReturnType<typeof startRedisServer>> | null = null;
  // Everything started is inside the try, so its finally stops it even when a later step fails.
  try {
    pg = postgres ? await startPostgres() : null;
    const db = pg ? await pg.createDatabase('sim') : path.join(dir, 'runs.sqlite');
    const cacheDir = path.join(dir, 'cache');
    const workerCache = (i: number): string => (pg ? path.join(dir, `cache-worker-${i + 1}`) : cacheDir);
    await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 6, width: 16, height: 16, seed: 'sim' });
    const file = path.join(dir, 'sim.yaml');
    await fs.writeFile(
      file,
      [
        'name: cluster-sim', 'seed: 1', 'dataset:', '  path: data', '  split: { train: 0.5, val: 0.17, test: 0.33 }',
        'preprocess:', '  size: [8, 8]', 'model:', '  extractor: none', 'train:', '  learningRate: 0.01', '  epochs: 1', '  batchSize: 8',
        'sweep:', `  seed: [${Array.from({ length: points }, (_, i) => i + 1).join(', ')}]`, '',
      ].join('\n'),
    );
    redis = await startRedisServer();
    const started = Date.now();
    const store = await openTrackingStore(db);
    let sweepId: string;
    try {
      const submitted = await submitFile(file, { store, queueUrl: redis.url, queueName: QUEUE, cacheDir });
      sweepId = submitted.sweeps[0].sweep.id;
      process.stdout.write(`submitted ${submitted.sweeps[0].queued} points in ${((Date.now() - started) / 1000).toFixed(1)}s; starting ${workers} workers; store ${pg ? 'PostgreSQL' : 'SQLite'}\n`);
    } finally {
      await store.close();
    }
    const workStarted = Date.now();
    const common = ['--queue', redis.url, '--queue-name', QUEUE, '--db', db];
    const procs = Array.from({ length: workers }, (_, i) => spawnRunner(`worker-${i + 1}`, ['worker', '--until-empty', ...common, '--cache-dir', workerCache(i)]));
    const claimToStart: number[] = [];
    const sincePrevious: number[] = [];
    let done = 0;
    for (const proc of procs) {
      proc.onLine((line) => {
        const m = /claim to start (\d+) ms/.exec(line);
        if (m) claimToStart.push(Number(m[1]));
        const p = /, (\d+) ms after the previous point/.exec(line);
        if (p) sincePrevious.push(Number(p[1]));
        if (/: completed, run /.test(line) && ++done % 100 === 0) process.stdout.write(`  ${done}/${points} completed (${((Date.now() - workStarted) / 1000).toFixed(0)}s)\n`);
      });
    }
    const exits = await Promise.all(procs.map((p) => p.exited));
    const workSeconds = (Date.now() - workStarted) / 1000;

    // BullMQ's own record of every job: who ran it, when it was claimed and when it finished.
    const queue = new Queue(QUEUE, { connection: redisOptions(redis.url) });
    const jobs = await queue.getJobs(['completed', 'failed'], 0, -1);
    await queue.close();
    const byWorker = new Map<string, { claimed: number; finished: number }[]>();
    for (const job of jobs) {
      const who = job.processedBy ?? '?';
      byWorker.set(who, [...(byWorker.get(who) ?? []), { claimed: job.processedOn ?? 0, finished: job.finishedOn ?? 0 }]);
    }
    const gaps: number[] = [];
    const durations: number[] = [];
    for (const list of byWorker.values()) {
      list.sort((a, b) => a.claimed - b.claimed);
      list.forEach((j, i) => {
        durations.push(j.finished - j.claimed);
        if (i > 0) gaps.push(Math.max(0, j.claimed - list[i - 1].finished));
      });
    }

    const client = new Redis(redisOptions(redis.url));
    const keys = await client.keys(extractedKey(QUEUE, '*'));
    const extracted = (await Promise.all(keys.map((k) => client.get(k)))).reduce((sum, v) => sum + Number(v ?? 0), 0);
    client.disconnect();

    const check = await openTrackingStore(db);
    try {
      const runs = await check.searchRuns({ sweepId, limit: Number.MAX_SAFE_INTEGER });
      const completed = new Map<number, number>();
      for (const r of runs) if (r.status === 'completed' && r.sweepIndex !== null) completed.set(r.sweepIndex, (completed.get(r.sweepIndex) ?? 0) + 1);
      const once = [...completed.values()].filter((n) => n === 1).length;
      const twice = [...completed.values()].filter((n) => n > 1).length;
      const lost = points - completed.size;
      const lines = [
        `workers             ${workers} processes, exit ${exits.map((e) => e.code).join(', ')}; jobs per worker ${[...byWorker.values()].map((l) => l.length).join(', ')}`,
        `points              ${points}: ${once} completed exactly once, ${twice} more than once, ${lost} lost; ${runs.length} run rows`,
        `claim -> start      ${describe(claimToStart, 'ms')}  (BullMQ moved the job to active -> the worker's processor began)`,
        `end -> next start   ${describe(sincePrevious, 'ms')}  (same worker: a point's processor returned -> the next one's began: completion, claim, hand-over)`,
        `end -> next claim   ${describe(gaps, 'ms')}  (BullMQ's timestamps: the completing call claims the next job)`,
        `point, claim -> end ${describe(durations, 'ms')}  (the whole point: scan, run, record)`,
        `throughput          ${(points / workSeconds).toFixed(1)} points/s with ${workers} workers; wall ${workSeconds.toFixed(1)}s (+ ${((workStarted - started) / 1000).toFixed(1)}s submit)`,
        `extractions         ${extracted} for ${IMAGES} images (${pg ? 'store PostgreSQL, each worker its own cache folder' : 'store SQLite, one cache folder'})`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      if (once !== points || extracted !== IMAGES) process.exitCode = 1;
    } finally {
      await check.close();
    }
  } finally {
    await redis?.stop();
    await pg?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
