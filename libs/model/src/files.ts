import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** Hex sha256 of the concatenation of `parts`. */
export function sha256Hex(...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

export async function statOrUndefined(file: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fsp.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * A weight-file path from model.json as a safe relative path inside the model folder: no absolute
 * paths, no `..`, no URL query. Returns undefined if it would escape the folder.
 */
export function safeRelativePath(p: string): string | undefined {
  let clean: string;
  try {
    clean = decodeURIComponent(p.split(/[?#]/)[0]);
  } catch {
    return undefined; // malformed percent-encoding, e.g. `%E0%A4%A`
  }
  const norm = path.posix.normalize(clean.replace(/\\/g, '/'));
  if (!norm || norm.startsWith('/') || norm === '..' || norm.startsWith('../') || /^[a-z]+:/i.test(norm)) return undefined;
  return norm;
}
