/** What a file-system errno code means to a user, in words. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a part of the path is a file, not a folder',
};

/** The words for `code` (e.g. `ENOSPC` -> `no space left on device`), or undefined for codes without any. */
export function errnoWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : ERRNO_WORDS[code];
}

/** The errno code of a Node.js system error, or undefined. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
