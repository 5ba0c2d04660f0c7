import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { fingerprintImages, scanDataset, writeSyntheticDataset } from '@mlbench/data';
import { openSqliteStore, parseRunExport } from '@mlbench/tracking';
import { withStore } from '@mlbench/tracking/src/testing';
import { buildTflite, poolModelSpec } from '@mlbench/model/src/testing';
import { EXIT, runCli } from './cli';
import { SHARED, captureIo } from './test-support';

// Bad input at the CLI: every case exits 2 with one clear message and records no run.
jest.setTimeout(60_000);

const MODEL = path.join(SHARED, 'models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');
let dir: string;
let db: string;
let cacheDir: string;

interface ConfigParts {
  name?: string;
  dataset?: string;
  source?: string;
  size?: string;
  featureLayer?: string;
  onBadImage?: string;
  split?: string;
  epochs?: string;
  extra?: string;
}
const config = (p: ConfigParts = {}): string => `
name: ${p.name ?? 'faults'}
seed: 3
dataset:
  path: ${p.dataset ?? 'data'}
  split: ${p.split ?? '{ train: 0.6, val: 0.2, test: 0.2 }'}
${p.onBadImage ? `  onBadImage: ${p.onBadImage}\n` : ''}preprocess:
  size: ${p.size ?? '[160, 160]'}
model:
  extractor:
    source: "${p.source ?? MODEL}"
    featureLayer: ${p.featureLayer ?? 'auto'}
    batchSize: 8
train:
  learningRate: 0.01
  epochs: ${p.epochs ?? '3'}
  batchSize: 8
${p.extra ?? ''}`;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await runCli([...args, '--db', db, '--cache-dir', cacheDir], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

async function runConfig(text: string, file = `c${Math.random().toString(36).slice(2)}.yaml`): Promise<{ code: number; out: string; err: string }> {
  await fs.writeFile(path.join(dir, file), text);
  return run(['--config', path.join(dir, file)]);
}

function runCount(): Promise<number> {
  return withStore(db, async (store) => (await store.searchRuns()).length);
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'runner-faults-'));
  db = path.join(dir, 'runs.sqlite');
  cacheDir = path.join(dir, 'cache');
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 6, seed: 'faults' });
  await writeSyntheticDataset(path.join(dir, 'one-class'), { classes: ['only'], imagesPerClass: 6 });
  await writeSyntheticDataset(path.join(dir, 'tiny-class'), { classes: ['big', 'small'], imagesPerClass: 6 });
  await fs.rm(path.join(dir, 'tiny-class', 'small', 'img_001.jpg'));
  for (let i = 2; i < 6; i++) await fs.rm(path.join(dir, 'tiny-class', 'small', `img_00${i}.jpg`));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('config errors: exit 2, the field or path named, no run recorded', () => {
  it.each<[string, () => string, RegExp]>([
    ['YAML syntax error', () => config().replace('seed: 3', 'seed: [3'), /invalid YAML at line \d+, column \d+/],
    ['unknown key', () => config().replace('  epochs: 3', '  epoch: 3'), /train\.epoch: unknown key \(did you mean "epochs"\?\)/],
    ['wrong type', () => config({ epochs: 'ten' }), /train\.epochs: expected a positive integer, got "ten"/],
    ['epochs <= 0', () => config({ epochs: '0' }), /train\.epochs: expected a positive integer, got 0/],
    ['split not summing to 1', () => config({ split: '{ train: 0.6, val: 0.3, test: 0.3 }' }), /dataset\.split: expected train \+ val \+ test to sum to 1/],
    ['bad onBadImage', () => config({ onBadImage: 'ignore' }), /dataset\.onBadImage: expected one of "fail", "skip", got "ignore"/],
    ['missing dataset folder', () => config({ dataset: 'nowhere' }), /dataset folder .*nowhere does not exist/],
    ['missing model file', () => config({ source: path.join(dir, 'no-model.tflite') }), /no-model\.tflite/],
    ['fewer than two classes', () => config({ dataset: 'one-class' }), /has 1 class folder\(s\) with images \(only\); .*at least two/],
    ['class too small for the split', () => config({ dataset: 'tiny-class' }), /class "small" has 1 image\(s\), too few for a stratified split/],
  ])('%s', async (_label, text, message) => {
    const before = await runCount();
    const result = await runConfig(text());
    expect(result.err).toMatch(message);
    expect(result.err).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(result.code).toBe(EXIT.badInput);
    expect(await runCount()).toBe(before);
  });

  it('a missing config file', async () => {
    const result = await run(['--config', path.join(dir, 'absent.yaml')]);
    expect(result.code).toBe(EXIT.badInput);
    expect(result.err).toMatch(/config file .*absent\.yaml does not exist/);
    expect(await runCount()).toBe(0);
  });
});

describe('model sources: clear errors before any run row is written', () => {
  async function modelFile(name: string, bytes: Uint8Array | string): Promise<string> {
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return file;
  }

  it.each<[string, () => Promise<Partial<ConfigParts>>, RegExp]>([
    ['a truncated TFLite file', async () => ({ source: await modelFile('half.tflite', (await fs.readFile(MODEL)).subarray(0, 40_000)) }), /half\.tflite/],
    ['a JPEG renamed .tflite', async () => ({ source: await modelFile('photo.tflite', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).jpeg().toBuffer()) }), /photo\.tflite/],
    ['a broken tfjs model.json', async () => ({ source: await modelFile('model.json', '{"format": "layers-model", "modelTopology": ') }), /model\.json/],
    ['a file that is not ONNX', async () => ({ source: await modelFile('model.onnx', 'not a protobuf at all') }), /model\.onnx/],
    ['a feature layer that does not exist', async () => ({ featureLayer: 'no/such/layer' }), /no\/such\/layer/],
    ['an input size that does not match the model', async () => ({ size: '[224, 224]' }), /preprocess\.size: expected \[160, 160\] .*got \[224, 224\]/],
    [
      'an unsupported operator',
      async () => {
        const bytes = buildTflite(poolModelSpec({ inputShape: [1, 4, 4, 3], l2Norm: true }));
        return { source: await modelFile('l2norm.tflite', bytes), featureLayer: 'l2', size: '[4, 4]' };
      },
      /L2_NORMALIZATION.*l2norm\.tflite|l2norm\.tflite.*L2_NORMALIZATION/,
    ],
  ])('%s', async (_label, parts, message) => {
    const before = await runCount();
    const result = await runConfig(config(await parts()));
    expect(result.err).toMatch(message);
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(EXIT.badInput);
    expect(await runCount()).toBe(before);
  });
});

describe('bad images in the dataset', () => {
  let messy: string;
  beforeAll(async () => {
    messy = path.join(dir, 'messy');
    await writeSyntheticDataset(messy, { classes: ['amber', 'cobalt'], imagesPerClass: 6, seed: 'messy' });
    const jpeg = await fs.readFile(path.join(messy, 'amber', 'img_000.jpg'));
    await fs.writeFile(path.join(messy, 'amber', 'cut off.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await fs.writeFile(path.join(messy, 'cobalt', 'empty.png'), Buffer.alloc(0));
    await fs.writeFile(path.join(messy, 'cobalt', 'ünïcode text.jpg'), 'not an image');
    const png = Buffer.from(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#00f' } }).png().toBuffer());
    png.writeUInt32BE(40000, 16);
    png.writeUInt32BE(40000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
    await fs.writeFile(path.join(messy, 'cobalt', 'huge.png'), png);
    await fs.symlink('gone.jpg', path.join(messy, 'amber', 'dangling.jpg'));
    await fs.symlink('..', path.join(messy, 'amber', 'loop'));
  });

  it('onBadImage: fail (the default) stops before recording, listing every file and reason', async () => {
    const before = await runCount();
    const result = await runConfig(config({ dataset: 'messy', name: 'messy-fail' }));
    expect(result.code).toBe(EXIT.badInput);
    expect(result.err).toContain('5 unusable image(s)');
    expect(result.err).toMatch(/amber\/cut off\.jpg: truncated file/);
    expect(result.err).toMatch(/amber\/dangling\.jpg: broken symbolic link/);
    expect(result.err).toMatch(/cobalt\/empty\.png: empty file \(0 bytes\)/);
    expect(result.err).toMatch(/cobalt\/huge\.png: image too large/);
    expect(result.err).toMatch(/cobalt\/ünïcode text\.jpg: not an image/);
    expect(result.err).toMatch(/set dataset\.onBadImage: skip/);
    expect(await runCount()).toBe(before);
  });

  it('onBadImage: skip runs on the rest and records the skipped files; the fingerprint covers what was used', async () => {
    const result = await runConfig(config({ dataset: 'messy', name: 'messy-skip', onBadImage: 'skip' }));
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(result.out).toMatch(/images +5 unusable \(dataset\.onBadImage: skip\)/);
    expect(result.out).toMatch(/skipped amber\/cut off\.jpg: truncated file/);
    expect(result.out).toMatch(/12 images \(5 skipped\), 2 classes/);
    const store = await openSqliteStore(db);
    try {
      const [recorded] = await store.searchRuns({ name: 'messy-skip' });
      expect(recorded.status).toBe('completed');
      const skipped = await store.getSkippedFiles(recorded.id);
      expect(skipped.map((s) => s.path).sort()).toEqual(['amber/cut off.jpg', 'amber/dangling.jpg', 'cobalt/empty.png', 'cobalt/huge.png', 'cobalt/ünïcode text.jpg']);
      expect(skipped.find((s) => s.path === 'amber/dangling.jpg')).toMatchObject({ sha256: null, reason: expect.stringMatching(/broken symbolic link/) });
      expect(skipped.find((s) => s.path === 'cobalt/empty.png')?.sha256).toMatch(/^[0-9a-f]{64}$/);
      const split = await store.getSplit(recorded.id);
      expect(split).toHaveLength(12);
      const scan = await scanDataset(messy);
      const used = scan.images.filter((i) => split.some((m) => m.path === i.relPath));
      expect((await store.getDatasetInput(recorded.id))?.fingerprint).toBe(fingerprintImages(used));
      expect((await store.getDatasetInput(recorded.id))?.fingerprint).not.toBe(scan.fingerprint);
    } finally {
      await store.close();
    }
  });
});

describe('runs list / export / import', () => {
  it('moves a run to another database as JSON; importing twice does not duplicate it', async () => {
    expect((await runConfig(config({ name: 'to-share' }))).code).toBe(EXIT.ok);
    const store = await openSqliteStore(db);
    const [shared] = await store.searchRuns({ name: 'to-share' });
    await store.close();

    const listed = await run(['runs', 'list', '--name', 'to-share']);
    expect(listed.out).toMatch(new RegExp(`^${shared.id} +completed +\\S+ +to-share`));

    const file = path.join(dir, 'exports', 'shared run.json');
    const exported = await run(['runs', 'export', shared.id, '--out', file]);
    expect(exported.code).toBe(EXIT.ok);
    expect(parseRunExport(await fs.readFile(file, 'utf8'), file).run.id).toBe(shared.id);

    const other = path.join(dir, 'other.sqlite');
    const importInto = async (): Promise<{ code: number; out: string }> => {
      const io = captureIo();
      const code = await runCli(['runs', 'import', file, '--db', other], io);
      return { code, out: io.stdout.join('\n') };
    };
    expect(await importInto()).toEqual({ code: EXIT.ok, out: `imported run ${shared.id} (to-share) into ${other}` });
    expect(await importInto()).toEqual({ code: EXIT.ok, out: `run ${shared.id} (to-share) is already in ${other}; nothing changed` });
    const target = await openSqliteStore(other);
    try {
      expect(await target.searchRuns()).toHaveLength(1);
      expect((await target.getPredictions(shared.id)).length).toBeGreaterThan(0);
    } finally {
      await target.close();
    }
  });

  it('names an unknown run id or an unreadable file with exit code 2', async () => {
    const unknown = await run(['runs', 'export', 'f'.repeat(32)]);
    expect(unknown.code).toBe(EXIT.badInput);
    expect(unknown.err).toMatch(new RegExp(`^error: run ${'f'.repeat(32)} is not in .*runs\\.sqlite; list runs with: npx nx run runner -- runs list`));
    const garbage = path.join(dir, 'garbage.json');
    await fs.writeFile(garbage, '{"format": "something else"}');
    const bad = await run(['runs', 'import', garbage]);
    expect(bad.code).toBe(EXIT.badInput);
    expect(bad.err).toMatch(/garbage\.json is not a run export/);
    const missing = await run(['runs', 'import', path.join(dir, 'nope.json')]);
    expect(missing.err).toMatch(/nope\.json .*the file does not exist/);
  });
});

describe('unwritable results', () => {
  it('a results path that cannot be created fails with a message, not a stack trace', async () => {
    const blocker = path.join(dir, 'results-is-a-file');
    await fs.writeFile(blocker, 'x');
    const io = captureIo();
    await fs.writeFile(path.join(dir, 'ok.yaml'), config({ name: 'unwritable' }));
    const code = await runCli(['--config', path.join(dir, 'ok.yaml'), '--db', path.join(blocker, 'runs.sqlite'), '--cache-dir', cacheDir], io);
    expect(code).toBe(EXIT.failed);
    expect(io.stderr.join('\n')).toMatch(/cannot write the tracking store .*results-is-a-file\/runs\.sqlite: cannot create its folder .*a part of the path is a file, not a folder/);
    expect(io.stderr.join('\n')).not.toMatch(/\n\s+at /);
  });
});
