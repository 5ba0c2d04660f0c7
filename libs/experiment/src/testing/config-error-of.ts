import { ConfigError } from '../errors';

/** The message of the ConfigError `run` throws; fails the test when it throws anything else or nothing. */
export function configErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}
