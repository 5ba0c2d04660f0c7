/**
 * Reading a whole file within bounds: only a regular file (symbolic links followed) of at most
 * `maxBytes`. A link to /dev/zero, a named pipe or a huge file fails at once, with a message
 * naming it, instead of filling memory or blocking.
 */
import { promises as fsp, type Stats } from 'node:fs';

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
