/**
 * Typed errors of the report generator; the CLI prints the message and exits 2 (bad input). A run
 * id that matches no run, or several, is the tracking store's RunNotFoundError / AmbiguousRunIdError.
 */

export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

/** --compare needs at least two distinct runs. */
export class CompareArgumentsError extends ReportError {
  constructor(message: string) {
    super(message);
    this.name = 'CompareArgumentsError';
  }
}

/**
 * Stored data the report cannot show: an id that is not a valid id, labels outside the class list,
 * a page path that would leave the output folder. The entry is named and skipped; the rest of the
 * report is written.
 */
export class InvalidStoredDataError extends ReportError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStoredDataError';
  }
}
