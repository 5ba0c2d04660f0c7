import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadImagesError, decodeToRgb, scalePixels, scanDataset, writeSyntheticDataset, type DatasetScan } from '@mlbench/data';
import { createPixelExtractor, type FeatureExtractor } from '@mlbench/model';
import { extractDatasetFeatures, type DatasetFeaturesIo } from './dataset-features';
import { FeatureCache } from './feature-cache';

const SIZE = 8;
const preprocess = { size: [SIZE, SIZE] as [number, number], resize: 'bilinear' as const, fit: 'fill' as const, scaling: 'zero_to_one' as const };
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dataset-features-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** The real pixel extractor, counting the images it is given. */
function countingExtractor(): FeatureExtractor & { images: number } {
  const inner = createPixelExtractor([SIZE, SIZE, 3]);
  const counting = {
    images: 0,
    description: inner.description,
    extract: (pixels: Float32Array, count: number) => {
      counting.images += count;
      return inner.extract(pixels, count);
    },
    dispose: () => inner.dispose(),
  };
  return counting;
}

const io = (onBadImage: 'fail' | 'skip'): DatasetFeaturesIo => ({ preprocess, batchSize: 2, onBadImage, checkAborted: () => undefined });

async function expectedRow(file: string): Promise<Float32Array> {
  const row = new Float32Array(SIZE * SIZE * 3);
  scalePixels(await decodeToRgb(file, { width: SIZE, height: SIZE, resize: 'bilinear', fit: 'fill' }), 'zero_to_one', row);
  return row;
}

async function messyDataset(name: string): Promise<DatasetScan> {
  const root = path.join(dir, name);
  await writeSyntheticDataset(root, { classes: ['amber', 'cobalt'], imagesPerClass: 4, seed: name });
  await fs.writeFile(path.join(root, 'amber', 'img_001.jpg'), 'not an image');
  const jpeg = await fs.readFile(path.join(root, 'cobalt', 'img_002.jpg'));
  await fs.writeFile(path.join(root, 'cobalt', 'img_002.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  return scanDataset(root);
}

describe('extractDatasetFeatures', () => {
  it('extracts every uncached image once and caches it; a second pass reads the cache only', async () => {
    const root = path.join(dir, 'clean');
    await writeSyntheticDataset(root, { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 3, seed: 'clean' });
    const scan = await scanDataset(root);
    const cache = new FeatureCache(path.join(dir, 'cache-clean'), 'k', SIZE * SIZE * 3);
    const extractor = countingExtractor();
    const cold = await extractDatasetFeatures(scan, extractor, cache, io('fail'));
    expect(extractor.images).toBe(9);
    expect(cold.extraction).toMatchObject({ total: 9, cached: 0, extracted: 9 });
    expect(cold.skipped).toEqual([]);
    for (const [i, image] of scan.images.entries()) {
      expect(cold.features.subarray(i * 192, (i + 1) * 192)).toEqual(await expectedRow(image.absPath));
    }
    const warm = await extractDatasetFeatures(scan, extractor, cache, io('fail'));
    expect(extractor.images).toBe(9);
    expect(warm.extraction).toMatchObject({ total: 9, cached: 9, extracted: 0, imagesPerSecond: null });
    expect(warm.features).toEqual(cold.features);
  });

  it('onBadImage: fail lists every bad image and stops running the network once the run is refused', async () => {
    const scan = await messyDataset('messy-fail');
    const cache = new FeatureCache(path.join(dir, 'cache-fail'), 'k', SIZE * SIZE * 3);
    const extractor = countingExtractor();
    const screened: string[] = [];
    const error = await extractDatasetFeatures(scan, extractor, cache, { ...io('fail'), onScreened: (_c, _k, bad) => screened.push(...bad.map((b) => b.path)) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadImagesError);
    expect((error as BadImagesError).bad.map((b) => b.relPath)).toEqual(['amber/img_001.jpg', 'cobalt/img_002.jpg']);
    expect((error as Error).message).toMatch(/amber\/img_001\.jpg: not an image[\s\S]*cobalt\/img_002\.jpg: truncated file/);
    expect(screened).toEqual(['amber/img_001.jpg', 'cobalt/img_002.jpg']);
    // The bad image is in the first batch of two: nothing went through the network.
    expect(extractor.images).toBe(0);
    for (const image of scan.images) expect(await cache.has(image.sha256)).toBe(false);
  });

  it('onBadImage: skip leaves the bad images out: features, scan and fingerprint describe what is used', async () => {
    const scan = await messyDataset('messy-skip');
    const cache = new FeatureCache(path.join(dir, 'cache-skip'), 'k', SIZE * SIZE * 3);
    const extractor = countingExtractor();
    const pass = await extractDatasetFeatures(scan, extractor, cache, io('skip'));
    expect(pass.skipped.map((s) => [s.path, s.reason])).toEqual([
      ['amber/img_001.jpg', expect.stringMatching(/not an image/)],
      ['cobalt/img_002.jpg', expect.stringMatching(/truncated file/)],
    ]);
    expect(pass.scan.images.map((i) => i.relPath)).toEqual(['amber/img_000.jpg', 'amber/img_002.jpg', 'amber/img_003.jpg', 'cobalt/img_000.jpg', 'cobalt/img_001.jpg', 'cobalt/img_003.jpg']);
    expect(pass.scan.fingerprint).not.toBe(scan.fingerprint);
    expect(extractor.images).toBe(6);
    expect(pass.extraction).toMatchObject({ total: 6, cached: 0, extracted: 6 });
    for (const [i, image] of pass.scan.images.entries()) {
      expect(pass.features.subarray(i * 192, (i + 1) * 192)).toEqual(await expectedRow(image.absPath));
    }
  });
});
