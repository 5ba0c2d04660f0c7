/** The config is wrong: the message names the file and field and says what was expected. Exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** The config file. */
    readonly file: string,
    /** One line per problem, `field.path: what is wrong`. */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The run was stopped by the user (SIGINT/SIGTERM). */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}
