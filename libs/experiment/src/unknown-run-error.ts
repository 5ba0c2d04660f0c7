import { ConfigError } from './errors';

/** Thrown when a run id is not in the store: says how to find ids. */
export class UnknownRunError extends ConfigError {
  override name = 'UnknownRunError';
  constructor(runId: string, store: string) {
    super(`run ${runId} is not in ${store}; list runs with: npx nx run runner -- runs list --db ${store}`, store);
  }
}
