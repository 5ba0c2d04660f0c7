import { createHash } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
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

/** Why a file was not read: not a regular file, or over the size limit. The message names the file. */
export class FileBoundsError extends Error {
  override name = 'FileBoundsError';
  constructor(
    message: string,
    readonly file: string,
    readonly reason: 'not-a-file' | 'too-large',
  ) {
    super(message);
  }
}

/** What a non-regular file is, in words. */
export function describeFileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device (such as /dev/zero)';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a whole file only if it is a regular file (symbolic links followed) of at most
 * `maxBytes`: a link to /dev/zero, a pipe or a huge file fails at once instead of filling memory.
 * At most the size seen when opening is read, even if the file grows meanwhile.
 * @throws FileBoundsError, or the fs error (ENOENT, EACCES, ...).
 */
export async function readFileBounded(file: string, maxBytes: number, limitName = 'the size limit'): Promise<Buffer> {
  // stat before open: opening a named pipe would block until a writer appears.
  const before = await fsp.stat(file);
  if (!before.isFile()) throw new FileBoundsError(`${file} is ${describeFileKind(before)}, not a regular file`, file, 'not-a-file');
  const handle = await fsp.open(file, 'r');
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new FileBoundsError(`${file} is ${describeFileKind(st)}, not a regular file`, file, 'not-a-file');
    if (st.size > maxBytes) {
      throw new FileBoundsError(`${file} is ${st.size} bytes, over ${limitName} of ${maxBytes} bytes`, file, 'too-large');
    }
    const out = Buffer.allocUnsafe(st.size);
    let filled = 0;
    while (filled < st.size) {
      const { bytesRead } = await handle.read(out, filled, st.size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === st.size ? out : out.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
