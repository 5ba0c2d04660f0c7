/** Typed errors of the report generator; the CLI prints the message and exits 2 (bad input). */

export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

const HOW_TO_FIND_IDS =
  'run ids are listed in the report index (results/report/index.html) and by `sqlite3 results/runs.sqlite "select id, name, start_time from runs"`';

/** A --compare argument that matches no run in the store. */
export class UnknownRunError extends ReportError {
  constructor(
    readonly runId: string,
    readonly store: string,
  ) {
    super(`no run with id ${JSON.stringify(runId)} in ${store}; ${HOW_TO_FIND_IDS} (a unique prefix of at least 4 characters is enough)`);
    this.name = 'UnknownRunError';
  }
}

/** A --compare prefix that matches several runs. */
export class AmbiguousRunIdError extends ReportError {
  constructor(
    readonly prefix: string,
    readonly matches: readonly string[],
  ) {
    super(`run id prefix ${JSON.stringify(prefix)} matches ${matches.length} runs (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}); give more characters`);
    this.name = 'AmbiguousRunIdError';
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
