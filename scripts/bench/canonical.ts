/** The canonical experiment run as a child process: cold, warm, through nx, and where the warm seconds go. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanDataset } from '@mlbench/data';
import { FeatureCache } from '@mlbench/experiment/src/feature-cache';
import { finalMetrics, openSqliteStore } from '@mlbench/tracking';
import { CONFIG, PHOTOS, ROOT, SHARED, engineOptions, median, round, type Engine } from './common';

export interface CanonicalRun {
  seconds: number;
  peakRssMb: number | null;
  extractPerSecond: number | null;
  testAccuracy: number | null;
  /** Recorded timings of the run (seconds): extraction, head training, label audit. */
  timings: { extraction: number | null; train: number | null; audit: number | null };
  /** The run read its label audit from the audit cache (its summary says so). */
  auditCached: boolean;
  /** 1-minute load average when the run started. */
  loadAverage: number;
}

/**
 * Runs the canonical experiment as a child process: wall seconds and peak RSS (GNU time when
 * present). `via: 'node'` starts what the runner's nx target runs (`node --import tsx main.ts`);
 * `via: 'nx'` the README's command (`npx nx run runner -- --config ...`).
 */
export async function canonicalRun(dbFile: string, cacheDir: string, engine: Engine | 'auto', via: 'node' | 'nx' = 'node'): Promise<CanonicalRun> {
  let config = CONFIG;
  if (engine !== 'auto') {
    // A temporary copy with the engine set; the shared paths made absolute so it can live in tmp.
    config = path.join(path.dirname(dbFile), `canonical-${engine}.yaml`);
    const text = fs.readFileSync(CONFIG, 'utf8').replaceAll('../../shared/', `${SHARED}/`);
    const { engine: name, precision } = engineOptions(engine);
    fs.writeFileSync(config, text.replace(/\n    batchSize: 32/, `$&\n    engine: ${name}${precision ? `\n    precision: ${precision}` : ''}`));
  }
  try {
    const hasTime = fs.existsSync('/usr/bin/time');
    const loadAverage = round(os.loadavg()[0], 2);
    const runnerArgs = ['--config', config, '--db', dbFile, '--cache-dir', cacheDir];
    const [command, ...args] =
      via === 'nx'
        ? ['npx', 'nx', 'run', 'runner', '--', ...runnerArgs]
        : [process.execPath, '--import', 'tsx', path.join(ROOT, 'apps/runner/src/main.ts'), ...runnerArgs];
    const start = performance.now();
    const r = hasTime
      ? spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', command, ...args], { cwd: ROOT, encoding: 'utf8' })
      : spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
    const seconds = (performance.now() - start) / 1000;
    if (r.status !== 0) throw new Error(`canonical run failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    const rss = /maxrss_kb=(\d+)/.exec(r.stderr ?? '');
    const rate = /\(([\d.]+) images\/s\)/.exec(r.stdout);
    // "test accuracy 88.84%  (653/735)": the exact fraction when printed.
    const acc = /test accuracy ([\d.]+)%(?:\s+\((\d+)\/(\d+)\))?/.exec(r.stdout);
    const testAccuracy = acc ? (acc[2] ? Number(acc[2]) / Number(acc[3]) : Number(acc[1]) / 100) : null;
    return {
      seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : null, extractPerSecond: rate ? Number(rate[1]) : null, testAccuracy, timings: await recordedTimings(dbFile),
      auditCached: /label audit .*from the audit cache/.test(r.stdout), loadAverage,
    };
  } finally {
    if (config !== CONFIG) fs.rmSync(config, { force: true });
  }
}

/** time.extraction_seconds, time.train_seconds and audit.seconds of the newest run in `dbFile`. */
async function recordedTimings(dbFile: string): Promise<CanonicalRun['timings']> {
  const store = await openSqliteStore(dbFile);
  try {
    const [newest] = await store.searchRuns();
    const m = finalMetrics(await store.getMetrics(newest.id));
    return { extraction: m['time.extraction_seconds'] ?? null, train: m['time.train_seconds'] ?? null, audit: m['audit.seconds'] ?? null };
  } finally {
    await store.close();
  }
}

/** Wall seconds of a child process (its output discarded). */
function wallSeconds(command: string, args: string[]): number {
  const start = performance.now();
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status})`);
  return (performance.now() - start) / 1000;
}

/**
 * Where the warm canonical command's seconds go, each part measured in this run: process start
 * (`node -e 0`), nx (the nx command minus the same run started directly), module loading and
 * transpilation (`main.ts --help` minus process start), scanning and hashing the photos and reading
 * every cached feature vector (timed here, in-process, on the same cache), the label audit (recorded
 * by the run: with the audit read from its cache, the read; computed, its folds, with the head's
 * training alongside on the calling thread), the head's training, and the rest (split, evaluation,
 * bootstrap, the store).
 */
export async function warmBreakdown(direct: CanonicalRun, nx: CanonicalRun, cacheDir: string): Promise<Record<string, number>> {
  const processStart = median([0, 1, 2].map(() => wallSeconds(process.execPath, ['-e', '0'])));
  const startup = median([0, 1, 2].map(() => wallSeconds(process.execPath, ['--import', 'tsx', path.join(ROOT, 'apps/runner/src/main.ts'), '--help'])));
  let t = performance.now();
  const scan = await scanDataset(PHOTOS);
  const scanSeconds = (performance.now() - t) / 1000;
  const [key] = fs.readdirSync(path.join(cacheDir, 'features'));
  const dim = JSON.parse(fs.readFileSync(path.join(cacheDir, 'features', key, 'key.json'), 'utf8')).dim as number;
  t = performance.now();
  const read = await new FeatureCache(cacheDir, key, dim).getMany(scan.images.map((i) => i.sha256));
  const readSeconds = (performance.now() - t) / 1000;
  if (read.some((v) => v === null)) throw new Error(`warm breakdown: ${cacheDir} does not hold every feature vector`);
  const parts = {
    total: nx.seconds,
    processStart,
    nx: Math.max(0, nx.seconds - direct.seconds),
    modules: Math.max(0, startup - processStart),
    scan: scanSeconds,
    cacheRead: readSeconds,
    audit: direct.timings.audit ?? 0,
    train: direct.timings.train ?? 0,
    auditCached: direct.auditCached ? 1 : 0,
  };
  // A computed audit's seconds span the head's training; a cached one's do not.
  const work = parts.audit + (direct.auditCached ? parts.train : 0);
  const rest = direct.seconds - parts.processStart - parts.modules - parts.scan - parts.cacheRead - work;
  return Object.fromEntries(Object.entries({ ...parts, rest }).map(([k, v]) => [k, round(v, 2)]));
}

/** One line of the warm breakdown (the figures of `warmBreakdown`). */
export function formatBreakdown(b: Record<string, number>): string {
  const audit = b.auditCached ? `audit read from its cache ${b.audit} + training ${b.train}` : `audit with training alongside ${b.audit} (of which training ${b.train})`;
  return `${b.total} s = process start ${b.processStart} + nx ${b.nx} + modules/transpile ${b.modules} + scan/hash ${b.scan} + cache read ${b.cacheRead} + ${audit} + rest ${b.rest}`;
}

/**
 * The warm canonical command alone, on the repository's own feature and audit cache (run the
 * canonical experiment once first): `repeats` runs started directly and through nx, alternately,
 * into a temporary store, with the breakdown of the first pair. Each figure is printed with the
 * load average at its start.
 */
export async function warmRuns(repeats: number, log: (line: string) => void): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-warm-'));
  const cache = path.join(ROOT, 'results/cache');
  try {
    const db = path.join(dir, 'runs.sqlite');
    const direct: CanonicalRun[] = [];
    const viaNx: CanonicalRun[] = [];
    for (let i = 0; i < repeats; i++) {
      direct.push(await canonicalRun(db, cache, 'auto'));
      viaNx.push(await canonicalRun(db, cache, 'auto', 'nx'));
      log(`warm       run ${i + 1}/${repeats}: direct ${round(direct[i].seconds, 2)} s (load ${direct[i].loadAverage}), through nx ${round(viaNx[i].seconds, 2)} s (load ${viaNx[i].loadAverage}), audit ${direct[i].auditCached ? 'from its cache' : 'computed'}`);
    }
    if (direct.some((r) => r.timings.extraction === null || r.testAccuracy === null)) throw new Error('warm runs: a run recorded no timings');
    const breakdown = await warmBreakdown(direct[0], viaNx[0], cache);
    const summary = {
      warmSeconds: round(median(direct.map((r) => r.seconds)), 2),
      warmNxSeconds: round(median(viaNx.map((r) => r.seconds)), 2),
      loadAverages: [...direct, ...viaNx].map((r) => r.loadAverage),
      testAccuracy: direct[0].testAccuracy,
      warmBreakdown: breakdown,
      runs: { direct, viaNx },
    };
    log(`warm       median direct ${summary.warmSeconds} s, through nx ${summary.warmNxSeconds} s (target < 6 s idle); test accuracy ${summary.testAccuracy}`);
    log(`           first \`npx nx run runner -- --config ...\` ${formatBreakdown(breakdown)}`);
    return summary;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The canonical experiment per engine, `repeats` times each: cold (empty feature cache), warm, and
 * warm through nx, with the warm breakdown of the first repeat.
 */
export async function canonicalRuns(engines: Engine[], repeats: number, log: (line: string) => void): Promise<Record<string, unknown>> {
  const canonical: Record<string, unknown> = {};
  for (const engine of engines) {
    const cold: CanonicalRun[] = [];
    const warm: CanonicalRun[] = [];
    const warmNx: CanonicalRun[] = [];
    let breakdown: Record<string, number> | null = null;
    for (let i = 0; i < repeats; i++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-canonical-'));
      try {
        const db = path.join(dir, 'runs.sqlite');
        const cache = path.join(dir, 'cache');
        cold.push(await canonicalRun(db, cache, engine));
        warm.push(await canonicalRun(db, cache, engine));
        warmNx.push(await canonicalRun(db, cache, engine, 'nx'));
        if (i === 0) breakdown = await warmBreakdown(warm[0], warmNx[0], cache);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    // The cold run against its own extraction, training and audit (recorded by that run).
    const coldRatios = cold.map((r) => r.seconds / ((r.timings.extraction ?? 0) + (r.timings.train ?? 0) + (r.timings.audit ?? 0)));
    const summary = {
      coldSeconds: round(median(cold.map((r) => r.seconds))),
      coldOverWork: round(median(coldRatios), 3),
      warmSeconds: round(median(warm.map((r) => r.seconds))),
      warmNxSeconds: round(median(warmNx.map((r) => r.seconds))),
      warmBreakdown: breakdown,
      coldExtractImagesPerSecond: round(median(cold.map((r) => r.extractPerSecond ?? 0))),
      peakRssMb: round(Math.max(...[...cold, ...warm].map((r) => r.peakRssMb ?? 0))),
      testAccuracy: cold[0].testAccuracy,
      runs: { cold, warm, warmNx },
    };
    canonical[engine] = summary;
    log(
      `canonical  ${engine}: cold ${summary.coldSeconds} s (extraction ${summary.coldExtractImagesPerSecond} images/s), warm ${summary.warmSeconds} s, ` +
        `peak RSS ${summary.peakRssMb} MB, test accuracy ${summary.testAccuracy === null ? "-" : `${(100 * summary.testAccuracy).toFixed(2)}% (${summary.testAccuracy})`}`,
    );
    const c = cold[0].timings;
    log(
      `           cold run / (its extraction + training + audit) = ${summary.coldOverWork}x (target <= 1.2x; first run: ${round(cold[0].seconds)} s / ` +
        `(${round(c.extraction ?? 0)} + ${round(c.train ?? 0)} + ${round(c.audit ?? 0)}) s)`,
    );
    if (breakdown) log(`           warm \`npx nx run runner -- --config ...\` ${summary.warmNxSeconds} s (target < 6 s idle); first: ${formatBreakdown(breakdown)}`);
  }
  return canonical;
}
