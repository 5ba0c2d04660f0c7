import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';
import { writeSyntheticDataset } from '@mlbench/data';
import { openSqliteStore } from '@mlbench/tracking';
import { withStore } from '@mlbench/tracking/src/testing';
import { EXIT, runCli } from '../cli';
import { SHARED, captureIo } from '../test-support';

/**
 * The seed-group gate end to end on a small synthetic dataset (real runs, real store): verdicts,
 * output formats, and every refusal (other data, other split fractions, too few or duplicate
 * seeds, a sweep over more than seeds, runs whose numbers were edited).
 */
jest.setTimeout(15 * 60_000);

let dir: string;
let db: string;
let cacheDir: string;
const model = path.join(SHARED, 'models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');
const config = (o: { name: string; learningRate: number; epochs: number; data?: string; split?: string; sweep?: string }): string => `
name: ${o.name}
seed: 11
dataset:
  path: ${o.data ?? 'data'}
  split: ${o.split ?? '{ train: 0.5, val: 0.2, test: 0.3 }'}
preprocess:
  size: [160, 160]
model:
  extractor:
    source: ${model}
train:
  learningRate: ${o.learningRate}
  epochs: ${o.epochs}
  batchSize: 8
${o.sweep ? `sweep:\n${o.sweep}\n` : ''}`;

const cli = async (...args: string[]): Promise<{ code: number; out: string; stdout: string }> => {
  const io = captureIo();
  const code = await runCli([...args, '--db', db, '--cache-dir', cacheDir], io);
  return { code, out: [...io.stdout, ...io.stderr].join('\n'), stdout: io.stdout.join('\n') };
};
const file = (name: string): string => path.join(dir, name);
/** The JSON verdict of a seed-group gate. */
interface SeedVerdict {
  pass: boolean;
  paired: boolean;
  seedTest: { test: string; difference: number; pValue: number };
  candidate: { seeds: number[] };
  baseline: { seeds: number[] };
}
/** `gate --config good.yaml` against the reference file `reference`, with its JSON verdict. */
const gateGood = async (reference: string): Promise<{ code: number; verdict: SeedVerdict }> => {
  const { code, stdout } = await cli('gate', '--config', file('good.yaml'), '--reference', file(reference), '--format', 'json');
  return { code, verdict: JSON.parse(stdout) as SeedVerdict };
};
/** Same config, seeds 1-3 paired by seed, cached features: every seed reproduces exactly, so the gate passes. */
const expectReproduced = ({ code, verdict }: { code: number; verdict: SeedVerdict }): void => {
  expect(verdict.candidate.seeds).toEqual([1, 2, 3]);
  expect(verdict.paired).toBe(true);
  expect(verdict.seedTest.test).toBe('paired-t');
  expect(verdict.seedTest.difference).toBe(0);
  expect(verdict.pass).toBe(true);
  expect(code).toBe(EXIT.ok);
};
const sweepIds = (): Promise<string[]> => withStore(db, async (store) => (await store.searchSweeps()).map((s) => s.id));

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seed-gate-'));
  db = path.join(dir, 'runs.sqlite');
  cacheDir = path.join(dir, 'cache');
  const classes = ['amber', 'cobalt', 'jade', 'rose'];
  await writeSyntheticDataset(file('data'), { classes, imagesPerClass: 10, seed: 'gate' });
  await writeSyntheticDataset(file('data2'), { classes, imagesPerClass: 10, seed: 'gate-other-version' });
  await fs.writeFile(file('good.yaml'), config({ name: 'good', learningRate: 0.01, epochs: 10 }));
  await fs.writeFile(file('good-sweep.yaml'), config({ name: 'good', learningRate: 0.01, epochs: 10, sweep: '  seed: [1, 2, 3]' }));
  await fs.writeFile(file('worse.yaml'), config({ name: 'worse', learningRate: 0.00001, epochs: 1 }));
  await fs.writeFile(file('other-data.yaml'), config({ name: 'good', learningRate: 0.01, epochs: 10, data: 'data2' }));
  await fs.writeFile(file('other-split.yaml'), config({ name: 'good', learningRate: 0.01, epochs: 10, split: '{ train: 0.4, val: 0.2, test: 0.4 }' }));
  await fs.writeFile(file('lr-sweep.yaml'), config({ name: 'good', learningRate: 0.01, epochs: 10, sweep: '  train.learningRate: [0.01, 0.02]\n  seed: [1, 2, 3]' }));
  // The baseline: a recorded sweep over three seeds, written as a reference file.
  expect((await cli('--config', file('good-sweep.yaml'))).code).toBe(EXIT.ok);
  const [sweep] = await sweepIds();
  const ref = await cli('reference', sweep.slice(0, 8), '--out', file('ref.json'));
  expect(ref.out).toMatch(/reference .*ref\.json: good, 3 seeds/);
  expect(ref.code).toBe(EXIT.ok);
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('gate over seed groups', () => {
  it('passes the same configuration against its reference, paired by seed (JSON verdict)', async () => {
    expectReproduced(await gateGood('ref.json'));
  });

  it('fails a deliberately worse configuration with a Markdown verdict table', async () => {
    const { code, stdout } = await cli('gate', '--config', file('worse.yaml'), '--reference', file('ref.json'), '--format', 'markdown');
    expect(stdout).toMatch(/^### mlbench gate: ❌ FAIL/);
    expect(stdout).toMatch(/\*\*FAIL: regression\. The candidate is worse than the baseline by [\d.]+ points of test accuracy/);
    expect(stdout).toMatch(/\| seed \| candidate test\.accuracy \| baseline test\.accuracy \| difference \(points\) \|/);
    expect(stdout).toMatch(/\| paired t over seeds \(decides\) \| −[\d.]+ \| −[\d.]+ \| > −1\.00 \| [\d.]+ \| FAIL \|/);
    expect(stdout).toContain('config changes (baseline vs candidate): name: good vs worse; train.epochs: 10 vs 1; train.learningRate: 0.01 vs 0.00001');
    expect(code).toBe(EXIT.failed);
  });

  it('compares two recorded sweeps, and prints a text table', async () => {
    // Newest first: the worse candidate's sweep, the good candidate's, the baseline.
    const [, candidate, baseline] = await sweepIds();
    const { code, out } = await cli('gate', '--candidate-sweep', candidate.slice(0, 10), '--baseline-sweep', baseline, '--margin', '2pt');
    expect(out).toMatch(/seed +candidate test\.accuracy +baseline test\.accuracy +difference \(points\)/);
    expect(out).toMatch(/\n {2}1 +[\d.]+% +[\d.]+% +\+0\.00\n/);
    expect(out).toMatch(/paired t over seeds \(decides\) +\+0\.00 +\+0\.00 +> −2\.00 +< 0\.0001 +PASS/);
    expect(out).toMatch(/\nPASS: the candidate is not worse than the baseline by more than 2\.00 points of test accuracy/);
    expect(code).toBe(EXIT.ok);
  });

  it('takes an exported sweep (an array of `runs export` documents) as the baseline', async () => {
    const baseline = (await sweepIds()).at(-1) as string;
    const runs = await withStore(db, (store) => store.searchRuns({ sweepId: baseline }));
    expect(runs).toHaveLength(3);
    const docs: unknown[] = [];
    for (const run of runs) {
      const exported = await cli('runs', 'export', run.id);
      expect(exported.code).toBe(EXIT.ok);
      docs.push(JSON.parse(exported.stdout));
    }
    await fs.writeFile(file('exported-sweep.json'), JSON.stringify(docs));
    const gate = await gateGood('exported-sweep.json');
    expect(gate.verdict.baseline.seeds).toEqual([1, 2, 3]);
    expectReproduced(gate);
  });

  it('refuses an exported run whose config seed is not its run seed', async () => {
    const docs = JSON.parse(await fs.readFile(file('exported-sweep.json'), 'utf8')) as { run: { id: string; seed: number; resolvedConfig: { seed: number } } }[];
    // Test fixture: the second exported run claims another seed in its config.
    docs[1].run.resolvedConfig.seed = 99;
    await fs.writeFile(file('two-seeds.json'), JSON.stringify(docs));
    const { code, out } = await cli('gate', '--config', file('good.yaml'), '--reference', file('two-seeds.json'));
    expect(out).toContain(`two-seeds.json[1] (run ${docs[1].run.id.slice(0, 8)}) does not record exactly one seed: run seed ${docs[1].run.seed}, config seed 99; a run is one seed`);
    expect(code).toBe(EXIT.badInput);
  });

  it('passes a candidate config with its own sweep: { seed: [...] } against the reference', async () => {
    const before = (await sweepIds()).length;
    const { code, out } = await cli('gate', '--config', file('good-sweep.yaml'), '--reference', file('ref.json'));
    expect(out).toMatch(/\n {2}1 +[\d.]+% +[\d.]+% +\+0\.00\n {2}2 +[\d.]+% +[\d.]+% +\+0\.00\n {2}3 +[\d.]+% +[\d.]+% +\+0\.00\n/);
    expect(out).toMatch(/paired t over seeds \(decides\) +\+0\.00 +\+0\.00 +> −1\.00 +< 0\.0001 +PASS/);
    expect(out).toMatch(/\nPASS: the candidate is not worse than the baseline by more than 1\.00 point of test accuracy/);
    expect(code).toBe(EXIT.ok);
    // The gate ran the config's own three seeds as one new sweep.
    expect((await sweepIds()).length).toBe(before + 1);
  });

  it('refuses another version of the data', async () => {
    const { code, out } = await cli('gate', '--config', file('other-data.yaml'), '--reference', file('ref.json'));
    expect(out).toMatch(/error: cannot compare: different data: candidate dataset fingerprint [0-9a-f]{12}, baseline [0-9a-f]{12}/);
    expect(code).toBe(EXIT.badInput);
  });

  it('refuses other split fractions before running anything', async () => {
    const before = (await sweepIds()).length;
    const { code, out } = await cli('gate', '--config', file('other-split.yaml'), '--reference', file('ref.json'));
    expect(out).toContain('error: cannot compare: different split fractions: candidate train 0.4 / val 0.2 / test 0.4, baseline train 0.5 / val 0.2 / test 0.3');
    expect(code).toBe(EXIT.badInput);
    expect((await sweepIds()).length).toBe(before);
  });

  it('refuses too few seeds, duplicate seeds and a sweep over more than seeds', async () => {
    const few = await cli('gate', '--config', file('good.yaml'), '--reference', file('ref.json'), '--seeds', '1,2');
    expect(few.out).toMatch(/--seeds: 2 seeds; the gate needs at least 3 \(--min-seeds\)/);
    expect(few.code).toBe(EXIT.badInput);
    const twice = await cli('gate', '--config', file('good.yaml'), '--reference', file('ref.json'), '--seeds', '1,1,2');
    expect(twice.out).toContain('--seeds: seed 1 is listed twice; a seed group has exactly one run per seed');
    expect(twice.code).toBe(EXIT.badInput);
    const grid = await cli('gate', '--config', file('lr-sweep.yaml'), '--reference', file('ref.json'));
    expect(grid.out).toMatch(/its sweep varies train\.learningRate; .*may differ only by seed/);
    expect(grid.code).toBe(EXIT.badInput);
  });

  it('verify flags an edited run, and the gate refuses it', async () => {
    const baseline = (await sweepIds()).at(-1) as string;
    const store = await openSqliteStore(db);
    const [run] = await store.searchRuns({ sweepId: baseline });
    await store.close();
    expect((await cli('verify', run.id)).code).toBe(EXIT.ok);
    // Test fixture: someone "improves" a logged number.
    const raw = new sqlite3.Database(db);
    await new Promise<void>((resolve, reject) =>
      raw.run(`UPDATE metrics SET value = 0.5 WHERE run_id = ? AND key = 'test.accuracy' AND step IS NULL`, [run.id], (e) => (e ? reject(e) : resolve())),
    );
    await new Promise<void>((resolve) => raw.close(() => resolve()));
    const verify = await cli('verify', run.id);
    expect(verify.out).toMatch(new RegExp(`MISMATCH +run ${run.id}: 1 of \\d+ final metrics recomputed from the stored predictions differ`));
    expect(verify.out).toMatch(/- test\.accuracy: logged 0\.5, recomputed [\d.]+/);
    expect(verify.code).toBe(EXIT.failed);
    const gate = await cli('gate', '--candidate-sweep', baseline, '--reference', file('ref.json'));
    expect(gate.out).toMatch(/its logged numbers do not match its stored predictions, so it is refused:\n +test\.accuracy: logged 0\.5/);
    expect(gate.code).toBe(EXIT.badInput);
    const single = await cli('gate', run.id, '--min', 'test.accuracy=0.5');
    expect(single.out).toMatch(/the gate refuses it/);
    expect(single.code).toBe(EXIT.badInput);
  });
});
