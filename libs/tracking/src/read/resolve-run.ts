/**
 * Run ids as people type them: the full 32-digit id or a unique prefix of at least 4 digits.
 * One not-found error (RunNotFoundError, naming the store) and one ambiguity error.
 */

import type { Run } from '../entities';
import { AmbiguousRunIdError, RunNotFoundError } from '../errors';
import type { TrackingStore } from '../store';

export const MIN_RUN_ID_PREFIX = 4;

const normalise = (idOrPrefix: string): string => idOrPrefix.trim().toLowerCase();

/** The run among `runs` with this id, or the only one whose id starts with it. */
export function findRun(runs: readonly Run[], idOrPrefix: string, store: string): Run {
  const wanted = normalise(idOrPrefix);
  const exact = runs.find((r) => r.id === wanted);
  if (exact) return exact;
  return onlyMatch(wanted.length >= MIN_RUN_ID_PREFIX ? runs.filter((r) => r.id.startsWith(wanted)) : [], idOrPrefix, store);
}

/** Resolves an id or unique prefix against the store. */
export async function resolveRun(store: TrackingStore, idOrPrefix: string): Promise<Run> {
  const wanted = normalise(idOrPrefix);
  const exact = await store.getRun(wanted);
  if (exact) return exact;
  const candidates = wanted.length >= MIN_RUN_ID_PREFIX ? await store.searchRuns({ idPrefix: wanted, limit: Number.MAX_SAFE_INTEGER }) : [];
  return onlyMatch(candidates, idOrPrefix, store.location);
}

function onlyMatch(matches: readonly Run[], idOrPrefix: string, store: string): Run {
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new AmbiguousRunIdError(idOrPrefix, matches.map((r) => r.id));
  throw new RunNotFoundError(idOrPrefix, { store });
}
