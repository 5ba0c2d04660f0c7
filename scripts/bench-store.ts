/**
 * Scale benchmark of the tracking store, on SQLite and on PostgreSQL (a throwaway server started
 * by the test harness): prints measured figures, it is not a test.
 *
 *   npm run bench:store                                  # 1000 runs, both engines
 *   npm run bench:store -- --runs 200 --engines sqlite
 *   npm run bench:store -- --from results/runs.sqlite    # copies of the completed runs of a store
 *
 * The runs are imports of run exports shaped like the canonical sweep's: by default generated here
 * (3670 images, 5 splits as from 5 seeds, val + test predictions with 5-class probabilities, 10
 * epochs of metrics), or copies of the completed runs of `--from` with fresh ids and seeds.
 * Figures: bytes per further run with its split already stored, then bytes of single runs (a new
 * split; a new split and new audit verdicts, as a canonical sweep run over a new seed; the same
 * again; new verdicts on a stored split), each with what it added per table and index (SQLite
 * dbstat, PostgreSQL pg_table_size), import time per run, `runs list` (in-process and as a CLI
 * process) and the report (full, then incremental after one more run) at the final size.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { Database as SqliteDriver } from 'sqlite3';
import {
  openTrackingStore,
  RUN_EXPORT_FORMAT,
  RUN_EXPORT_VERSION,
  type AuditResult,
  type RunExport,
  type SplitMember,
  type SplitName,
  type TrackingStore,
} from '@mlbench/tracking';
import { prng, startPostgres, type PostgresServer } from '@mlbench/tracking/src/testing';
import { generateReport } from '../apps/report/src/generate';
import { formatRunList } from '../apps/runner/src/format';

const REPO = path.resolve(__dirname, '..');
const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const PER_CLASS = [633, 898, 641, 699, 799]; // tf_flowers: 3670 images

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** A run export shaped like one run of the canonical sweep, with its split drawn from `splitSeed`. */
function syntheticExport(splitSeed: number, runSeed: number): RunExport {
  const rand = prng(splitSeed);
  const split: SplitMember[] = [];
  CLASSES.forEach((cls, label) => {
    const order = Array.from({ length: PER_CLASS[label] }, (_, i) => i).sort(() => rand() - 0.5);
    order.forEach((i, rankInClass) => {
      const f = rankInClass / PER_CLASS[label];
      const s: SplitName = f < 0.7 ? 'train' : f < 0.8 ? 'val' : 'test';
      const id = (label * 10000 + i).toString(16);
      split.push({ path: `${cls}/${id.padStart(8, '0')}_${(i * 7919).toString(36)}_n.jpg`, sha256: (label * 10000 + i).toString(16).padStart(64, 'e'), label, split: s });
    });
  });
  split.sort((a, b) => (a.path < b.path ? -1 : 1));
  const r = prng(runSeed * 7 + 1);
  const predictions = split
    .filter((m) => m.split !== 'train')
    .map((m) => {
      const raw = CLASSES.map((_, c) => r() + (c === m.label ? 3 : 0));
      const sum = raw.reduce((a, b) => a + b, 0);
      const probabilities = raw.map((x) => x / sum);
      return { path: m.path, split: m.split, trueLabel: m.label, predictedLabel: probabilities.indexOf(Math.max(...probabilities)), probabilities };
    });
  const metrics: RunExport['metrics'] = [];
  for (let epoch = 0; epoch < 10; epoch++) {
    for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) metrics.push({ key, value: r(), step: epoch });
  }
  for (const s of ['train', 'val', 'test']) {
    for (const key of ['accuracy', 'macro_f1', 'loss', 'accuracy_ci_low', 'accuracy_ci_high', 'macro_f1_ci_low', 'macro_f1_ci_high']) metrics.push({ key: `${s}_${key}`, value: r(), step: null });
    for (const cls of CLASSES) for (const key of ['precision', 'recall', 'f1']) metrics.push({ key: `${s}_${key}_${cls}`, value: r(), step: null });
  }
  const count = (s?: SplitName) => Object.fromEntries(CLASSES.map((c, l) => [c, split.filter((m) => m.label === l && (s === undefined || m.split === s)).length]));
  const configText = `name: flowers-mobilenetv2-sweep\nseed: ${runSeed}\n` + '# '.padEnd(1400, 'x') + '\n';
  return {
    format: RUN_EXPORT_FORMAT,
    version: RUN_EXPORT_VERSION,
    schemaVersion: 0,
    exportedAt: new Date().toISOString(),
    run: {
      id: '',
      name: 'flowers-mobilenetv2-sweep',
      status: 'completed',
      startTime: '',
      endTime: '',
      durationMs: 31_000,
      seed: runSeed,
      configHash: 'c'.repeat(64),
      configText,
      resolvedConfig: { name: 'flowers-mobilenetv2-sweep', seed: runSeed, dataset: { path: '/data/flower_photos', split: { train: 0.7, val: 0.1, test: 0.2 } }, train: { learningRate: 0.001, epochs: 10, batchSize: 32 } },
      error: null,
      environment: { gitCommit: 'deadbeef'.repeat(5), gitDirty: 'false', node: process.version, backend: 'tfjs-node', platform: 'linux x64', cpus: '2' },
      pid: 4242,
      hostname: 'bench-host',
    },
    params: Array.from({ length: 24 }, (_, i) => ({ key: `param.${i}`, value: `${i * 0.001}` })),
    metrics,
    dataset: {
      path: '/data/flower_photos',
      fingerprint: 'f'.repeat(64),
      classes: CLASSES,
      classCounts: count(),
      splitCounts: { train: count('train'), val: count('val'), test: count('test') },
      splitHash: `${splitSeed}`.padStart(64, '0'),
    },
    extractor: { source: 'mobilenet_v2_1.0_224_quant.tflite', format: 'tflite', sha256: 'b'.repeat(64), featureDim: '1280', featureLayer: 'auto' },
    split,
    predictions,
    skippedFiles: [],
  };
}

/** The label audit of the canonical config: one verdict per image, 5-fold out-of-fold probabilities. */
function withAudit(data: RunExport, seed: number): RunExport {
  const r = prng(seed);
  let issues = 0;
  const audit = data.split.map((m, i): AuditResult => {
    const flag = i % 40 === 0 ? 'label_issue' : 'ok';
    return {
      path: m.path, givenLabel: m.label, suggestedLabel: flag === 'label_issue' ? (m.label + 1) % 5 : null, selfConfidence: r(), score: r() - 0.5,
      rank: flag === 'label_issue' ? ++issues : null, flag, fold: i % 5, probabilities: CLASSES.map(() => r()),
    };
  });
  return { ...data, audit };
}

function copyOf(template: RunExport, k: number): RunExport {
  const start = new Date(Date.UTC(2026, 0, 1) + k * 60_000);
  return {
    ...template,
    // A run is one seed: its config's seed changes with it (or the leaderboards leave it out).
    run: { ...template.run, id: randomBytes(16).toString('hex'), seed: 1000 + k, resolvedConfig: { ...(template.run.resolvedConfig as Record<string, unknown>), seed: 1000 + k }, startTime: start.toISOString(), endTime: new Date(start.getTime() + 31_000).toISOString() },
  };
}

async function templatesFrom(db: string): Promise<RunExport[]> {
  const store = await openTrackingStore(db, { readOnly: true });
  try {
    const runs = await store.searchRuns({ status: 'completed', limit: 1000 });
    return Promise.all(runs.map((r) => store.exportRun(r.id)));
  } finally {
    await store.close();
  }
}

interface Engine {
  name: string;
  location: string;
  bytes(): Promise<number>;
  /** Bytes per table and index (SQLite: dbstat pages; PostgreSQL: pg_table_size, TOAST included). */
  objects(): Promise<Map<string, number>>;
}

/** What a step added, per table and index, largest first (objects that grew by 1 KB or more). */
function breakdown(before: Map<string, number>, after: Map<string, number>, runs = 1): string {
  const grown = [...after].map(([name, bytes]): [string, number] => [name, (bytes - (before.get(name) ?? 0)) / runs]).filter(([, b]) => Math.abs(b) >= 1024);
  return grown.sort((a, b) => b[1] - a[1]).map(([name, b]) => `${name} ${kb(b)}`).join(', ') || 'nothing over 1 KB';
}

function sqliteQuery<T>(file: string, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new SqliteDriver(file, (err) => {
      if (err) return reject(err);
      db.all<T>(sql, (e, rows) => db.close(() => (e ? reject(e) : resolve(rows))));
    });
  });
}

async function sqliteEngine(dir: string): Promise<Engine> {
  const file = path.join(dir, 'bench.sqlite');
  return {
    name: 'SQLite',
    location: file,
    // Pages in use (the WAL's included), not counting free pages.
    async bytes() {
      const [row] = await sqliteQuery<{ used: number }>(file, 'SELECT (page_count - freelist_count) * page_size AS used FROM pragma_page_count, pragma_freelist_count, pragma_page_size');
      return row.used;
    },
    async objects() {
      const rows = await sqliteQuery<{ name: string; bytes: number }>(file, 'SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name');
      return new Map(rows.map((r) => [r.name, r.bytes]));
    },
  };
}

async function postgresEngine(server: PostgresServer): Promise<Engine> {
  const url = await server.createDatabase();
  return {
    name: 'PostgreSQL',
    location: url,
    async bytes() {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('CHECKPOINT').catch(() => undefined);
        const { rows } = await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size');
        return Number(rows[0].size);
      } finally {
        await client.end();
      }
    },
    async objects() {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string; bytes: string }>(
          "SELECT relname AS name, pg_table_size(oid) AS bytes FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i')",
        );
        return new Map(rows.map((r) => [r.name, Number(r.bytes)]));
      } finally {
        await client.end();
      }
    },
  };
}

async function bench(engine: Engine, templates: RunExport[], runs: number, dir: string): Promise<void> {
  console.log(`\n== ${engine.name}: ${runs} runs (${templates.length} templates)`);
  const store: TrackingStore = await openTrackingStore(engine.location);
  let k = 0;
  const importOne = async (data: RunExport) => {
    const result = await store.importRun(data);
    if (result.status !== 'imported') throw new Error(`run ${data.run.id} was ${result.status}`);
  };
  try {
    // Warm-up: every template once (each split stored once).
    for (const t of templates) await importOne(copyOf(t, k++));
    const warm = await engine.bytes();
    const warmObjects = await engine.objects();
    const [, importMs] = await timed(async () => {
      while (k < runs) await importOne(copyOf(templates[k % templates.length], k++));
    });
    const imported = runs - templates.length;
    const full = await engine.bytes();
    console.log(`import: ${imported} runs in ${seconds(importMs)} = ${(importMs / imported).toFixed(1)} ms per run; ${runs} runs would take ${seconds((importMs / imported) * runs)} (target < 120 s)`);
    console.log(`bytes per further run, split already stored: ${kb((full - warm) / imported)} (target <= 400 KB); store at ${runs} runs: ${(full / 2 ** 20).toFixed(1)} MB`);
    console.log(`  per table and index: ${breakdown(warmObjects, await engine.objects(), imported)}`);

    /** Imports one run and prints the bytes it added, in total and per table and index. */
    const measureOne = async (what: string, data: RunExport): Promise<void> => {
      const [before, objects] = [await engine.bytes(), await engine.objects()];
      await importOne(copyOf(data, k++));
      console.log(`bytes of a run, ${what}: ${kb((await engine.bytes()) - before)}`);
      console.log(`  per table and index: ${breakdown(objects, await engine.objects())}`);
    };
    await measureOne('new split (no audit)', syntheticExport(9999, 9999));
    // The canonical config audits labels: a sweep's new seed is a new split and new verdicts.
    const audited = withAudit(syntheticExport(42, 42), 42);
    await measureOne('new split and new audit verdicts (3670), as a canonical sweep run over a new seed (target <= 400 KB)', audited);
    await measureOne('same split and same audit verdicts again', audited);
    await measureOne('split stored, new audit verdicts', withAudit(syntheticExport(42, 43), 43));

    for (const limit of [50, 1000]) {
      const [text, listMs] = await timed(async () => {
        const s = await openTrackingStore(engine.location, { readOnly: true });
        try {
          return formatRunList(await s.searchRuns({ limit }));
        } finally {
          await s.close();
        }
      });
      console.log(`runs list --limit ${limit} (open, query, format; in-process): ${seconds(listMs)} (${text.split('\n').length} lines; target < 2 s)`);
    }
    const [, cliMs] = await timed(() =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO, 'apps/runner/src/main.ts'), 'runs', 'list', '--db', engine.location], { cwd: REPO, maxBuffer: 1 << 26 }),
    );
    console.log(`runs list as a CLI process (node + tsx start-up included): ${seconds(cliMs)}`);

    const out = path.join(dir, `report-${engine.name}`);
    const [first, fullMs] = await timed(() => generateReport({ store, outDir: out }));
    console.log(`report, first (every page): ${seconds(fullMs)} (${first.runPages.written} run pages)`);
    await importOne(copyOf(templates[0], k++));
    const [again, incMs] = await timed(() => generateReport({ store, outDir: out }));
    console.log(`report, incremental after one more run: ${seconds(incMs)} (${again.runPages.written} run page written, ${again.runPages.upToDate} up to date; target < 2 s)`);
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const runs = Number(option('runs', '1000'));
  const engines = option('engines', 'sqlite,postgres').split(',');
  const from = option('from', '');
  const templates = from ? await templatesFrom(from) : [1, 2, 3, 4, 5].flatMap((seed) => [syntheticExport(seed, seed), syntheticExport(seed, seed + 100)]);
  if (templates.length === 0) throw new Error(`${from} has no completed runs`);
  console.log(`bench:store on ${os.cpus().length} cpus (figures are noisy on a shared machine)`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlbench-bench-store-'));
  let server: PostgresServer | null = null;
  try {
    if (engines.includes('sqlite')) await bench(await sqliteEngine(dir), templates, runs, dir);
    if (engines.includes('postgres')) {
      server = await startPostgres();
      await bench(await postgresEngine(server), templates, runs, dir);
    }
  } finally {
    await server?.stop();
    if (!process.env.BENCH_KEEP) await fs.rm(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
