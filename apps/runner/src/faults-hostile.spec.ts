/**
 * Hostile but small inputs at the CLI (issue 12, cases 8, 10, 11, 14, 15): each is bad input
 * answered with exit 2, one message and nothing recorded, or a run that fails honestly (exit 1,
 * recorded as failed, no predictions) when it can only be found while training.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { openSqliteStore } from '@mlbench/tracking';
import { withStore } from '@mlbench/tracking/src/testing';
import { buildTflite, poolModelSpec } from '@mlbench/model/src/testing';
import { EXIT, runCli } from './cli';
import { captureIo, modelSourceConfig } from './test-support';

jest.setTimeout(120_000);

let dir: string;
let db: string;

const pixels = (p: { dataset?: string; size?: string; head?: string; learningRate?: string; extra?: string; tail?: string } = {}): string => `
name: hostile
seed: 2
dataset:
  path: ${p.dataset ?? 'data'}
${p.extra ?? ''}preprocess:
  size: ${p.size ?? '[8, 8]'}
model:
  extractor: none
${p.head ?? ''}train:
  learningRate: ${p.learningRate ?? '0.01'}
  epochs: 3
  batchSize: 4
${p.tail ?? ''}`;

const withModel = (source: string, size = '[4, 4]'): string => modelSourceConfig({ name: 'hostile', seed: 2, size, source });

async function runConfig(text: string): Promise<{ code: number; out: string; err: string }> {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  await fs.writeFile(file, text);
  const io = captureIo();
  const code = await runCli(['--config', file, '--db', db, '--cache-dir', path.join(dir, 'cache')], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

function runs(): Promise<{ id: string; status: string; error: string | null }[]> {
  return withStore(db, async (store) => (await store.searchRuns()).map((r) => ({ id: r.id, status: r.status, error: r.error ?? null })));
}

async function expectRefused(text: string, message: RegExp): Promise<void> {
  const before = (await runs()).length;
  const result = await runConfig(text);
  expect(result.err).toMatch(message);
  expect(result.err).not.toMatch(/\n\s+at /);
  expect(result.code).toBe(EXIT.badInput);
  expect((await runs()).length).toBe(before);
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'runner-hostile-'));
  db = path.join(dir, 'runs.sqlite');
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 6, seed: 'hostile' });
  // Create the store up front, so "nothing recorded" compares run counts.
  (await openSqliteStore(db)).close();
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('bad input is refused before a run row exists (case 10)', () => {
  it('preprocess.size [20000, 20000]', () =>
    expectRefused(pixels({ size: '[20000, 20000]' }), /preprocess\.size\[0\]: expected a positive integer up to 4096, got 20000/));

  it('a pixel batch too large to allocate', () =>
    expectRefused(pixels({ size: '[4096, 4096]' }), /preprocess\.size: a batch of 64 images of 4096x4096 needs 12\.0 GiB of pixels, more than one allocation may hold \(4\.0 GiB\)/));

  it('a CNN with more pooling blocks than the input allows', () =>
    expectRefused(
      pixels({ head: '  head: { type: cnn, blocks: [{ filters: 2 }, { filters: 2 }, { filters: 2 }, { filters: 2 }] }\n' }),
      /model\.head: 4 blocks halve a 8x8 input below 1 pixel; use fewer blocks or a larger preprocess\.size/,
    ));

  it.each([['http://[::1/m.tflite'], ['http://127.0.0.1:9/%E0%A4%A.tflite']])('a malformed model URL %s', (url) =>
    expectRefused(withModel(url), /is not a valid URL/));

  it('a model whose input size is not fixed and positive', async () => {
    const bytes = buildTflite(poolModelSpec({ inputShape: [1, 0, 4, 3] }));
    const file = path.join(dir, 'zero-input.tflite');
    await fs.writeFile(file, bytes);
    await expectRefused(withModel(file), /zero-input\.tflite: the model input is \[0, 4, 3\] \(height, width, channels\); a fixed positive image size is needed/);
  });
});

describe('names and values as written (cases 11, 15)', () => {
  it('says .nan and .inf, not null', async () => {
    await expectRefused(pixels({ learningRate: '.nan' }), /train\.learningRate: expected a positive number, got \.nan/);
    await expectRefused(pixels({ learningRate: '.inf' }), /train\.learningRate: expected a positive number, got \.inf/);
  });

  it('refuses class folders whose names differ only in Unicode normalisation', async () => {
    await writeSyntheticDataset(path.join(dir, 'twins'), { classes: ['caf\u00e9', 'cafe\u0301'], imagesPerClass: 6, seed: 'twins' });
    await expectRefused(pixels({ dataset: 'twins' }), /class folders "cafe\u0301" \(U\+0063 U\+0061 U\+0066 U\+0065 U\+0301\) and "caf\u00e9" \(U\+0063 U\+0061 U\+0066 U\+00E9\)/);
  });

  it('runs a dataset with a class folder named __proto__', async () => {
    await writeSyntheticDataset(path.join(dir, 'proto'), { classes: ['__proto__', 'plain'], imagesPerClass: 6, seed: 'proto' });
    const result = await runConfig(pixels({ dataset: 'proto' }));
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(result.out).toMatch(/12 images, 2 classes \(__proto__, plain\)/);
  });
});

describe('symbolic links out of the dataset root (case 14)', () => {
  it('are unusable images by default (exit 2, nothing recorded), and followed with dataset.followLinksOutside', async () => {
    const root = path.join(dir, 'linked');
    await writeSyntheticDataset(root, { classes: ['a', 'b'], imagesPerClass: 6, seed: 'linked' });
    await writeSyntheticDataset(path.join(dir, 'elsewhere'), { classes: ['x'], imagesPerClass: 4, seed: 'elsewhere' });
    await fs.symlink(path.join('..', '..', 'elsewhere'), path.join(root, 'b', 'up'));
    await expectRefused(pixels({ dataset: 'linked' }), /1 unusable image\(s\)[^]*b\/up: symbolic link to a folder outside the dataset root .*set dataset\.followLinksOutside: true/);
    const followed = await runConfig(pixels({ dataset: 'linked', extra: '  followLinksOutside: true\n' }));
    expect(followed.err).toBe('');
    expect(followed.out).toMatch(/16 images, 2 classes/);
  });
});

describe('diverged training (case 8)', () => {
  it('learningRate 1e300 fails the run at the epoch it diverged, with no predictions stored', async () => {
    const before = new Set((await runs()).map((r) => r.id));
    const result = await runConfig(pixels({ learningRate: '1e300' }));
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(/^run failed: training diverged at epoch 1 of 3: .* is NaN .*lower train\.learningRate/);
    expect(result.err).not.toMatch(/\n\s+at /);
    const [run] = (await runs()).filter((r) => !before.has(r.id));
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/TrainingDivergedError: training diverged at epoch 1/);
    const store = await openSqliteStore(db);
    try {
      expect(await store.getPredictions(run.id)).toEqual([]);
      expect((await store.getMetrics(run.id)).filter((m) => m.key.startsWith('test.'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('diverging in the fold heads of the label audit (this thread or fold workers) fails the same way', async () => {
    const result = await runConfig(pixels({ learningRate: '1e300', tail: 'audit: { enabled: true, folds: 2 }\n' }));
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(/^run failed: (training diverged at epoch 1 of 3|the trained head gives non-finite probabilities \(NaN\) for the held-out images of audit fold \d of 2): .*lower train\.learningRate/);
    expect(result.err).not.toMatch(/\n\s+at /);
  });
});
