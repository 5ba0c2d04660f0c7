/**
 * Typed errors of the tracking store. Callers branch on `instanceof` (or `code`), never on
 * message text, so every condition a caller may want to handle has its own class.
 */

import type { RunStatus } from './entities';

export class TrackingStoreError extends Error {
  /** Stable machine-readable code, e.g. `SCHEMA_TOO_NEW` or `SQLITE_CONSTRAINT`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TrackingStoreError';
  }
}

/** The file exists but is not a SQLite database (wrong header, truncated, ...). */
export class NotASqliteDatabaseError extends TrackingStoreError {
  constructor(
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('NOT_SQLITE', `${path} is not a SQLite database (${detail}); refusing to open it as a tracking store`, options);
    this.name = 'NotASqliteDatabaseError';
  }
}

/** A SQLite database that holds tables but was not created by this tracking store. */
export class ForeignDatabaseError extends TrackingStoreError {
  constructor(
    readonly path: string,
    readonly applicationId: number,
  ) {
    super(
      'FOREIGN_DATABASE',
      `${path} is a SQLite database of another application (application_id=${applicationId}); ` +
        'refusing to modify it. Point the tracking store at a new file.',
    );
    this.name = 'ForeignDatabaseError';
  }
}

/** The database was written by a newer version of this code; it is left untouched. */
export class SchemaTooNewError extends TrackingStoreError {
  constructor(
    readonly path: string,
    readonly databaseVersion: number,
    readonly supportedVersion: number,
  ) {
    super(
      'SCHEMA_TOO_NEW',
      `${path} has tracking schema version ${databaseVersion}, but this code only knows versions up to ` +
        `${supportedVersion}; upgrade the code (the database was not modified)`,
    );
    this.name = 'SchemaTooNewError';
  }
}

/** A migration failed; its transaction was rolled back, so the database stays at `fromVersion`. */
export class MigrationError extends TrackingStoreError {
  constructor(
    readonly path: string,
    readonly fromVersion: number,
    readonly migrationVersion: number,
    readonly migrationName: string,
    cause: unknown,
  ) {
    super(
      'MIGRATION_FAILED',
      `${path}: migration ${migrationVersion} (${migrationName}) failed and was rolled back; ` +
        `schema stays at version ${fromVersion}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'MigrationError';
  }
}

/**
 * No run with this id (or id prefix). With `store`, the message names the store and, with `hint`,
 * how to find ids (each app says where it lists them).
 */
export class RunNotFoundError extends TrackingStoreError {
  readonly store: string | null;
  constructor(
    readonly runId: string,
    options: { store?: string; hint?: string } = {},
  ) {
    super(
      'RUN_NOT_FOUND',
      options.store === undefined ? `run ${runId} does not exist` : `run ${runId} is not in ${options.store}${options.hint ? `; ${options.hint}` : ''}`,
    );
    this.name = 'RunNotFoundError';
    this.store = options.store ?? null;
  }
}

/** A run id prefix that matches several runs. */
export class AmbiguousRunIdError extends TrackingStoreError {
  constructor(
    readonly prefix: string,
    readonly matches: readonly string[],
  ) {
    super(
      'AMBIGUOUS_RUN_ID',
      `run id prefix ${JSON.stringify(prefix)} matches ${matches.length} runs (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}); give more characters`,
    );
    this.name = 'AmbiguousRunIdError';
  }
}

/** E.g. completing a run that already failed: finished runs are immutable. */
export class InvalidRunStateError extends TrackingStoreError {
  constructor(
    readonly runId: string,
    readonly status: RunStatus,
    readonly operation: string,
  ) {
    super('INVALID_RUN_STATE', `cannot ${operation} run ${runId}: it is ${status}, not running`);
    this.name = 'InvalidRunStateError';
  }
}

/**
 * A sweep point has one completed run: `completeRun` of another attempt of the same point (two
 * workers that both ran it, e.g. one lost its queue lock) records that attempt `abandoned`
 * (superseded) instead, in the same transaction, and throws this naming the run that won.
 */
export class PointAlreadyCompletedError extends TrackingStoreError {
  constructor(
    readonly runId: string,
    readonly completedRunId: string,
    readonly sweepId: string,
    readonly sweepIndex: number,
  ) {
    super('POINT_ALREADY_COMPLETED', `run ${runId} is not recorded completed: point ${sweepIndex + 1} of sweep ${sweepId} was completed first by run ${completedRunId}; this attempt is recorded abandoned (superseded)`);
    this.name = 'PointAlreadyCompletedError';
  }
}

/** Params are immutable (as in MLflow): re-logging a key with the same value is fine, another value is not. */
export class ParamConflictError extends TrackingStoreError {
  constructor(
    readonly runId: string,
    readonly key: string,
    readonly existingValue: string,
    readonly newValue: string,
  ) {
    super(
      'PARAM_CONFLICT',
      `run ${runId}: param ${JSON.stringify(key)} is already ${JSON.stringify(existingValue)}, ` +
        `cannot change it to ${JSON.stringify(newValue)}`,
    );
    this.name = 'ParamConflictError';
  }
}

export class InvalidArgumentError extends TrackingStoreError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'InvalidArgumentError';
  }
}

export class StoreClosedError extends TrackingStoreError {
  constructor(readonly path: string) {
    super('STORE_CLOSED', `the tracking store at ${path} is closed`);
    this.name = 'StoreClosedError';
  }
}

/**
 * An error reported by the database engine itself, named by its driver (below). `code` is the
 * engine's; the original driver error is the `cause`, the statement is `sql`. Wrapping gives an
 * async stack that points at the caller (the drivers' own errors carry no useful stack).
 */
export abstract class DatabaseEngineError extends TrackingStoreError {
  constructor(
    name: string,
    code: string,
    message: string,
    readonly sql: string,
    cause: unknown,
  ) {
    super(code, message, { cause });
    this.name = name;
  }
}

/** SQLite's error: `code` is SQLite's (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, ...). */
export class SqliteError extends DatabaseEngineError {
  constructor(code: string, message: string, sql: string, cause: unknown) {
    super('SqliteError', code, message, sql, cause);
  }
}

/**
 * PostgreSQL's (or its connection's) error: `code` is the SQLSTATE (`23505`, ...) or the
 * connection's (`ECONNREFUSED`, ...). Never holds the password.
 */
export class PostgresError extends DatabaseEngineError {
  constructor(code: string, message: string, sql: string, cause: unknown) {
    super('PostgresError', code, message, sql, cause);
  }
}

/** The database server cannot be reached or refuses the credentials (message without the password). */
export class StoreConnectError extends TrackingStoreError {
  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(code, `cannot connect to the tracking store ${detail}; check the URL (or PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) and that the server runs`, options);
    this.name = 'StoreConnectError';
  }
}

/**
 * A PostgreSQL store with an older schema: migrating changes shared data in place, so it waits for
 * consent (`--yes`) after a backup with pg_dump.
 */
export class MigrationConsentError extends TrackingStoreError {
  constructor(
    readonly location: string,
    readonly fromVersion: number,
    readonly toVersion: number,
  ) {
    super(
      'MIGRATION_NEEDS_CONSENT',
      `${location} has tracking schema version ${fromVersion}; this code needs version ${toVersion}. Back it up first ` +
        `(pg_dump --format=custom --file=mlbench-v${fromVersion}.dump '${location}'), then run the command again with --yes to migrate it ` +
        '(the database was not modified)',
    );
    this.name = 'MigrationConsentError';
  }
}

/** A run export file that cannot be imported: not JSON, not a run export, or a newer format. */
export class InvalidRunExportError extends TrackingStoreError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super('INVALID_RUN_EXPORT', `${file} is not a run export this code can import: ${detail}`);
    this.name = 'InvalidRunExportError';
  }
}

/** The database already holds a run with this id, and it differs from the one being imported. */
export class ImportConflictError extends TrackingStoreError {
  constructor(
    readonly runId: string,
    readonly path: string,
  ) {
    super(
      'IMPORT_CONFLICT',
      `${path} already has a run ${runId} that differs from the imported one; the database was not changed ` +
        '(import it into another database to compare them)',
    );
    this.name = 'ImportConflictError';
  }
}

/** The results folder or database cannot be written (read-only, full disk, permissions). */
export class StoreWriteError extends TrackingStoreError {
  constructor(
    code: string,
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(code, `cannot write the tracking store ${path}: ${detail}`, options);
    this.name = 'StoreWriteError';
  }
}

/** A reading command was pointed at a database file that does not exist; nothing was created. */
export class NoDatabaseError extends TrackingStoreError {
  constructor(readonly path: string) {
    super('NO_DATABASE', `no database at ${path}; check --db (a database is created by the first run recorded into it)`);
    this.name = 'NoDatabaseError';
  }
}

/** A database of an older schema opened read-only: it cannot be migrated, and this code cannot read it as it is. */
export class SchemaNeedsMigrationError extends TrackingStoreError {
  constructor(
    readonly path: string,
    readonly databaseVersion: number,
    readonly supportedVersion: number,
  ) {
    super(
      'SCHEMA_NEEDS_MIGRATION',
      `${path} has tracking schema version ${databaseVersion} and this code reads version ${supportedVersion}; ` +
        'it was opened read-only, so it was not migrated: copy it to a writable place and run any recording command on the copy ' +
        '(it is migrated after a backup)',
    );
    this.name = 'SchemaNeedsMigrationError';
  }
}
