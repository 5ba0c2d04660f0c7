/**
 * The feature-cache key: everything that determines the features, the extractor's precision
 * included (issue 17: int8 features never reuse float32 ones), with float32 keys (and the caches
 * behind them) as they were before precision existed.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { loadConfig, parseConfig } from './config';
import { FeatureCache } from './feature-cache';
import { openExtractor } from './model-setup';
import { openFeatureCache, runExperiment } from './pipeline';
import { tinyConfig } from './testing';

jest.setTimeout(180_000);

const REPO_ROOT = path.resolve(__dirname, '../../..');
const SMALL_MODEL = path.resolve(REPO_ROOT, '../shared/models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'feature-cache-key-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

async function keyJson(cacheDir: string, key: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(cacheDir, 'features', key, 'key.json'), 'utf8')) as Record<string, unknown>;
}

describe('the feature-cache key of the canonical extractor', () => {
  /** The key a run of `config` (under experiments/) uses: its real extractor (shared MobileNetV2) and preprocessing. */
  async function keyOf(config: string, cacheDir: string): Promise<string> {
    const loaded = await loadConfig(path.join(REPO_ROOT, 'experiments', config));
    const extractor = await openExtractor(loaded.resolved, cacheDir);
    try {
      return (await openFeatureCache(extractor, loaded, cacheDir)).key;
    } finally {
      extractor.dispose();
    }
  }

  it('is unchanged for float32 (7b99cf3c...) and differs for int8 only by the precision part', async () => {
    const cacheDir = path.join(dir, 'canonical');
    const float32 = await keyOf('flowers-mobilenetv2-frozen.yaml', cacheDir);
    const int8 = await keyOf('flowers-mobilenetv2-int8.yaml', cacheDir);
    // The key every existing canonical cache and recorded run was computed under.
    expect(float32).toBe('7b99cf3c919bbed06db0deb3078755a7');
    // Today's int8 key: changing it orphans every int8 cache (the next run extracts again).
    expect(int8).toBe('4e1b2a2d988fe654e40ab4624c9aed3c');
    const floatParts = await keyJson(cacheDir, float32);
    const int8Parts = await keyJson(cacheDir, int8);
    expect(floatParts).toEqual({
      modelSha256: '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776',
      featureLayer: 'MobilenetV2/Logits/AvgPool',
      engine: 'onnx',
      backend: 'cpu',
      preprocess: { size: [224, 224], resize: 'bilinear', fit: 'fill', scaling: 'minus_one_to_one' },
      dim: 1280,
    });
    expect(int8Parts).toEqual({ ...floatParts, precision: 'int8' });
    // key.json is what the key hashes (less dim, which the key does not include).
    const { dim: _dim, ...parts } = int8Parts;
    expect(FeatureCache.keyFor(parts)).toBe(int8);
  });
});

describe('runs of one model in float32 and int8', () => {
  const config = (precision?: 'float32' | 'int8') =>
    parseConfig(
      tinyConfig({ name: `key-${precision ?? 'default'}`, seed: 3, split: [0.5, 0.25, 0.25], source: SMALL_MODEL, engine: 'onnx', precision, train: { learningRate: 0.05, epochs: 2, batchSize: 8 } }),
      path.join(dir, 'runs', 'key.yaml'),
    );

  it('extract int8 features although float32 ones are cached, and each reuses its own afterwards', async () => {
    await writeSyntheticDataset(path.join(dir, 'runs', 'data'), { classes: ['amber', 'cobalt'], imagesPerClass: 6, seed: 'feature-cache-key' });
    const options = { dbPath: path.join(dir, 'runs', 'runs.sqlite'), cacheDir: path.join(dir, 'runs', 'cache') };
    const runs = [];
    for (const precision of [undefined, 'float32', 'int8', 'int8', 'float32'] as const) runs.push(await runExperiment(config(precision), options));
    expect(runs.map((r) => [r.extractor.precision, r.extraction.cached, r.extraction.extracted])).toEqual([
      ['float32', 0, 12], // cold
      ['float32', 12, 0], // `precision: float32` is the default's key
      ['int8', 0, 12], // a miss: the float32 entries are not read
      ['int8', 12, 0],
      ['float32', 12, 0], // the int8 pass left the float32 entries alone
    ]);

    // Two caches, of the same images, whose features differ: reading the other's would change the run.
    const keys = (await fs.readdir(path.join(options.cacheDir, 'features'))).sort();
    expect(keys).toHaveLength(2);
    const parts = await Promise.all(keys.map((k) => keyJson(options.cacheDir, k)));
    const int8Key = keys[parts.findIndex((p) => p['precision'] === 'int8')];
    const floatKey = keys[parts.findIndex((p) => !('precision' in p))];
    expect([int8Key, floatKey].every((k) => k !== undefined)).toBe(true);
    const dim = runs[0].extractor.featureDim;
    const loaded = config();
    const extractor = await openExtractor(loaded.resolved, options.cacheDir);
    const floatCache = await openFeatureCache(extractor, loaded, options.cacheDir);
    extractor.dispose();
    expect(floatCache.key).toBe(floatKey);
    const int8Cache = new FeatureCache(options.cacheDir, int8Key, dim);
    const images = (await fs.readdir(path.join(options.cacheDir, 'features', floatKey), { recursive: true })).filter((f) => f.endsWith('.f32')).map((f) => path.basename(f, '.f32'));
    expect(images).toHaveLength(12);
    const asFloat = await floatCache.getMany(images);
    const asInt8 = await int8Cache.getMany(images);
    images.forEach((_, i) => {
      expect(asFloat[i]).not.toBeNull();
      expect(asInt8[i]).not.toBeNull();
      expect(Buffer.from(asInt8[i]!.buffer).equals(Buffer.from(asFloat[i]!.buffer))).toBe(false);
    });
  });
});
