import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';
import { writeSyntheticDataset } from '@mlbench/data';
import { withStore } from '@mlbench/tracking/src/testing';
import { EXIT, runCli } from '../cli';
import { SHARED, captureIo } from '../test-support';
import { tinyConfig } from '@mlbench/experiment/src/testing';

jest.setTimeout(120_000);

let dir: string;
let db: string;
let cacheDir: string;
const model = path.join(SHARED, 'models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');
const config = (name: string, learningRate: number, epochs: number): string =>
  tinyConfig({ name, seed: 11, split: [0.5, 0.2, 0.3], source: model, train: { learningRate, epochs, batchSize: 8 } });

const cli = async (...args: string[]): Promise<{ code: number; out: string }> => {
  const io = captureIo();
  const code = await runCli([...args, '--db', db, '--cache-dir', cacheDir], io);
  return { code, out: [...io.stdout, ...io.stderr].join('\n') };
};

const runIdOf = (name: string, which: 'newest' | 'oldest' = 'newest'): Promise<string> =>
  withStore(db, async (store) => {
    const runs = await store.searchRuns({ name });
    return runs[which === 'newest' ? 0 : runs.length - 1].id;
  });

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'repro-'));
  db = path.join(dir, 'runs.sqlite');
  cacheDir = path.join(dir, 'cache');
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade', 'rose'], imagesPerClass: 10, seed: 'repro' });
  await fs.writeFile(path.join(dir, 'good.yaml'), config('good', 0.01, 10));
  await fs.writeFile(path.join(dir, 'worse.yaml'), config('worse', 0.00001, 1));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('reproduce', () => {
  it('exits 0 when a recorded run is reproduced exactly', async () => {
    expect((await cli('--config', path.join(dir, 'good.yaml'))).code).toBe(EXIT.ok);
    const runId = await runIdOf('good');
    const { code, out } = await cli('reproduce', runId);
    expect(out).toContain(`reproduces ${runId}`);
    expect(code).toBe(EXIT.ok);
  });

  it('exits non-zero with the diff when the stored config was changed', async () => {
    const runId = await runIdOf('good');
    // Test fixture: tamper with one hyperparameter of the recorded config.
    const raw = new sqlite3.Database(db);
    await new Promise<void>((resolve, reject) =>
      raw.run(
        `UPDATE runs SET resolved_config = json_set(resolved_config, '$.train.learningRate', 0.2) WHERE id = ?`,
        [runId],
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    await new Promise<void>((resolve) => raw.close(() => resolve()));
    const { code, out } = await cli('reproduce', runId);
    expect(code).toBe(EXIT.failed);
    expect(out).toContain(`does not reproduce ${runId}`);
    expect(out).toMatch(/- (train|val|test)\.(accuracy|log_loss|macro_f1)[^:]*: recorded [\d.e-]+, now [\d.e-]+/);
  });

  it('exits 1 and says the record was edited when its stored metrics no longer match its predictions', async () => {
    // A fresh run of the untampered config, so the other tests' runs stay as they are.
    expect((await cli('--config', path.join(dir, 'good.yaml'))).code).toBe(EXIT.ok);
    const runId = await runIdOf('good');
    // Test fixture: someone "improves" the logged test accuracy.
    const raw = new sqlite3.Database(db);
    await new Promise<void>((resolve, reject) =>
      raw.run(`UPDATE metrics SET value = 0.99 WHERE run_id = ? AND key = 'test.accuracy' AND step IS NULL`, [runId], (error) => (error ? reject(error) : resolve())),
    );
    await new Promise<void>((resolve) => raw.close(() => resolve()));
    const { code, out } = await cli('reproduce', runId);
    expect(out).toMatch(new RegExp(`MISMATCH +run ${runId}: 1 of \\d+ final metrics recomputed from the stored predictions differ from the logged values`));
    expect(out).toMatch(/- test\.accuracy: logged 0\.99, recomputed [\d.]+/);
    expect(out).toContain(`NOT VERIFIED: the record of run ${runId} was edited or damaged: its logged metrics do not match its own stored predictions`);
    expect(out).toMatch(/fresh run [0-9a-f]{32} differs from the record in:\n {2}- test\.accuracy: recorded 0\.99, now [\d.]+/);
    expect(out).not.toContain('DIFFERENT:');
    expect(code).toBe(EXIT.failed);
  });

  it('names an unknown run id and how to list runs', async () => {
    const { code, out } = await cli('reproduce', 'nope');
    expect(code).toBe(EXIT.badInput);
    expect(out).toMatch(/run nope is not in .*runs list/);
  });
});

describe('gate', () => {
  it('passes a good run against thresholds and fails a deliberately worse run against it', async () => {
    // The first run of the untampered config (later ones reproduced the tampered record).
    const good = await runIdOf('good', 'oldest');
    const pass = await cli('gate', good, '--min', 'test.accuracy=0.8', '--max', 'test.log_loss=5');
    expect(pass.out).toMatch(/PASS +test\.accuracy/);
    expect(pass.code).toBe(EXIT.ok);

    const worse = await cli('gate', '--config', path.join(dir, 'worse.yaml'), '--baseline', good, '--max-drop', 'test.accuracy=0.05');
    expect(worse.out).toMatch(/FAIL +test\.accuracy +max-drop 0\.05/);
    expect(worse.out).toContain('gate FAILED: regression');
    expect(worse.code).toBe(EXIT.failed);
  });

  it('rejects a malformed rule with exit code 2', async () => {
    const { code, out } = await cli('gate', 'x', '--min', 'test.accuracy>0.8');
    expect(code).toBe(EXIT.badInput);
    expect(out).toContain('expected metric=number');
  });
});
