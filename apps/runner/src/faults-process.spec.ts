import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { openSqliteStore, type Run, type TrackingStore } from '@mlbench/tracking';
import { EXIT } from './cli';
import { SHARED, spawnCli } from './test-support';

// Interruptions, crashes, concurrent writers and a full disk, on real runner processes.
jest.setTimeout(120_000);

const MODEL = path.join(SHARED, 'models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');
const IMAGES = 300;
let dir: string;
let db: string;
let cacheDir: string;

const config = (name: string, epochs: number, batchSize = 1): string => `
name: ${name}
seed: 5
dataset:
  path: data
  split: { train: 0.6, val: 0.2, test: 0.2 }
preprocess:
  size: [160, 160]
model:
  extractor:
    source: ${MODEL}
    batchSize: ${batchSize}
train:
  learningRate: 0.01
  epochs: ${epochs}
  batchSize: 8
`;

async function writeConfig(name: string, epochs: number, batchSize = 1): Promise<string> {
  const file = path.join(dir, `${name}.yaml`);
  await fs.writeFile(file, config(name, epochs, batchSize));
  return file;
}

async function withStore<T>(fn: (store: TrackingStore) => Promise<T>, file = db): Promise<T> {
  const store = await openSqliteStore(file);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const onlyRun = (name: string): Promise<Run> =>
  withStore(async (s) => {
    const runs = await s.searchRuns({ name });
    expect(runs).toHaveLength(1);
    return runs[0];
  });

/** Every feature-cache file: [path, size]. */
async function cacheFiles(root: string): Promise<[string, number][]> {
  const out: [string, number][] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out.push([full, (await fs.stat(full)).size]);
    }
  };
  await walk(path.join(root, 'features'));
  return out;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'runner-process-'));
  db = path.join(dir, 'runs.sqlite');
  cacheDir = path.join(dir, 'cache');
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: IMAGES / 3, width: 32, height: 24, seed: 'proc' });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('interrupted runs', () => {
  it('SIGINT during extraction: exit 130, run interrupted, only complete cache entries, the next run resumes', async () => {
    const file = await writeConfig('sigint', 3);
    const cli = spawnCli(['--config', file, '--db', db, '--cache-dir', cacheDir]);
    await cli.waitFor(/^features +\d+\/300 \(/);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toEqual({ code: EXIT.interrupted, signal: null });
    expect(cli.stderr.join('\n')).toMatch(/interrupted: interrupted by SIGINT during feature extraction/);

    const run = await onlyRun('sigint');
    expect(run.status).toBe('interrupted');
    const [, done] = /\((\d+)\/300 image features cached/.exec(run.error ?? '') ?? [];
    const cachedWhenStopped = Number(done);
    expect(cachedWhenStopped).toBeGreaterThan(0);
    expect(cachedWhenStopped).toBeLessThan(IMAGES);
    const metrics = await withStore((s) => s.getMetrics(run.id));
    expect(metrics.find((m) => m.key === 'progress.features_extracted')?.value).toBe(cachedWhenStopped);

    const files = await cacheFiles(cacheDir);
    const vectors = files.filter(([f]) => f.endsWith('.f32'));
    expect(vectors).toHaveLength(cachedWhenStopped);
    for (const [, size] of vectors) expect(size).toBe(512 * 4);
    expect(files.filter(([f]) => f.endsWith('.tmp'))).toEqual([]);

    const resumed = spawnCli(['--config', file, '--db', db, '--cache-dir', cacheDir]);
    expect(await resumed.exited).toEqual({ code: EXIT.ok, signal: null });
    expect(resumed.stdout.join('\n')).toContain(`features   ${cachedWhenStopped} cached, extracting ${IMAGES - cachedWhenStopped}`);
    const statuses = await withStore(async (s) => (await s.searchRuns({ name: 'sigint' })).map((r) => r.status));
    expect(statuses).toEqual(['completed', 'interrupted']);
  });

  it('SIGTERM during training: exit 130, run interrupted with the epochs it completed', async () => {
    const file = await writeConfig('sigterm', 100_000, 32);
    const cli = spawnCli(['--config', file, '--db', db, '--cache-dir', cacheDir]);
    await cli.waitFor(/^epoch +2\//);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: EXIT.interrupted, signal: null });
    const run = await onlyRun('sigterm');
    expect(run.status).toBe('interrupted');
    expect(run.error).toMatch(/interrupted by SIGTERM during training after \d+\/100000 epochs/);
    const curve = (await withStore((s) => s.getMetrics(run.id))).filter((m) => m.key === 'train.loss');
    expect(curve.length).toBeGreaterThanOrEqual(2);
  });

  it('kill -9: the next start marks the stale running row abandoned; the database stays sound', async () => {
    const file = await writeConfig('killed', 100_000, 32);
    const cli = spawnCli(['--config', file, '--db', db, '--cache-dir', cacheDir]);
    await cli.waitFor(/^epoch +1\//);
    cli.child.kill('SIGKILL');
    expect(await cli.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const stale = await onlyRun('killed');
    expect(stale).toMatchObject({ status: 'running', pid: cli.child.pid, hostname: os.hostname() });

    const next = spawnCli(['--config', await writeConfig('after-kill', 2, 32), '--db', db, '--cache-dir', cacheDir]);
    expect(await next.exited).toEqual({ code: EXIT.ok, signal: null });
    expect(next.stdout.join('\n')).toContain(`note       run ${stale.id} marked abandoned: its process ${cli.child.pid}`);
    const after = await onlyRun('killed');
    expect(after.status).toBe('abandoned');
    expect(after.error).toMatch(/process \d+ on .* ended without finishing the run/);
    expect(await withStore((s) => s.checkIntegrity())).toEqual(['ok']);
  });
});

describe('concurrent use', () => {
  it('4 runner processes write one database at once; every row is recorded and reads work meanwhile', async () => {
    const file = await writeConfig('concurrent', 20, 32);
    const runners = Array.from({ length: 4 }, () => spawnCli(['--config', file, '--db', db, '--cache-dir', cacheDir]));
    let reads = 0;
    let finished = false;
    const all = Promise.all(runners.map((r) => r.exited)).finally(() => (finished = true));
    // What a report does, while the runs write: list runs and read a finished run in full.
    const reader = (async () => {
      while (!finished) {
        await withStore(async (s) => {
          const runs = await s.searchRuns();
          const done = runs.find((r) => r.status === 'completed');
          if (done) await Promise.all([s.getPredictions(done.id), s.getMetrics(done.id), s.getSplit(done.id)]);
        });
        reads++;
      }
    })();
    const results = await all;
    await reader;
    for (const [i, r] of results.entries()) expect({ i, ...r, stderr: runners[i].stderr.join('\n') }).toEqual({ i, code: 0, signal: null, stderr: '' });
    expect(reads).toBeGreaterThan(0);
    await withStore(async (s) => {
      const runs = await s.searchRuns({ name: 'concurrent' });
      expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
      for (const run of runs) {
        expect(await s.getSplit(run.id)).toHaveLength(IMAGES);
        expect(await s.getPredictions(run.id)).toHaveLength(IMAGES * 0.4);
        expect((await s.getMetrics(run.id)).filter((m) => m.key === 'train.loss')).toHaveLength(20);
        expect(await s.getParams(run.id)).not.toHaveLength(0);
      }
      expect(await s.checkIntegrity()).toEqual(['ok']);
    });
  });
});

/** A tiny tmpfs (needs root with CAP_SYS_ADMIN, as in the CI container); otherwise these tests are skipped. */
function tryMount(target: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', target], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const canMount = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  const probe = path.join(os.tmpdir(), `mount-probe-${process.pid}`);
  require('node:fs').mkdirSync(probe, { recursive: true });
  const ok = tryMount(probe, '64k');
  if (ok) execFileSync('umount', [probe]);
  require('node:fs').rmdirSync(probe);
  return ok;
})();

/** Writes a filler file until the disk is full, then frees `leave` bytes of it. */
async function fillDisk(folder: string, leave: number): Promise<string> {
  const filler = path.join(folder, 'filler');
  const handle = await fs.open(filler, 'w');
  let written = 0;
  try {
    for (;;) {
      await handle.write(Buffer.alloc(4096));
      written += 4096;
    }
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    await handle.close();
  }
  await fs.truncate(filler, Math.max(0, written - leave));
  return filler;
}

(canMount ? describe : describe.skip)('a full disk (a real tmpfs)', () => {
  let small: string;
  beforeAll(async () => {
    small = path.join(dir, 'small-disk');
    await fs.mkdir(small);
    expect(tryMount(small, '8m')).toBe(true);
  });
  afterAll(() => execFileSync('umount', [small]));

  it('a full cache disk fails the run cleanly: exit 1, a message, the run marked failed, older records intact', async () => {
    const smallCache = path.join(small, 'cache');
    // Warm the small cache (model files, features), then leave 64 KiB free and extract with new settings.
    const warm = spawnCli(['--config', await writeConfig('disk-warm', 2, 32), '--db', db, '--cache-dir', smallCache]);
    expect((await warm.exited).code).toBe(EXIT.ok);
    const before = await withStore(async (s) => (await s.searchRuns()).filter((r) => r.status === 'completed').map((r) => r.id));
    const filler = await fillDisk(small, 64 * 1024);
    const file = await writeConfig('disk-full', 2, 8);
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('  size: [160, 160]', '  size: [160, 160]\n  resize: nearest'));
    const cli = spawnCli(['--config', file, '--db', db, '--cache-dir', smallCache]);
    expect((await cli.exited).code).toBe(EXIT.failed);
    const stderr = cli.stderr.join('\n');
    expect(stderr).toMatch(/cannot write the feature cache file .*small-disk\/cache\/features\/.*: no space left on device \(ENOSPC\); free disk space or pass --cache-dir/);
    expect(stderr).not.toMatch(/\n\s+at /);
    const run = await onlyRun('disk-full');
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/CacheWriteError: .*ENOSPC/);
    await withStore(async (s) => {
      for (const id of before) expect((await s.getRun(id))?.status).toBe('completed');
      expect(await s.checkIntegrity()).toEqual(['ok']);
    });
    const files = await cacheFiles(smallCache);
    expect(files.filter(([f]) => f.endsWith('.tmp'))).toEqual([]);
    for (const [f, size] of files.filter(([name]) => name.endsWith('.f32'))) expect([f, size]).toEqual([f, 512 * 4]);
    await fs.rm(filler);
    await fs.rm(smallCache, { recursive: true });
  });

  it('a full database disk fails cleanly and leaves what was recorded readable', async () => {
    const smallDb = path.join(small, 'runs.sqlite');
    const first = spawnCli(['--config', await writeConfig('small-db', 2, 32), '--db', smallDb, '--cache-dir', cacheDir]);
    expect((await first.exited).code).toBe(EXIT.ok);
    const filler = await fillDisk(small, 0);
    const second = spawnCli(['--config', await writeConfig('small-db-2', 2, 32), '--db', smallDb, '--cache-dir', cacheDir]);
    expect((await second.exited).code).toBe(EXIT.failed);
    const stderr = second.stderr.join('\n');
    // SQLITE_FULL, or SQLITE_IOERR when even the WAL index cannot grow.
    expect(stderr).toMatch(/tracking store .*small-disk\/runs\.sqlite: SQLITE_(FULL|IOERR).*free disk space/);
    expect(stderr).not.toMatch(/\n\s+at /);
    await fs.rm(filler);
    await withStore(async (s) => {
      const [kept] = await s.searchRuns({ name: 'small-db' });
      expect(kept.status).toBe('completed');
      expect(await s.getPredictions(kept.id)).toHaveLength(IMAGES * 0.4);
      expect(await s.checkIntegrity()).toEqual(['ok']);
    }, smallDb);
  });
});
