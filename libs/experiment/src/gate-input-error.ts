import { ConfigError } from './errors';

/** A gate or leaderboard input that cannot be compared (wrong seeds, other data, edited numbers). Exit code 2. */
export class GateInputError extends ConfigError {
  override name = 'GateInputError';
  constructor(message: string) {
    super(message, '(gate)');
  }
}
