/**
 * Opening a PostgreSQL tracking store (`postgresql://user:password@host:port/database`, or any
 * part of it from the PG* environment variables). The store's methods are the same
 * SqlTrackingStore as SQLite's; the migrations are the same numbered list. An older schema is
 * migrated only with consent (`allowMigration`, the apps' --yes) after a pg_dump backup, because
 * a shared database has no file to copy first; a new, empty database is created without asking.
 */

import { PostgresDb } from './database/postgres/postgres-database';
import { MigrationConsentError, PostgresError, StoreConnectError } from './errors';
import { MIGRATIONS, migrate } from './migrations';
import { PostgresFeatureCache } from './postgres-feature-cache';
import type { TrackingStore } from './store';
import { SqlTrackingStore } from './store/sql-tracking-store';

export interface PostgresStoreOptions {
  /** Clock for start/end times (tests). Default `() => new Date()`. */
  now?: () => Date;
  /** Migrate an older schema (after a backup). Default false: refuse with MigrationConsentError. */
  allowMigration?: boolean;
  /** Connections in the pool. Default 4. */
  maxConnections?: number;
}

export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<TrackingStore> {
  const db = await PostgresDb.open(url, { max: options.maxConnections }).catch((err: unknown) => {
    throw err instanceof PostgresError ? new StoreConnectError(err.code, err.message.replace(/ \[in: .*\]$/, ''), { cause: err }) : err;
  });
  try {
    const latest = MIGRATIONS.length;
    // Decided under the migration lock: a database another opener is creating right now is not "older".
    await migrate(db, db.location, MIGRATIONS, undefined, {
      beforeMigrating: (from) => {
        if (!options.allowMigration) throw new MigrationConsentError(db.location, from, latest);
      },
    });
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return new SqlTrackingStore(db, db.location, options.now ?? (() => new Date()), new PostgresFeatureCache(db));
}
