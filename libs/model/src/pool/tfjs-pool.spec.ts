/**
 * The tfjs WebAssembly worker pool: the same features, bit for bit, as the single-threaded path,
 * typed errors from a worker that cannot load the model, and no thread left running after dispose.
 */
import { initBackend, type BackendInfo } from '../backend';
import { FeatureLayerError, ModelError, ModelInputError } from '../errors';
import type { FeatureExtractor } from '../extractor';
import { loadExtractor, resolveTfjsWorkers } from '../load';
import { defaultThreads } from '../onnx/extractor';
import { MODELS, scaledRgb, sharedModelFile } from '../testing/shared-data';
import { createWorkerPoolExtractor, WorkerPoolError, type WorkerPoolExtractor } from './tfjs-pool';

jest.setTimeout(120_000);

const PER_IMAGE = 224 * 224 * 3;
let backend: BackendInfo;
let single: FeatureExtractor;
const opened: WorkerPoolExtractor[] = [];

beforeAll(async () => {
  backend = await initBackend('wasm');
  single = await loadExtractor({ source: sharedModelFile(MODELS.v2), engine: 'tfjs', workers: 1 });
});
afterAll(async () => {
  single.dispose();
  await Promise.all(opened.map((p) => p.close()));
});

/** Five images: the two known-answer photos and three deterministic noise images in [-1, 1). */
function batch(): Float32Array {
  const pixels = new Float32Array(5 * PER_IMAGE);
  pixels.set(scaledRgb(MODELS.bird), 0);
  pixels.set(scaledRgb(MODELS.sunflower), PER_IMAGE);
  let s = 7;
  for (let i = 2 * PER_IMAGE; i < pixels.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    pixels[i] = (s / 2147483648) * 2 - 1;
  }
  return pixels;
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

async function pool(workers: number): Promise<WorkerPoolExtractor> {
  const p = await createWorkerPoolExtractor({ file: sharedModelFile(MODELS.v2), description: single.description, workers });
  opened.push(p);
  return p;
}

describe('tfjs worker pool', () => {
  it('runs single-threaded when asked to, recording one thread', () => {
    expect(single.description).toMatchObject({ engine: 'tfjs', backend: 'wasm', threads: 1 });
    expect('close' in single).toBe(false);
  });

  it('gives bit-identical features to the single-threaded path, with even and uneven splits', async () => {
    const pixels = batch();
    const expected = await single.extract(pixels, 5);
    expect(expected.length).toBe(5 * 1280);
    for (const workers of [2, 3]) {
      const p = await pool(workers);
      expect(p.description).toEqual({ ...single.description, threads: workers });
      const got = await p.extract(pixels, 5);
      expect(bits(got)).toEqual(bits(expected));
      // One image (fewer images than workers) and an empty batch.
      expect(bits(await p.extract(pixels.subarray(PER_IMAGE, 2 * PER_IMAGE), 1))).toEqual(bits(expected.subarray(1280, 2560)));
      expect((await p.extract(new Float32Array(0), 0)).length).toBe(0);
      await p.close();
    }
    // The caller's buffer is copied, never transferred away.
    expect(pixels.length).toBe(5 * PER_IMAGE);
    expect(pixels[0]).toBe(scaledRgb(MODELS.bird)[0]);
  });

  it('runs concurrent extract calls without mixing up results', async () => {
    const pixels = batch();
    const expected = await single.extract(pixels, 5);
    const p = await pool(2);
    const [a, b] = await Promise.all([p.extract(pixels.slice(0, 2 * PER_IMAGE), 2), p.extract(pixels.slice(2 * PER_IMAGE), 3)]);
    expect(bits(a)).toEqual(bits(expected.subarray(0, 2 * 1280)));
    expect(bits(b)).toEqual(bits(expected.subarray(2 * 1280)));
    await p.close();
  });

  it('is what loadExtractor returns for tfjs on wasm with workers > 1, and dispose terminates every worker', async () => {
    const ex = await loadExtractor({ source: sharedModelFile(MODELS.v2), engine: 'tfjs', workers: 2 });
    expect(ex.description.threads).toBe(2);
    expect('close' in ex).toBe(true);
    const p = ex as WorkerPoolExtractor;
    opened.push(p);
    expect(p.liveWorkers()).toBe(2);
    ex.dispose();
    await p.close();
    expect(p.liveWorkers()).toBe(0);
    await expect(ex.extract(new Float32Array(PER_IMAGE), 1)).rejects.toThrow(ModelError);
  });

  it('rejects a wrongly sized batch on the calling thread', async () => {
    const p = await pool(2);
    await expect(p.extract(new Float32Array(10), 1)).rejects.toThrow(ModelInputError);
    await p.close();
  });

  it('reports a worker that cannot load the model as a WorkerPoolError and stops every worker', async () => {
    const description = { ...single.description, featureLayer: 'no/such/tensor' };
    const err = await createWorkerPoolExtractor({ file: sharedModelFile(MODELS.v2), description, workers: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerPoolError);
    expect((err as WorkerPoolError).workerErrorName).toBe(new FeatureLayerError('', '', '', []).name);
    expect((err as Error).message).toContain('no/such/tensor');
  });

  it('uses one worker per core on wasm only', () => {
    expect(resolveTfjsWorkers('auto', backend)).toBe(defaultThreads());
    expect(resolveTfjsWorkers(undefined, backend)).toBe(defaultThreads());
    expect(resolveTfjsWorkers(3, backend)).toBe(3);
    expect(resolveTfjsWorkers('auto', { ...backend, backend: 'cpu' })).toBe(1);
    expect(resolveTfjsWorkers(4, { ...backend, backend: 'tensorflow', nodeBindings: true })).toBe(1);
  });

  it('validates the workers option', async () => {
    await expect(loadExtractor({ source: sharedModelFile(MODELS.v2), engine: 'tfjs', workers: 0 })).rejects.toThrow(/workers must be/);
  });
});
