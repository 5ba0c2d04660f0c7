/**
 * TensorFlow.js model.json sources: local files, and http downloads into a cache served by a
 * loopback HTTP server started here.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { CACHE_MANIFEST } from './download';
import { ChecksumMismatchError, FeatureLayerError, ModelDownloadError, ModelNotFoundError } from './errors';
import { loadExtractor } from './load';
import { sha256Hex } from './files';
import { tfjsFileSaveHandler } from './tfjs-model';

jest.setTimeout(30_000);

const H = 16;
const W = 16;

let tmp: string;
let modelDir: string;
let model: tf.Sequential;
let server: http.Server;
let baseUrl: string;
const requests: string[] = [];

function pixels(count: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: count * H * W * 3 }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s % 256) / 127.5 - 1;
  });
}

/** Features the in-memory model gives at its GlobalAveragePooling2D layer. */
function expectedFeatures(x: Float32Array, count: number): Float32Array {
  return tf.tidy(() => {
    const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer('gap').output as tf.SymbolicTensor });
    return (sub.predict(tf.tensor4d(x, [count, H, W, 3])) as tf.Tensor).dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-tfjs-'));
  modelDir = path.join(tmp, 'served');
  model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [H, W, 3], filters: 8, kernelSize: 3, activation: 'relu', name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  await model.save(tfjsFileSaveHandler(modelDir));

  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
    const file = path.join(modelDir, rel);
    if (!file.startsWith(modelDir) || !fs.existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  model?.dispose();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('tfjs Layers model from a local model.json', () => {
  it('extracts the GlobalAveragePooling2D output of the saved model', async () => {
    expect(fs.readdirSync(modelDir).sort()).toEqual(['model.json', 'weights.bin']);
    const ex = await loadExtractor({ source: path.join(modelDir, 'model.json') });
    try {
      const jsonBytes = fs.readFileSync(path.join(modelDir, 'model.json'));
      expect(ex.description).toMatchObject({
        format: 'tfjs-layers',
        featureLayer: 'gap',
        featureDim: 8,
        inputShape: [H, W, 3],
        engine: 'tfjs',
        backend: 'wasm',
        sha256: sha256Hex(jsonBytes, fs.readFileSync(path.join(modelDir, 'weights.bin'))),
      });
      const x = pixels(3, 5);
      expectAllClose(await ex.extract(x, 3), expectedFeatures(x, 3), 1e-5);
      const before = tf.memory().numTensors;
      await ex.extract(x, 3);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      ex.dispose();
    }
  });

  it('frees its weights on dispose', async () => {
    const before = tf.memory().numTensors;
    const ex = await loadExtractor({ source: modelDir }); // a folder with a model.json works too
    await ex.extract(pixels(1, 1), 1);
    ex.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes a named layer and rejects unknown names with candidates', async () => {
    const ex = await loadExtractor({ source: path.join(modelDir, 'model.json'), featureLayer: 'conv' });
    try {
      expect(ex.description).toMatchObject({ featureLayer: 'conv', featureDim: (H - 2) * (W - 2) * 8 });
    } finally {
      ex.dispose();
    }
    const err = await loadExtractor({ source: path.join(modelDir, 'model.json'), featureLayer: 'pool' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeatureLayerError);
    expect((err as FeatureLayerError).candidates).toContain('gap');
    expect((err as Error).message).toContain('"pool"');
  });

  it('names a missing weight file', async () => {
    const broken = path.join(tmp, 'broken');
    fs.mkdirSync(broken);
    fs.copyFileSync(path.join(modelDir, 'model.json'), path.join(broken, 'model.json'));
    const err = await loadExtractor({ source: path.join(broken, 'model.json') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotFoundError);
    expect((err as Error).message).toContain(path.join(broken, 'weights.bin'));
  });
});

describe('tfjs model downloaded over http', () => {
  it('downloads once into the cache, verifies sha256, then loads offline', async () => {
    const cache = path.join(tmp, 'cache');
    const url = `${baseUrl}/model.json`;
    const jsonSha = sha256Hex(fs.readFileSync(path.join(modelDir, 'model.json')));
    const x = pixels(2, 11);
    const expected = expectedFeatures(x, 2);

    requests.length = 0;
    const first = await loadExtractor({ source: url, downloadCacheDir: cache, sha256: jsonSha.toUpperCase() });
    try {
      expect(requests).toEqual(['/model.json', '/weights.bin']);
      expect(first.description).toMatchObject({ source: url, format: 'tfjs-layers', featureLayer: 'gap', featureDim: 8 });
      expectAllClose(await first.extract(x, 2), expected, 1e-5);
    } finally {
      first.dispose();
    }
    const [entry] = fs.readdirSync(cache);
    const cached = fs.readdirSync(path.join(cache, entry)).sort();
    expect(cached).toEqual([CACHE_MANIFEST, 'model.json', 'weights.bin']); // no temp files left
    const manifest = JSON.parse(fs.readFileSync(path.join(cache, entry, CACHE_MANIFEST), 'utf8')) as { url: string; sha256: string };
    expect(manifest).toMatchObject({ url, sha256: jsonSha });

    requests.length = 0;
    const second = await loadExtractor({ source: url, downloadCacheDir: cache, sha256: jsonSha });
    try {
      expect(requests).toEqual([]);
      expect(second.description.sha256).toBe(first.description.sha256);
      expectAllClose(await second.extract(x, 2), expected, 1e-5);
    } finally {
      second.dispose();
    }
  });

  it('rejects a wrong sha256 and caches nothing', async () => {
    const cache = path.join(tmp, 'cache-bad');
    const wrong = 'ab'.repeat(32);
    const err = await loadExtractor({ source: `${baseUrl}/model.json`, downloadCacheDir: cache, sha256: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as Error).message).toContain(wrong);
    expect((err as Error).message).toContain(`${baseUrl}/model.json`);
    expect(fs.existsSync(cache) ? fs.readdirSync(cache) : []).toEqual([]);
  });

  it('re-downloads when the cached copy was tampered with', async () => {
    const cache = path.join(tmp, 'cache-tamper');
    const url = `${baseUrl}/model.json`;
    const sha256 = sha256Hex(fs.readFileSync(path.join(modelDir, 'model.json')));
    (await loadExtractor({ source: url, downloadCacheDir: cache, sha256 })).dispose();
    const [entry] = fs.readdirSync(cache);
    const weights = path.join(cache, entry, 'weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[0] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    requests.length = 0;
    (await loadExtractor({ source: url, downloadCacheDir: cache, sha256 })).dispose();
    expect(requests).toEqual(['/model.json', '/weights.bin']);
  });

  it('reports HTTP errors clearly', async () => {
    const err = await loadExtractor({ source: `${baseUrl}/missing/model.json`, downloadCacheDir: path.join(tmp, 'c404') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelDownloadError);
    expect((err as Error).message).toContain('HTTP 404');
  });
});

describe('tfjs Graph model', () => {
  /** A hand-written graph model.json: Conv2D -> Relu -> Mean (global pool) -> MatMul -> Softmax. */
  function writeGraphModel(dir: string): { kernel: Float32Array; dense: Float32Array } {
    const kernel = Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.sin(i) * 0.3);
    const dense = Float32Array.from({ length: 4 * 2 }, (_, i) => Math.cos(i));
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const dim = (...d: number[]): { dim: { size: string }[] } => ({ dim: d.map((size) => ({ size: String(size) })) });
    const json = {
      format: 'graph-model',
      generatedBy: 'test',
      convertedBy: 'hand',
      modelTopology: {
        node: [
          { name: 'image', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dim(-1, 8, 8, 3) } } },
          { name: 'conv/kernel', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(3, 3, 3, 4) } } } },
          {
            name: 'conv/Conv2D',
            op: 'Conv2D',
            input: ['image', 'conv/kernel'],
            attr: {
              T: { type: 'DT_FLOAT' },
              strides: { list: { i: ['1', '1', '1', '1'] } },
              dilations: { list: { i: ['1', '1', '1', '1'] } },
              padding: { s: b64('SAME') },
              data_format: { s: b64('NHWC') },
            },
          },
          { name: 'conv/Relu', op: 'Relu', input: ['conv/Conv2D'], attr: { T: { type: 'DT_FLOAT' } } },
          { name: 'gap/axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dim(2) } } } },
          { name: 'global_average_pooling2d/Mean', op: 'Mean', input: ['conv/Relu', 'gap/axes'], attr: { keep_dims: { b: false }, T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' } } },
          { name: 'dense/kernel', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(4, 2) } } } },
          { name: 'dense/MatMul', op: 'MatMul', input: ['global_average_pooling2d/Mean', 'dense/kernel'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
          { name: 'dense/Softmax', op: 'Softmax', input: ['dense/MatMul'], attr: { T: { type: 'DT_FLOAT' } } },
        ],
        library: {},
        versions: {},
      },
      weightsManifest: [
        {
          paths: ['group1-shard1of1.bin'],
          weights: [
            { name: 'conv/kernel', shape: [3, 3, 3, 4], dtype: 'float32' },
            { name: 'gap/axes', shape: [2], dtype: 'int32' },
            { name: 'dense/kernel', shape: [4, 2], dtype: 'float32' },
          ],
        },
      ],
    };
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(
      path.join(dir, 'group1-shard1of1.bin'),
      Buffer.concat([Buffer.from(kernel.buffer), Buffer.from(Int32Array.from([1, 2]).buffer), Buffer.from(dense.buffer)]),
    );
    return { kernel, dense };
  }

  it('finds the global-average-pooling node and matches tfjs ops', async () => {
    const dir = path.join(tmp, 'graph');
    const { kernel } = writeGraphModel(dir);
    const ex = await loadExtractor({ source: path.join(dir, 'model.json') });
    const x = Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => Math.cos(i * 0.7));
    try {
      expect(ex.description).toMatchObject({ format: 'tfjs-graph', featureLayer: 'global_average_pooling2d/Mean', featureDim: 4, inputShape: [8, 8, 3] });
      const expected = tf.tidy(() =>
        tf.mean(tf.relu(tf.conv2d(tf.tensor4d(x, [2, 8, 8, 3]), tf.tensor4d(kernel, [3, 3, 3, 4]), 1, 'same')), [1, 2]).dataSync(),
      );
      expectAllClose(await ex.extract(x, 2), expected, 1e-5);
    } finally {
      ex.dispose();
    }
    const err = await loadExtractor({ source: path.join(dir, 'model.json'), featureLayer: 'dense/Relu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeatureLayerError);
    expect((err as FeatureLayerError).candidates).toEqual(expect.arrayContaining(['global_average_pooling2d/Mean']));
  });
});

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
}
