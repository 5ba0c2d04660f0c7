/** A dataset problem the user can fix: the message names the path and what to do. */
export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    message: string,
    /** The file or folder at fault. */
    readonly path: string,
  ) {
    super(message);
  }
}

/** One image cannot be decoded; `reason` says why in words (truncated, not an image, too large, ...). */
export class BadImageError extends DatasetError {
  override name = 'BadImageError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`cannot decode image ${file}: ${reason}; remove or replace the file, or set dataset.onBadImage: skip`, file);
  }
}

/** Several images cannot be used and `dataset.onBadImage` is `fail`: every file and its reason. */
export class BadImagesError extends DatasetError {
  override name = 'BadImagesError';
  constructor(
    readonly root: string,
    readonly bad: readonly { relPath: string; reason: string }[],
  ) {
    const shown = bad.slice(0, 10).map((b) => `\n  ${b.relPath}: ${b.reason}`).join('');
    const more = bad.length > 10 ? `\n  ... and ${bad.length - 10} more` : '';
    super(
      `${bad.length} unusable image(s) in ${root}:${shown}${more}\n` +
        'remove or replace them, or set dataset.onBadImage: skip to leave them out (they are recorded with the run)',
      root,
    );
  }
}
