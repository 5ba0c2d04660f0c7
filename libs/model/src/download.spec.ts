/** A .tflite URL source: downloaded once through a loopback server, verified, then used offline. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from './backend';
import { CACHE_MANIFEST, downloadModel } from './download';
import { ChecksumMismatchError, ModelDownloadError } from './errors';
import { loadExtractor } from './load';
import { MODELS, sharedModelFile } from './testing/shared-data';

jest.setTimeout(30_000);

const V1_HALF_SHA = '3cc6d2ca460abd2e0f699a6d0d2550c6b61c6e3b0e27a3616e384ea74cb86f43';

let tmp: string;
let server: http.Server;
let baseUrl: string;
const requests: string[] = [];

beforeAll(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-download-'));
  const bytes = fs.readFileSync(sharedModelFile(MODELS.v1Half160));
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/models/v1.tflite') res.writeHead(200).end(bytes);
    else if (req.url === '/models/cut.tflite') res.writeHead(200).end(bytes.subarray(0, 1000));
    else res.writeHead(500).end('boom');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('downloads a .tflite once, checks its sha256 and reuses the cache offline', async () => {
  const cache = path.join(tmp, 'cache');
  const url = `${baseUrl}/models/v1.tflite`;
  requests.length = 0;
  const ex = await loadExtractor({ source: url, downloadCacheDir: cache, sha256: V1_HALF_SHA });
  expect(ex.description).toMatchObject({ source: url, format: 'tflite', sha256: V1_HALF_SHA, featureDim: 512 });
  ex.dispose();
  expect(requests).toEqual(['/models/v1.tflite']);

  const again = await downloadModel(url, { cacheDir: cache, sha256: V1_HALF_SHA });
  expect(again.fromCache).toBe(true);
  expect(path.basename(again.file)).toBe('v1.tflite');
  expect(fs.readdirSync(path.dirname(again.file)).sort()).toEqual([CACHE_MANIFEST, 'v1.tflite']);
  expect(requests).toHaveLength(1);
});

it('rejects bytes with the wrong sha256 before caching them', async () => {
  const cache = path.join(tmp, 'cache-cut');
  const err = await loadExtractor({ source: `${baseUrl}/models/cut.tflite`, downloadCacheDir: cache, sha256: V1_HALF_SHA }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ChecksumMismatchError);
  expect(fs.existsSync(cache) ? fs.readdirSync(cache) : []).toEqual([]); // nothing cached, no temp files
});

it('turns server and network failures into ModelDownloadError', async () => {
  await expect(downloadModel(`${baseUrl}/other`, { cacheDir: path.join(tmp, 'c500') })).rejects.toThrow(/HTTP 500/);
  const failing = (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch;
  const err = await downloadModel('http://127.0.0.1:9/m.tflite', { cacheDir: path.join(tmp, 'cx'), fetch: failing }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelDownloadError);
  expect((err as Error).message).toContain('local path');
});
