import { redactUrl } from './database/postgres/postgres-database';
import { isPostgresUrl, openPostgresStore } from './postgres-store';
import { openSqliteStore } from './sqlite-store';
import type { TrackingStore } from './store';

export interface OpenStoreOptions {
  /** Clock for start/end times (tests). */
  now?: () => Date;
  /** PostgreSQL: migrate an older schema (default: $MLBENCH_MIGRATE is `yes`). SQLite backs up and migrates anyway. */
  allowMigration?: boolean;
  /**
   * For commands that only read: SQLite opens an existing database, never created, migrated or
   * written (works on a read-only disk). PostgreSQL reads as usual (an older schema is still only
   * migrated with consent).
   */
  readOnly?: boolean;
  /** PostgreSQL: connections in the pool (default 4); each held feature lock pins one for its whole extraction. */
  maxConnections?: number;
}

/** Set to `yes` (the apps' --yes does) to let opening migrate an older PostgreSQL schema. */
export const MIGRATE_CONSENT_ENV = 'MLBENCH_MIGRATE';

/** Where the apps' commands find the store by default: $MLBENCH_DB, else results/runs.sqlite. */
export const defaultStoreLocation = (env: NodeJS.ProcessEnv = process.env): string => env.MLBENCH_DB || 'results/runs.sqlite';

/** Opens the tracking store at `location`: a SQLite file path, or a `postgresql://` URL. */
export function openTrackingStore(location: string, options: OpenStoreOptions = {}): Promise<TrackingStore> {
  const allowMigration = options.allowMigration ?? process.env[MIGRATE_CONSENT_ENV] === 'yes';
  return isPostgresUrl(location) ? openPostgresStore(location, { now: options.now, allowMigration, maxConnections: options.maxConnections }) : openSqliteStore(location, { now: options.now, readOnly: options.readOnly });
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

/** A store location as shown to people: a PostgreSQL URL without its password, a path as it is. */
export const displayLocation = (location: string): string => (isPostgresUrl(location) ? redactUrl(location) : location);
