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
