/**
 * Downloads a model (a .tflite file, or a tfjs model.json with its weight files) into a cache
 * folder once, then serves it from disk without touching the network.
 *
 * Layout: `<cacheDir>/<first 16 hex of sha256(url)>/` holds the files under their URL-relative
 * names plus `manifest.json`, written last: a folder without a valid manifest is an interrupted
 * download and is fetched again. Every file is streamed to a temp file and renamed into place.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { ChecksumMismatchError, ModelDownloadError, ModelFormatError } from './errors';
import { readFileBounded, writeFileAtomic } from '@mlbench/common';
import { safeRelativePath, sha256Hex, statOrUndefined } from './files';
import { DEFAULT_MODEL_LIMITS, formatBytes, MODEL_LIMIT_ENV, type ModelLimits } from './limits';

export const CACHE_MANIFEST = 'manifest.json';

export interface CacheManifest {
  url: string;
  downloadedAt: string;
  /** sha256 of the main file (the .tflite, or model.json). */
  sha256: string;
  /** sha256 of all files concatenated in order (main file first, then weights in manifest order). */
  combinedSha256: string;
  files: { path: string; bytes: number; sha256: string }[];
}

export interface DownloadedModel {
  /** Local path of the .tflite or model.json. */
  file: string;
  manifest: CacheManifest;
  /** True when nothing was fetched. */
  fromCache: boolean;
}

export interface DownloadOptions {
  cacheDir: string;
  /** Expected sha256 of the main file's bytes (or, for tfjs, of all files: see CacheManifest). */
  sha256?: string;
  /** Size and time bounds; absent fields: the defaults (2 GiB for all files together, 30 s without a byte). */
  limits?: Partial<ModelLimits>;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** A file streamed to a temp file beside its final name, not yet renamed into place. */
interface Fetched {
  path: string;
  tmp: string;
  bytes: number;
  sha256: string;
}

/**
 * Downloads `url` (a .tflite or a model.json and its weights) into the cache, unless a complete,
 * intact copy is there. Bodies are streamed to temp files and renamed into place only when every
 * file arrived and matches `sha256`: memory use does not grow with the model, and an interrupted
 * or refused download leaves nothing behind. A body over the size limit (by Content-Length or as
 * counted) and a server silent for longer than the timeout fail with ModelDownloadError.
 */
export async function downloadModel(url: string, options: DownloadOptions): Promise<DownloadedModel> {
  const limits: ModelLimits = { ...DEFAULT_MODEL_LIMITS, ...options.limits };
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new ModelDownloadError(`"${url}" is not a valid URL (malformed host or port); check the model source.`, url);
  }
  const dir = path.join(path.resolve(options.cacheDir), sha256Hex(Buffer.from(url)).slice(0, 16));
  const cached = await readValidCache(dir, url);
  if (cached && (!options.sha256 || matchesExpected(cached, options.sha256))) {
    return { file: path.join(dir, cached.files[0].path), manifest: cached, fromCache: true };
  }
  // Not cached, incomplete, or cached bytes differ from the expected hash: fetch afresh.
  const doFetch = options.fetch ?? fetch;
  const mainName = safeRelativePath(path.posix.basename(parsedUrl.pathname)) || 'model';
  const combined = createHash('sha256');
  const fetched: Fetched[] = [];
  const dirExisted = (await statOrUndefined(dir)) !== undefined;
  let budget = limits.maxModelBytes;
  const get = async (rel: string, fileUrl: string): Promise<Fetched> => {
    const f = await fetchToFile(doFetch, fileUrl, path.join(dir, rel), combined, { ...limits, maxModelBytes: budget }, limits.maxModelBytes);
    fetched.push({ ...f, path: rel });
    budget -= f.bytes;
    return { ...f, path: rel };
  };
  try {
    const main = await get(mainName, url);
    const head = await readHead(main.tmp, 1);
    const isModelJson = head[0] === 0x7b; // '{': a tfjs model.json; weight files follow.
    if (options.sha256 && !isModelJson && main.sha256 !== options.sha256) throw mismatch(url, options.sha256, main.sha256);
    if (isModelJson) {
      for (const rel of weightPaths(await readFileBounded(main.tmp, limits.maxModelBytes), url)) await get(rel, new URL(rel, url).toString());
    }
    const combinedSha = combined.digest('hex');
    if (options.sha256 && options.sha256 !== main.sha256 && options.sha256 !== combinedSha) throw mismatch(url, options.sha256, main.sha256);
    for (const f of fetched) await fsp.rename(f.tmp, path.join(dir, f.path));
    const manifest: CacheManifest = {
      url,
      downloadedAt: new Date().toISOString(),
      sha256: main.sha256,
      combinedSha256: combinedSha,
      files: fetched.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 })),
    };
    await writeFileAtomic(path.join(dir, CACHE_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    return { file: path.join(dir, mainName), manifest, fromCache: false };
  } catch (err) {
    await Promise.all(fetched.map((f) => fsp.rm(f.tmp, { force: true })));
    // A refused first download leaves no empty folder behind (nothing was cached).
    if (!dirExisted) await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function readHead(file: string, n: number): Promise<Buffer> {
  const handle = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function matchesExpected(m: CacheManifest, expected: string): boolean {
  return m.sha256 === expected || m.combinedSha256 === expected;
}

function mismatch(url: string, expected: string, actual: string): ChecksumMismatchError {
  return new ChecksumMismatchError(
    `sha256 mismatch for ${url}: expected ${expected}, downloaded ${actual}. The file changed on the ` +
      'server or the download was corrupted; nothing was cached. Check the URL, or update the expected ' +
      'sha256 if the new file is trusted.',
    url,
    expected,
    actual,
  );
}

/** The manifest, if the folder holds a complete download of `url` whose files still hash right. */
async function readValidCache(dir: string, url: string): Promise<CacheManifest | undefined> {
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse((await readFileBounded(path.join(dir, CACHE_MANIFEST), 16 * 1024 ** 2)).toString('utf8')) as CacheManifest;
  } catch {
    return undefined;
  }
  if (manifest.url !== url || !Array.isArray(manifest.files) || manifest.files.length === 0) return undefined;
  for (const f of manifest.files) {
    const rel = typeof f.path === 'string' ? safeRelativePath(f.path) : undefined;
    if (!rel) return undefined;
    const file = path.join(dir, rel);
    const st = await statOrUndefined(file);
    if (!st || !st.isFile() || st.size !== f.bytes) return undefined;
    // Re-hash: cheap next to inference, and a corrupted cache must not silently change results.
    if ((await hashFileStream(file)) !== f.sha256) return undefined;
  }
  return manifest;
}

async function hashFileStream(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function downloadFailed(url: string, err: unknown): ModelDownloadError {
  const cause = (err as { cause?: { message?: string } }).cause?.message;
  return new ModelDownloadError(
    `Could not download ${url}: ${(err as Error).message}${cause ? ` (${cause})` : ''}. Check the network, ` +
      'or download the model yourself and pass its local path as the source.',
    url,
  );
}

/**
 * Streams one URL into a temp file beside `dest`, counting bytes against `limits.maxModelBytes`
 * (what is left of the model's budget) and failing when nothing arrives for `downloadTimeoutMs`.
 */
async function fetchToFile(
  doFetch: typeof fetch,
  url: string,
  dest: string,
  combined: Hash,
  limits: ModelLimits,
  totalLimit: number,
): Promise<Omit<Fetched, 'path'>> {
  const seconds = `${+(limits.downloadTimeoutMs / 1000).toFixed(3)} s`;
  const overLimit = (what: string): ModelDownloadError =>
    new ModelDownloadError(
      `Could not download ${url}: ${what}, over the model size limit of ${formatBytes(totalLimit)} (model.json and weights together). ` +
        `Check the URL, or raise the limit with ${MODEL_LIMIT_ENV.maxModelBytes}=<bytes, e.g. 4GiB>.`,
      url,
    );
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limits.downloadTimeoutMs);
  };
  const silent = (stage: string): ModelDownloadError =>
    new ModelDownloadError(
      `Could not download ${url}: no data for ${seconds} ${stage}. The server is not answering; try again later, ` +
        `raise the timeout with ${MODEL_LIMIT_ENV.downloadTimeoutSeconds}=<seconds>, or download the model yourself and pass its local path.`,
      url,
    );
  arm();
  let res: Response;
  try {
    res = await doFetch(url, { signal: controller.signal });
  } catch (err) {
    clearTimeout(timer);
    throw timedOut ? silent('while connecting or waiting for the response') : downloadFailed(url, err);
  }
  let tmp: string | undefined;
  let handle: FileHandle | undefined;
  try {
    if (!res.ok) throw new ModelDownloadError(`Could not download ${url}: HTTP ${res.status} ${res.statusText}.`, url);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > limits.maxModelBytes) throw overLimit(`the server announces ${declared} bytes (Content-Length)`);
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    handle = await fsp.open(tmp, 'wx');
    const hash = createHash('sha256');
    let bytes = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          arm();
          const { done, value } = await reader.read();
          if (done) break;
          bytes += value.byteLength;
          if (bytes > limits.maxModelBytes) throw overLimit(`the body passed ${bytes} bytes`);
          hash.update(value);
          combined.update(value);
          await handle.write(value);
        }
      } catch (err) {
        if (timedOut) throw silent(`after ${bytes} bytes of the body`);
        if (err instanceof ModelDownloadError) throw err;
        throw downloadFailed(url, err);
      } finally {
        reader.releaseLock();
      }
    }
    await handle.close();
    handle = undefined;
    return { tmp, bytes, sha256: hash.digest('hex') };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    if (tmp) await fsp.rm(tmp, { force: true });
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort(); // releases the connection of a body left unread
  }
}

/** Weight-file paths listed in a model.json, relative to it. */
export function weightPaths(modelJson: Uint8Array | string, label: string): string[] {
  let parsed: { weightsManifest?: { paths?: unknown }[] };
  try {
    parsed = JSON.parse(typeof modelJson === 'string' ? modelJson : new TextDecoder().decode(modelJson)) as typeof parsed;
  } catch (err) {
    throw new ModelFormatError(`${label} is not valid JSON (${(err as Error).message}); expected a TensorFlow.js model.json.`, label);
  }
  const out: string[] = [];
  for (const group of parsed.weightsManifest ?? []) {
    for (const p of Array.isArray(group.paths) ? group.paths : []) {
      const rel = typeof p === 'string' ? safeRelativePath(p) : undefined;
      if (!rel) throw new ModelFormatError(`${label} lists a weight file path ${JSON.stringify(p)} outside its folder.`, label);
      out.push(rel);
    }
  }
  return out;
}
