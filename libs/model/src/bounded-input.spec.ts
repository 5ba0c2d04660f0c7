/**
 * Hostile model sources: a link to /dev/zero, a pipe, a file over the size limit, an endless or
 * silent HTTP server, malformed URLs and weight paths. Each fails fast with a ModelError.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from './backend';
import { downloadModel } from './download';
import { ModelDownloadError, ModelFormatError, ModelOptionsError } from './errors';
import { sha256Hex } from './files';
import { modelLimitsFromEnv, parseByteSize } from './limits';
import { loadExtractor } from './load';
import { startTestHttpServer, streamEndlessly, type TestHttpServer } from './testing/http-server';
import { MODELS, sharedModelFile } from './testing/shared-data';

jest.setTimeout(30_000);

let tmp: string;
let server: TestHttpServer | undefined;
let baseUrl: string;
let requests: string[];
let modelBytes: Buffer;

beforeAll(async () => {
  await initBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-bounded-'));
  modelBytes = fs.readFileSync(sharedModelFile(MODELS.v1Half160));
  server = await startTestHttpServer((req, res) => {
    if (req.url === '/endless.tflite') {
      streamEndlessly(res, Buffer.alloc(64 * 1024, 7));
    } else if (req.url === '/announced-huge.tflite') {
      res.writeHead(200, { 'content-length': String(50 * 1024 ** 3) });
      res.write(Buffer.alloc(1024)); // then nothing: it must be refused by the header alone
    } else if (req.url === '/silent.tflite') {
      // Accepts the connection, never answers.
    } else if (req.url === '/stalls.tflite') {
      res.writeHead(200, { 'content-length': String(modelBytes.length) });
      res.write(modelBytes.subarray(0, 1000)); // then silence mid-body
    } else if (req.url === '/v1.tflite') {
      res.writeHead(200).end(modelBytes);
    } else res.writeHead(404).end();
  });
  ({ baseUrl, requests } = server);
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const leftovers = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String) : []);

describe('local model sources are bounded before they are read', () => {
  it('refuses a link to /dev/zero as not a regular file', async () => {
    const link = path.join(tmp, 'zero.tflite');
    fs.symlinkSync('/dev/zero', link);
    const err = await loadExtractor({ source: link }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(/zero\.tflite is a character device \(such as \/dev\/zero\), not a regular file/);
  });

  it('refuses a named pipe without blocking on it', async () => {
    const fifo = path.join(tmp, 'pipe.tflite');
    execFileSync('mkfifo', [fifo]);
    const err = await loadExtractor({ source: fifo }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/pipe\.tflite is a named pipe, not a regular file/);
  });

  it('refuses a .tflite over the size limit, naming the limit and how to raise it', async () => {
    const err = await loadExtractor({ source: sharedModelFile(MODELS.v1Half160), limits: { maxModelBytes: 100_000 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(new RegExp(`is ${modelBytes.length} bytes, over the model size limit of 100000 bytes .*MLBENCH_MAX_MODEL_BYTES`));
  });

  it('counts model.json and its weights together against the limit, and refuses a weight link to /dev/zero', async () => {
    const dir = path.join(tmp, 'tfjs');
    fs.mkdirSync(dir);
    const json = { format: 'layers-model', modelTopology: { class_name: 'Sequential' }, weightsManifest: [{ paths: ['w.bin'], weights: [] }] };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.alloc(5000));
    const limit = fs.statSync(path.join(dir, 'model.json')).size + 4000;
    const err = await loadExtractor({ source: dir, limits: { maxModelBytes: limit } }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/w\.bin is 5000 bytes, over what is left of the model size limit/);
    fs.rmSync(path.join(dir, 'w.bin'));
    fs.symlinkSync('/dev/zero', path.join(dir, 'w.bin'));
    const zero = await loadExtractor({ source: dir }).catch((e: unknown) => e);
    expect(zero).toBeInstanceOf(ModelFormatError);
    expect((zero as Error).message).toMatch(/w\.bin is a character device/);
  });

  it('refuses a weight path that does not decode', async () => {
    const dir = path.join(tmp, 'tfjs-bad-path');
    fs.mkdirSync(dir);
    const json = { format: 'layers-model', modelTopology: { class_name: 'Sequential' }, weightsManifest: [{ paths: ['%E0%A4%A.bin'], weights: [] }] };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    const err = await loadExtractor({ source: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toContain('"%E0%A4%A.bin" outside its folder or not a valid path');
  });

  it('refuses a 200k-deep model.json before tfjs walks it', async () => {
    const dir = path.join(tmp, 'tfjs-deep');
    fs.mkdirSync(dir);
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    fs.writeFileSync(path.join(dir, 'model.json'), `{"format": "layers-model", "modelTopology": {"class_name": "Sequential", "config": ${deep}}, "weightsManifest": []}`);
    const err = await loadExtractor({ source: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(/model\.json is nested deeper than 256 levels/);
  });

    it('reads the limits from the environment, refusing a malformed value', () => {
    expect(modelLimitsFromEnv({ MLBENCH_MAX_MODEL_BYTES: '512MiB', MLBENCH_DOWNLOAD_TIMEOUT_SECONDS: '2.5' })).toEqual({ maxModelBytes: 512 * 1024 ** 2, downloadTimeoutMs: 2500 });
    expect(modelLimitsFromEnv({})).toEqual({ maxModelBytes: 2 * 1024 ** 3, downloadTimeoutMs: 30_000 });
    expect(() => modelLimitsFromEnv({ MLBENCH_MAX_MODEL_BYTES: 'lots' })).toThrow(/MLBENCH_MAX_MODEL_BYTES="lots": expected a size/);
    expect(() => modelLimitsFromEnv({ MLBENCH_DOWNLOAD_TIMEOUT_SECONDS: '-1' })).toThrow(ModelOptionsError);
    expect([parseByteSize('2 GB'), parseByteSize('4GiB'), parseByteSize('0'), parseByteSize('1e9')]).toEqual([2e9, 4 * 1024 ** 3, undefined, undefined]);
  });
});

describe('downloads are bounded in size and time, streamed to disk', () => {
  it('stops an endless body at the size limit and leaves nothing in the cache', async () => {
    const cache = path.join(tmp, 'c-endless');
    const rssBefore = process.memoryUsage().rss;
    const err = await downloadModel(`${baseUrl}/endless.tflite`, { cacheDir: cache, limits: { maxModelBytes: 64 * 1024 ** 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelDownloadError);
    expect((err as Error).message).toMatch(/the body passed \d+ bytes, over the model size limit of 64 MiB/);
    expect(leftovers(cache)).toEqual([]);
    // Streamed to a file, not buffered: far less than the 64 MiB that went through.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(48 * 1024 ** 2);
  });

  it('refuses a body whose Content-Length is over the limit before reading it', async () => {
    const err = await downloadModel(`${baseUrl}/announced-huge.tflite`, { cacheDir: path.join(tmp, 'c-huge') }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/announces 53687091200 bytes \(Content-Length\), over the model size limit of 2 GiB/);
  });

  it('gives up on a server that never answers, and on one that stalls mid-body', async () => {
    const started = Date.now();
    const silent = await downloadModel(`${baseUrl}/silent.tflite`, { cacheDir: path.join(tmp, 'c-silent'), limits: { downloadTimeoutMs: 500 } }).catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(ModelDownloadError);
    expect((silent as Error).message).toMatch(/no data for 0\.5 s while connecting or waiting for the response.*MLBENCH_DOWNLOAD_TIMEOUT_SECONDS/);
    const stalled = await downloadModel(`${baseUrl}/stalls.tflite`, { cacheDir: path.join(tmp, 'c-stall'), limits: { downloadTimeoutMs: 500 } }).catch((e: unknown) => e);
    expect((stalled as Error).message).toMatch(/no data for 0\.5 s after 1000 bytes of the body/);
    expect(leftovers(path.join(tmp, 'c-stall'))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses to use a download without sha256, naming the hash to pin; pinned, it comes from the cache', async () => {
    const cache = path.join(tmp, 'c-pin');
    const url = `${baseUrl}/v1.tflite`;
    requests.length = 0;
    const err = await loadExtractor({ source: url, downloadCacheDir: cache }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelOptionsError);
    const sha = sha256Hex(modelBytes);
    expect((err as Error).message).toContain(`add "sha256: ${sha}" under model.extractor`);
    const ex = await loadExtractor({ source: url, downloadCacheDir: cache, sha256: sha, engine: 'tfjs', workers: 1 });
    ex.dispose();
    expect(requests).toEqual(['/v1.tflite']); // fetched once
  });

  it.each([['http://[::1/m.tflite'], ['http://127.0.0.1:1/%E0%A4%A.tflite'], ['http://host:99999/m.tflite']])('refuses the malformed URL %s', async (url) => {
    const err = await loadExtractor({ source: url, downloadCacheDir: path.join(tmp, 'c-url') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelOptionsError);
    expect((err as Error).message).toContain('is not a valid URL');
  });
});
