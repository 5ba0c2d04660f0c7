/**
 * The database seam under the tracking store: the store's SQL is written once, against this
 * interface, and each engine has a driver folder beside this file (`sqlite/`, `postgres/`).
 *
 * The SQL the store sends is the common subset of SQLite and PostgreSQL: `?` placeholders (a
 * driver that numbers them, `$1, $2, ...`, rewrites them), `INSERT ... ON CONFLICT`, and a
 * `rowid` column for insertion order (SQLite's implicit one; an identity column on PostgreSQL).
 * Binary values are Buffers (BLOB / BYTEA); integers are JavaScript numbers (a driver converts
 * 64-bit integers it reads back). What differs beyond that (schema bookkeeping, locks, integrity
 * checks) is behind `Dialect`. Everything is async, so a networked engine fits the same calls.
 */

export type SqlValue = string | number | Buffer | null;
export type SqlParams = readonly SqlValue[];

export interface RunResult {
  /** Rows changed by an INSERT/UPDATE/DELETE. */
  changes: number;
}

export interface SqlExecutor {
  /** The engine's dialect (schema bookkeeping and checks). */
  readonly dialect: Dialect;
  run(sql: string, params?: SqlParams): Promise<RunResult>;
  /** First row, or undefined. The row type is the caller's claim; the engine does not check it. */
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  /** Several `;`-separated statements, no parameters (migrations, pragmas). */
  exec(sql: string): Promise<void>;
}

export interface SqlTransaction extends SqlExecutor {
  /**
   * Runs one statement once per row (bulk insert). All rows are attempted before the first
   * error is thrown, so nothing is still in flight when the transaction rolls back.
   */
  runMany(sql: string, rows: Iterable<SqlParams>): Promise<number>;
}

/** One connection (or pool) to one database. */
export interface Database extends SqlExecutor {
  /** Where the database lives, as shown to people (a file path, or a URL without its password). */
  readonly location: string;
  /**
   * BEGIN; fn(tx); COMMIT, or ROLLBACK when fn (or COMMIT) throws, then rethrow. Writers are
   * serialised (readers never see half a transaction). Use only `tx` inside fn.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** Waits for queued work, then closes. Idempotent. */
  close(): Promise<void>;
}

/** Which migrations a database has, and whether it is ours (see migrations.ts). */
export interface SchemaState {
  /** Our marker (APPLICATION_ID) when the database is a tracking store; 0 when unmarked. */
  applicationId: number;
  version: number;
  /** Tables, indexes, views, triggers (the engine's internal objects excluded). */
  objectCount: number;
}

/** What migrating needs from an engine beyond plain SQL. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** One consistent read: a concurrent migration cannot land between its parts. */
  readSchemaState(ex: SqlExecutor): Promise<SchemaState>;
  /**
   * First statement of every migration transaction: waits until no other connection migrates
   * (SQLite: BEGIN IMMEDIATE already holds the write lock; PostgreSQL: an advisory lock).
   */
  lockSchema(tx: SqlTransaction): Promise<void>;
  /** Inside the migration transaction: marks the database as ours (when `creating`) at `version`. */
  writeSchemaVersion(tx: SqlTransaction, version: number, creating: boolean): Promise<void>;
  /** Inside the migration transaction: throws when foreign keys are violated. */
  checkForeignKeys(tx: SqlTransaction): Promise<void>;
  /** `['ok']` for a sound database, else the engine's list of problems. */
  checkIntegrity(ex: SqlExecutor): Promise<string[]>;
}
