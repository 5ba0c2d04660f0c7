/**
 * Downloads a model (a .tflite file, or a tfjs model.json with its weight files) into a cache
 * folder once, then serves it from disk without touching the network.
 *
 * Layout: `<cacheDir>/<first 16 hex of sha256(url)>/` holds the files under their URL-relative
 * names plus `manifest.json`, written last: a folder without a valid manifest is an interrupted
 * download and is fetched again. Every file is written atomically (temp file + rename).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ChecksumMismatchError, ModelDownloadError, ModelFormatError } from './errors';
import { writeFileAtomic } from '@mlbench/common';
import { safeRelativePath, sha256Hex, statOrUndefined } from './files';

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
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export async function downloadModel(url: string, options: DownloadOptions): Promise<DownloadedModel> {
  const dir = path.join(path.resolve(options.cacheDir), sha256Hex(Buffer.from(url)).slice(0, 16));
  const cached = await readValidCache(dir, url);
  if (cached && (!options.sha256 || matchesExpected(cached, options.sha256))) {
    return { file: path.join(dir, cached.files[0].path), manifest: cached, fromCache: true };
  }
  // Not cached, incomplete, or cached bytes differ from the expected hash: fetch afresh.
  const doFetch = options.fetch ?? fetch;
  const mainName = safeRelativePath(path.posix.basename(new URL(url).pathname)) ?? 'model';
  const main = await fetchBytes(doFetch, url);
  const files: { path: string; data: Uint8Array }[] = [{ path: mainName, data: main }];
  const mainSha = sha256Hex(main);
  const isModelJson = main[0] === 0x7b; // '{': a tfjs model.json; weight files follow.
  if (options.sha256 && !isModelJson && mainSha !== options.sha256) throw mismatch(url, options.sha256, mainSha);
  if (isModelJson) {
    for (const rel of weightPaths(main, url)) {
      files.push({ path: rel, data: await fetchBytes(doFetch, new URL(rel, url).toString()) });
    }
  }
  const combined = sha256Hex(...files.map((f) => f.data));
  if (options.sha256 && options.sha256 !== mainSha && options.sha256 !== combined) {
    throw mismatch(url, options.sha256, mainSha);
  }
  for (const f of files) await writeFileAtomic(path.join(dir, f.path), f.data);
  const manifest: CacheManifest = {
    url,
    downloadedAt: new Date().toISOString(),
    sha256: mainSha,
    combinedSha256: combined,
    files: files.map((f) => ({ path: f.path, bytes: f.data.length, sha256: sha256Hex(f.data) })),
  };
  await writeFileAtomic(path.join(dir, CACHE_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return { file: path.join(dir, mainName), manifest, fromCache: false };
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
    manifest = JSON.parse(await fsp.readFile(path.join(dir, CACHE_MANIFEST), 'utf8')) as CacheManifest;
  } catch {
    return undefined;
  }
  if (manifest.url !== url || !Array.isArray(manifest.files) || manifest.files.length === 0) return undefined;
  for (const f of manifest.files) {
    const file = path.join(dir, f.path);
    const st = await statOrUndefined(file);
    if (!st || st.size !== f.bytes) return undefined;
    // Re-hash: cheap next to inference, and a corrupted cache must not silently change results.
    if (sha256Hex(await fsp.readFile(file)) !== f.sha256) return undefined;
  }
  return manifest;
}

async function fetchBytes(doFetch: typeof fetch, url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await doFetch(url);
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new ModelDownloadError(
      `Could not download ${url}: ${(err as Error).message}${cause ? ` (${cause})` : ''}. Check the network, ` +
        'or download the model yourself and pass its local path as the source.',
      url,
    );
  }
  if (!res.ok) {
    throw new ModelDownloadError(`Could not download ${url}: HTTP ${res.status} ${res.statusText}.`, url);
  }
  return new Uint8Array(await res.arrayBuffer());
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
