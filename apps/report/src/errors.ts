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
