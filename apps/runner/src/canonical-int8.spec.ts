import * as path from 'node:path';
import { openSqliteStore } from '@mlbench/tracking';
import { EXIT, runCli } from './cli';
import { REPO_ROOT, captureIo, finalMetrics, useTempDir } from './test-support';

/**
 * The canonical experiment on int8 features (`precision: int8`: the published uint8 MobileNetV2
 * run as quantized on ONNX Runtime). Cold on a fresh clone (one more extraction of the 3670
 * photos), seconds afterwards: the int8 features have their own feature-cache key.
 */
jest.setTimeout(40 * 60_000);

const CONFIG = path.join(REPO_ROOT, 'experiments/flowers-mobilenetv2-int8.yaml');
const temp = useTempDir('canonical-int8-');

it('the canonical experiment on int8 features stays at or above 87% test accuracy, recorded as int8', async () => {
  const db = path.join(temp.path, 'runs.sqlite');
  const io = captureIo();
  expect(await runCli(['--config', CONFIG, '--db', db, '--cache-dir', path.join(REPO_ROOT, 'results/cache')], io)).toBe(EXIT.ok);
  expect(io.stdout.join('\n')).toMatch(/engine +onnx \S+ \(cpu, \d+ threads?, int8\) extracts the features/);
  const store = await openSqliteStore(db);
  try {
    const [run] = await store.searchRuns({ name: 'flowers-mobilenetv2-int8' });
    const extractor = await store.getExtractor(run.id);
    expect(extractor).toMatchObject({ engine: 'onnx', precision: 'int8' });
    const metrics = finalMetrics(await store.getMetrics(run.id));
    console.log(`canonical int8 run ${run.id}: test accuracy ${metrics['test.accuracy']} (float32: 0.8884353741496599), macro-F1 ${metrics['test.macro_f1']}`);
    expect(metrics['test.count']).toBe(735);
    expect(metrics['test.accuracy']).toBeGreaterThanOrEqual(0.87);
    expect(metrics['test.macro_f1']).toBeGreaterThanOrEqual(0.86);
  } finally {
    await store.close();
  }
});
