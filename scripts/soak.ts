/**
 * Soak test: many small runs, several at once, against one tracking database.
 *
 *   npm run soak                          # 50 runs, 8 concurrent
 *   npm run soak -- --runs 20 --concurrency 4 --keep
 *   npm run soak -- --db postgresql://user@host/db   # a shared PostgreSQL store (counts this soak's runs only)
 *
 * Each run is a real runner process (`node --import tsx apps/runner/src/main.ts`) on a small
 * generated dataset and the small MobileNetV1 0.5/160 from ../shared/models. Prints the runs
 * recorded (by status), failures, every run's row counts, and the store's integrity check. Exits 1 if
 * anything is off.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { displayLocation, openTrackingStore } from '@mlbench/tracking';
import { METRIC_KEYS } from '@mlbench/experiment/results';
import { positiveIntOption } from './positive-int-option';

const REPO = path.resolve(__dirname, '..');
const MODEL = path.resolve(REPO, '../shared/models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');
const CLASSES = ['amber', 'cobalt', 'jade'];
const PER_CLASS = 20;

function runOnce(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'apps/runner/src/main.ts'), ...args], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function main(): Promise<void> {
  const runs = positiveIntOption('runs', 50);
  const concurrency = positiveIntOption('concurrency', 8);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlbench-soak-'));
  const at = process.argv.indexOf('--db');
  const db = at >= 0 ? process.argv[at + 1] : path.join(dir, 'runs.sqlite');
  // Names unique to this soak, so a shared store's other runs are not counted.
  const tag = `soak${Date.now().toString(36)}`;
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: CLASSES, imagesPerClass: PER_CLASS, seed: 'soak' });
  const configs: string[] = [];
  for (let seed = 0; seed < 5; seed++) {
    const file = path.join(dir, `soak-${seed}.yaml`);
    await fs.writeFile(
      file,
      [
        `name: ${tag}-${seed}`, `seed: ${seed}`, 'dataset:', '  path: data', '  split: { train: 0.6, val: 0.2, test: 0.2 }',
        'preprocess:', '  size: [160, 160]', 'model:', '  extractor:', `    source: ${MODEL}`, '    batchSize: 16',
        'train:', '  learningRate: 0.01', '  epochs: 5', '  batchSize: 8', '',
      ].join('\n'),
    );
    configs.push(file);
  }

  console.log(`soak: ${runs} runs, ${concurrency} at a time, database ${displayLocation(db)}`);
  const started = Date.now();
  const failures: { run: number; code: number | null; stderr: string }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runs) {
      const i = next++;
      const result = await runOnce(['--config', configs[i % configs.length], '--db', db, '--cache-dir', path.join(dir, 'cache')]);
      if (result.code !== 0) failures.push({ run: i, ...result });
      process.stdout.write(result.code === 0 ? '.' : 'F');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write('\n');

  const store = await openTrackingStore(db);
  let incomplete = 0;
  let integrity: string[];
  const byStatus: Record<string, number> = {};
  let recorded = 0;
  try {
    const all = (await store.searchRuns({ limit: 100_000 })).filter((r) => r.name.startsWith(`${tag}-`));
    recorded = all.length;
    for (const run of all) {
      byStatus[run.status] = (byStatus[run.status] ?? 0) + 1;
      if (run.status !== 'completed') continue;
      const [split, predictions, metrics] = await Promise.all([store.getSplit(run.id), store.getPredictions(run.id), store.getMetrics(run.id)]);
      const expectedPredictions = CLASSES.length * PER_CLASS * 0.4;
      if (split.length !== CLASSES.length * PER_CLASS || predictions.length !== expectedPredictions || !metrics.some((m) => m.key === METRIC_KEYS.testAccuracy)) incomplete++;
    }
    integrity = await store.checkIntegrity();
  } finally {
    await store.close();
  }

  console.log(`runs started      ${runs} (${seconds.toFixed(1)} s, ${(runs / seconds).toFixed(2)} runs/s)`);
  console.log(`runs recorded     ${recorded} (${Object.entries(byStatus).map(([s, n]) => `${s} ${n}`).join(', ')})`);
  console.log(`failures          ${failures.length} process(es) exited non-zero`);
  console.log(`incomplete rows   ${incomplete} completed run(s) missing split members, predictions or metrics`);
  console.log(`integrity_check   ${integrity.join('; ')}`);
  for (const f of failures.slice(0, 5)) console.log(`  run ${f.run} exited ${f.code}: ${f.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  if (process.argv.includes('--keep')) console.log(`kept ${dir}`);
  else await fs.rm(dir, { recursive: true, force: true });
  const ok = failures.length === 0 && recorded === runs && byStatus.completed === runs && incomplete === 0 && integrity.join() === 'ok';
  process.exitCode = ok ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
