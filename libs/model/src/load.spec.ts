import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { currentBackend } from './backend';
import { ChecksumMismatchError, ModelError, ModelFormatError, ModelNotFoundError, ModelOptionsError } from './errors';
import { loadExtractor } from './load';
import { MODELS, sharedModelFile } from './testing/shared-data';

jest.setTimeout(30_000);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-load-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('loadExtractor', () => {
  it('initialises the auto backend when none was chosen', async () => {
    expect(currentBackend()).toBeUndefined();
    const ex = await loadExtractor({ source: sharedModelFile(MODELS.v1Embedding), engine: 'tfjs' });
    try {
      // tfjs-node is not installed here, so auto falls back to wasm.
      expect(currentBackend()?.backend).toBe(ex.description.backend);
      expect(['tensorflow', 'wasm']).toContain(ex.description.backend);
    } finally {
      ex.dispose();
    }
  });

  it('picks the onnx engine for a .tflite model when the engine is auto (onnxruntime-node is installed)', async () => {
    const ex = await loadExtractor({ source: sharedModelFile(MODELS.v1Embedding) });
    try {
      expect(ex.description).toMatchObject({ engine: 'onnx', backend: 'cpu', featureDim: 1024 });
      expect(ex.description.threads).toBeGreaterThanOrEqual(1);
    } finally {
      ex.dispose();
    }
  });

  it('rejects an unknown engine and a bad thread count', async () => {
    await expect(loadExtractor({ source: sharedModelFile(MODELS.v2), engine: 'torch' as 'onnx' })).rejects.toThrow(/engine must be "auto", "tfjs" or "onnx", got "torch"/);
    await expect(loadExtractor({ source: sharedModelFile(MODELS.v2), threads: 0 })).rejects.toThrow(/threads must be a positive integer, got 0/);
  });

  it('names a missing file and says what to do', async () => {
    const missing = path.join(tmp, 'nope', 'model.tflite');
    const err = await loadExtractor({ source: missing }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotFoundError);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toMatch(/Check the path/);
  });

  it('validates options', async () => {
    await expect(loadExtractor({ source: '' })).rejects.toThrow(ModelOptionsError);
    await expect(loadExtractor({ source: 'https://example.invalid/m.tflite' })).rejects.toThrow(/downloadCacheDir is required/);
    await expect(loadExtractor({ source: 'ftp://host/m.tflite' })).rejects.toThrow(ModelOptionsError);
    await expect(loadExtractor({ source: sharedModelFile(MODELS.v2), sha256: 'abc' })).rejects.toThrow(/64 hex digits/);
    await expect(loadExtractor({ source: sharedModelFile(MODELS.v2), featureLayer: ' ' })).rejects.toThrow(ModelOptionsError);
  });

  it('checks a given sha256 against local files too', async () => {
    const err = await loadExtractor({ source: sharedModelFile(MODELS.v2), sha256: '0'.repeat(64) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as ChecksumMismatchError).actual).toBe('7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776');
  });

  it('recognises a .tflite by content when the name says nothing, and rejects other content', async () => {
    const renamed = path.join(tmp, 'model.bin');
    fs.copyFileSync(sharedModelFile(MODELS.v1Half160), renamed);
    const ex = await loadExtractor({ source: renamed });
    expect(ex.description).toMatchObject({ format: 'tflite', featureDim: 512 });
    ex.dispose();

    const text = path.join(tmp, 'notes.txt');
    fs.writeFileSync(text, 'hello');
    const err = await loadExtractor({ source: text }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toContain(text);
  });

  it('checks the pixel count passed to extract', async () => {
    const ex = await loadExtractor({ source: sharedModelFile(MODELS.v1Half160) });
    try {
      await expect(ex.extract(new Float32Array(10), 1)).rejects.toThrow(/160x160/);
      expect(await ex.extract(new Float32Array(0), 0)).toHaveLength(0);
    } finally {
      ex.dispose();
    }
    await expect(ex.extract(new Float32Array(160 * 160 * 3), 1)).rejects.toThrow(/after dispose/);
  });
});
