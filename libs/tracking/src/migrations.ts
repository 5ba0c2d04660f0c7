/**
 * Schema as numbered migrations. Never edit a released migration: append a new one.
 *
 * Version bookkeeping is the engine's (see each driver's dialect, e.g. SQLite's header pragmas);
 * it is written inside each migration's transaction, so it can never disagree with the tables.
 * `schema_migrations` keeps a human-readable history.
 */

import type { Database, SchemaState, SqlExecutor, SqlTransaction } from './database/database';
import { ForeignDatabaseError, MigrationConsentError, MigrationError, SchemaTooNewError } from './errors';
import type { Migration } from './migration';
import { POSTGRES_AFTER, POSTGRES_MIGRATIONS } from './migrations-postgres';
import { SQLITE_MIGRATIONS } from './migrations-sqlite';

export type { SchemaState } from './database/database';
export type { Migration } from './migration';

/** 'MLBT' as a big-endian int32: identifies an mlbench tracking database. */
export const APPLICATION_ID = 0x4d4c4254;

export const MIGRATIONS: readonly Migration[] = SQLITE_MIGRATIONS.map((m) => ({ ...m, postgres: POSTGRES_MIGRATIONS[m.version], postgresAfter: POSTGRES_AFTER[m.version] }));

const BOOKKEEPING_SQL = `
  CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`;

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** One consistent snapshot: a concurrent migration cannot land between the reads. */
export function readSchemaState(db: SqlExecutor): Promise<SchemaState> {
  return db.dialect.readSchemaState(db);
}

/**
 * Throws unless the database is ours (or empty) and not newer than `latest`.
 * Returns the version to migrate from (0 for an empty database).
 */
export function checkSchemaState(state: SchemaState, path: string, latest: number): number {
  if (state.applicationId === 0 && state.version === 0 && state.objectCount === 0) return 0;
  if (state.applicationId !== APPLICATION_ID) throw new ForeignDatabaseError(path, state.applicationId);
  if (state.version > latest) throw new SchemaTooNewError(path, state.version, latest);
  return state.version;
}

export function validateMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration #${i} has version ${m.version}; versions must be 1, 2, 3, ... in order`);
  });
}

export interface MigrationResult {
  from: number;
  to: number;
  /** Versions this call applied (others may have been applied concurrently by another connection). */
  applied: number[];
}

/**
 * Brings the database to the last migration's version: on SQLite one transaction per migration,
 * on PostgreSQL (transactional DDL, several hosts) all of them in one transaction under an
 * advisory lock, so nobody ever sees a half-migrated schema and concurrent openers migrate once.
 * Checks first with reads only, so a foreign or too-new database is refused without a single write;
 * then re-checks inside the write transaction (under the lock), because another connection may be
 * migrating the same database at the same moment. `beforeMigrating` sees, under that lock, the
 * version of a database that is older but not new (it may refuse by throwing).
 * Runs with foreign_keys as the connection has them; the caller enables them afterwards, so that a
 * future table-rebuilding migration is not blocked by them. `foreign_key_check` guards the result.
 */
export async function migrate(
  db: Database,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => Date = () => new Date(),
  options: { beforeMigrating?: (version: number) => void } = {},
): Promise<MigrationResult> {
  validateMigrations(migrations);
  const latest = migrations.length;
  const from = checkSchemaState(await readSchemaState(db), path, latest);
  const applied: number[] = [];
  const pending = migrations.filter((m) => m.version > from);
  const batches = db.dialect.name === 'postgres' ? (pending.length > 0 ? [pending] : []) : pending.map((m) => [m]);
  for (const batch of batches) {
    let attempting = batch[0];
    await db
      .transaction(async (tx) => {
        await tx.dialect.lockSchema(tx);
        let current = checkSchemaState(await readSchemaState(tx), path, latest);
        if (current > 0 && current < batch[0].version) options.beforeMigrating?.(current);
        for (const m of batch) {
          if (current >= m.version) continue; // applied by a concurrent connection
          attempting = m;
          await applyMigration(tx, m, current === 0, now);
          current = m.version;
          applied.push(m.version);
        }
      })
      .catch(async (err: unknown) => {
        if (err instanceof ForeignDatabaseError || err instanceof SchemaTooNewError || err instanceof MigrationConsentError) throw err;
        const state = await readSchemaState(db).catch(() => null);
        throw new MigrationError(path, state?.version ?? attempting.version - 1, attempting.version, attempting.name, err);
      });
  }
  return { from, to: latest, applied };
}

async function applyMigration(tx: SqlTransaction, m: Migration, creating: boolean, now: () => Date): Promise<void> {
  // The bookkeeping belongs to this machinery, not to any one migration.
  if (creating) await tx.exec(BOOKKEEPING_SQL);
  const text = tx.dialect.name === 'postgres' ? m.postgres : m.sql;
  if (text === undefined) throw new Error(`migration ${m.version} (${m.name}) has no ${tx.dialect.name} text`);
  await tx.exec(text);
  if (m.data) await m.data(tx);
  const after = tx.dialect.name === 'postgres' ? (m.postgresAfter ?? m.after) : m.after;
  if (after) await tx.exec(after);
  await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now().toISOString()]);
  await tx.dialect.checkForeignKeys(tx);
  await tx.dialect.writeSchemaVersion(tx, m.version, creating);
}
