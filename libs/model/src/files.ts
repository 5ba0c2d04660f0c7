import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** Hex sha256 of the concatenation of `parts`. */
export function sha256Hex(...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/**
 * Writes via a unique temp file in the same folder and a rename, so a reader (or a concurrent
 * writer in another process) never sees a half-written file.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

export async function statOrUndefined(file: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fsp.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

export function isHttpUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * A weight-file path from model.json as a safe relative path inside the model folder: no absolute
 * paths, no `..`, no URL query. Returns undefined if it would escape the folder.
 */
export function safeRelativePath(p: string): string | undefined {
  const clean = decodeURIComponent(p.split(/[?#]/)[0]);
  const norm = path.posix.normalize(clean.replace(/\\/g, '/'));
  if (!norm || norm.startsWith('/') || norm === '..' || norm.startsWith('../') || /^[a-z]+:/i.test(norm)) return undefined;
  return norm;
}
