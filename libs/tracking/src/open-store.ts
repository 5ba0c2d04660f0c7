import { openSqliteStore } from './sqlite-store';
import type { TrackingStore } from './store';

/**
 * Opens the tracking store at `location` (a SQLite file path). `readOnly`: for commands that only
 * read: an existing database, never created, migrated or written (works on a read-only disk).
 */
export function openTrackingStore(location: string, options: { readOnly?: boolean } = {}): Promise<TrackingStore> {
  return openSqliteStore(location, options);
}

export interface BorrowedStore {
  store: TrackingStore;
  /** Closes the store when it was opened here; a lent store stays open (its owner closes it). */
  release(): Promise<void>;
}

/** The caller's store when it lends one, else the store at `dbPath`, opened here. */
export async function borrowStore(options: { store?: TrackingStore; dbPath: string }): Promise<BorrowedStore> {
  if (options.store) return { store: options.store, release: async () => undefined };
  const store = await openTrackingStore(options.dbPath);
  return { store, release: () => store.close() };
}
