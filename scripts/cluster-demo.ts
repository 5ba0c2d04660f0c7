/**
 * The cluster on one machine:
 *
 *   npm run cluster:demo                        # cold feature caches (one folder per worker, as on separate machines): one extraction for the whole cluster
 *   npm run cluster:demo -- --cache-dir results/cache --workers 3 --stall-seconds 10
 *
 * Starts a throwaway Redis (AOF on, noeviction) and a throwaway PostgreSQL server (the store), submits
 * the canonical sweep (experiments/flowers-mobilenetv2-sweep.yaml, 10 points), starts the workers
 * as separate processes, kills one with kill -9 in the middle of a point (after its third epoch),
 * waits for the others to finish the sweep, and prints: points completed, runs recorded per point,
 * abandoned attempts, feature extractions performed, how long the killed point took to come back,
 * and the wall time. Without --cache-dir each worker has a cold folder of its own, so the features
 * reach the others only through the store (PostgreSQL's shared feature cache); with it, all share it. Exits 0 only when the invariants hold: every point completed exactly once, the
 * killed attempt recorded abandoned and its point taken over, and (cold cache) one extraction per image.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { startRedisServer } from '@mlbench/cluster/src/testing/redis-server';
import { openTrackingStore } from '@mlbench/tracking';
import { startPostgres } from '@mlbench/tracking/src/testing';
import { REPO, spawnRunner, type RunnerProcess } from './runner-process';

const CONFIG = path.join(REPO, 'experiments/flowers-mobilenetv2-sweep.yaml');
const QUEUE = 'mlbench-demo';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

async function main(): Promise<void> {
  const started = Date.now();
  const workers = Number(option('workers') ?? 3);
  const stallSeconds = Number(option('stall-seconds') ?? 10);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlbench-cluster-demo-'));
  const coldCache = option('cache-dir') === undefined;
  const cacheDir = path.resolve(option('cache-dir') ?? path.join(dir, 'cache-submit'));
  const workerCache = (i: number): string => (coldCache ? path.join(dir, `cache-worker-${i}`) : cacheDir);
  const [redis, pg] = await Promise.all([startRedisServer(), startPostgres()]);
  const db = await pg.createDatabase('demo');
  const say = (line: string): void => void process.stdout.write(`demo     | ${line}\n`);
  say(`redis ${redis.url} (AOF on, noeviction, data in ${redis.dir}); store postgresql://${pg.host}:${pg.port}/demo (PostgreSQL); feature cache ${coldCache ? `one cold folder per worker in ${dir}, shared through the store` : cacheDir}`);
  const common = ['--queue', redis.url, '--queue-name', QUEUE, '--db', db];
  try {
    const submit = spawnRunner('submit', ['submit', '--config', CONFIG, ...common, '--cache-dir', cacheDir], { echo: true });
    if ((await submit.exited).code !== 0) throw new Error('submit failed');

    const procs: RunnerProcess[] = [];
    for (let i = 1; i <= workers; i++) procs.push(spawnRunner(`worker-${i}`, ['worker', '--until-empty', '--verbose', '--stall-seconds', String(stallSeconds), ...common, '--cache-dir', workerCache(i)], { echo: true }));

    // kill -9 the first worker seen past its third epoch of a point, and time that point's comeback.
    let victim: { proc: RunnerProcess; point: string; at: number } | null = null;
    let recoveredSeconds: number | null = null;
    const current = new Map<RunnerProcess, string>();
    for (const proc of procs) {
      proc.onLine((line) => {
        const start = /^(point \d+\/\d+) .* started/.exec(line);
        if (start) {
          if (victim && start[1] === victim.point && proc !== victim.proc && recoveredSeconds === null) recoveredSeconds = (Date.now() - victim.at) / 1000;
          current.set(proc, start[1]);
        }
        if (!victim && /epoch +3\/\d+/.test(line) && current.has(proc)) {
          victim = { proc, point: current.get(proc) as string, at: Date.now() };
          say(`kill -9 ${proc.name} (pid ${proc.child.pid}) in the middle of its ${victim.point}`);
          proc.child.kill('SIGKILL');
        }
      });
    }
    const exits = await Promise.all(procs.map((p) => p.exited));

    const store = await openTrackingStore(db);
    const client = new Redis(redis.port, '127.0.0.1');
    try {
      const sweep = (await store.searchSweeps({}))[0];
      const runs = await store.searchRuns({ sweepId: sweep.id, limit: Number.MAX_SAFE_INTEGER });
      const completedPerPoint = Array.from({ length: sweep.size }, (_, i) => runs.filter((r) => r.sweepIndex === i && r.status === 'completed').length);
      const abandoned = runs.filter((r) => r.status === 'abandoned');
      let extractedByRuns = 0;
      let images = 0;
      for (const run of runs.filter((r) => r.status === 'completed')) {
        const metrics = await store.getMetrics(run.id);
        extractedByRuns += metrics.find((m) => m.key === 'extraction.extracted')?.value ?? 0;
        images = (await store.getSplit(run.id)).length;
      }
      const keys = await client.keys(`mlbench:${QUEUE}:extracted:*`);
      const extractedByWorkers = (await Promise.all(keys.map((k) => client.get(k)))).reduce((a, v) => a + Number(v ?? 0), 0);
      const wall = (Date.now() - started) / 1000;
      const v = victim as { proc: RunnerProcess; point: string; at: number } | null;
      const recovered = recoveredSeconds as number | null;
      const lines = [
        '',
        `workers            ${workers} processes (exit ${exits.map((e) => e.code ?? e.signal).join(', ')}); stall check ${stallSeconds}s`,
        `killed             ${v ? `${v.proc.name} with kill -9 during ${v.point}; another worker took it over ${recovered === null ? '(never!)' : `${recovered.toFixed(1)}s later`}` : 'nobody (no point reached its third epoch)'}`,
        `points completed   ${completedPerPoint.filter((n) => n > 0).length}/${sweep.size} (sweep ${sweep.id}, ${sweep.status})`,
        `completed per point ${completedPerPoint.join(' ')}`,
        `run rows           ${runs.length}: ${['completed', 'abandoned', 'failed', 'interrupted', 'running'].map((s) => `${runs.filter((r) => r.status === s).length} ${s}`).join(', ')}`,
        `abandoned attempts ${abandoned.length}${abandoned.map((r) => `\n  ${r.id} point ${(r.sweepIndex ?? 0) + 1}: ${r.error}`).join('')}`,
        `extractions        ${extractedByWorkers} feature vectors extracted by the workers for ${images} images (${images > 0 ? (extractedByWorkers / images).toFixed(2) : '-'} per image); runs recorded ${extractedByRuns} extracted`,
        `wall time          ${wall.toFixed(1)}s`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      const checks: [string, boolean][] = [
        ['every point completed exactly once', completedPerPoint.every((n) => n === 1) && sweep.status === 'completed'],
        ['a worker was killed mid-point and its point taken over', v !== null && recovered !== null],
        ['the killed attempt is recorded abandoned', v !== null && abandoned.some((r) => r.pid === v.proc.child.pid)],
        ['no run left running', runs.every((r) => r.status !== 'running')],
        ...(coldCache ? [['one extraction per image for the whole cluster', images > 0 && extractedByWorkers === images] as [string, boolean]] : []),
      ];
      process.stdout.write(`${checks.map(([what, ok]) => `${ok ? 'ok  ' : 'FAIL'}               ${what}`).join('\n')}\n`);
      if (!checks.every(([, ok]) => ok)) process.exitCode = 1;
    } finally {
      client.disconnect();
      await store.close();
    }
  } finally {
    await Promise.all([redis.stop(), pg.stop()]);
    if (!process.argv.includes('--keep')) await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
