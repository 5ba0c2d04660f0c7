/**
 * Opening a SQLite tracking store: the file checks, WAL, backup-before-migrate and the wording of
 * SQLite's failures. The store's methods are the engine-neutral SqlTrackingStore.
 */

import { randomBytes } from 'node:crypto';
import { constants as fsConstants, existsSync } from 'node:fs';
import { access, mkdir, open as openFile, stat } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { errnoCode, errnoWords } from '@mlbench/common';
import { SqliteDb } from './database/sqlite/sqlite-database';
import { InvalidArgumentError, NoDatabaseError, NotASqliteDatabaseError, SchemaNeedsMigrationError, SqliteError, StoreWriteError, TrackingStoreError } from './errors';
import { MIGRATIONS, checkSchemaState, migrate, readSchemaState } from './migrations';
import type { TrackingStore } from './store';
import { SqlTrackingStore } from './store/sql-tracking-store';

export { decodeFloat64, encodeFloat64 } from './store/rows';

export interface SqliteStoreOptions {
  /** How long a writer waits for another connection's write lock. Default 10 000 ms. */
  busyTimeoutMs?: number;
  /** Clock for start/end times (tests). Default `() => new Date()`. */
  now?: () => Date;
  /**
   * Open an existing database for reading only (listing, showing, exporting, reports): nothing is
   * created, migrated or written, so it works on a read-only disk; a missing file is a
   * NoDatabaseError instead of a new empty database.
   */
  readOnly?: boolean;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Opens (creating if needed) the tracking database at `path` and brings its schema up to date.
 * Refuses, without modifying the file: a non-SQLite file (`NotASqliteDatabaseError`), a SQLite
 * database of another application (`ForeignDatabaseError`), and one written by newer code
 * (`SchemaTooNewError`).
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<TrackingStore> {
  return SqliteTrackingStore.open(path, options);
}

/** What opening did to an older database: the versions, and the backup taken first. */
export interface MigrationInfo {
  from: number;
  to: number;
  /** Copy of the database as it was before migrating. */
  backup: string;
}

export class SqliteTrackingStore extends SqlTrackingStore {
  private constructor(
    db: SqliteDb,
    location: string,
    now: () => Date,
    /** Set when opening migrated an older database forward. */
    readonly migration: MigrationInfo | null,
  ) {
    super(db, location, now);
  }

  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteTrackingStore> {
    const location = resolvePath(path);
    const now = options.now ?? (() => new Date());
    const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new InvalidArgumentError('busyTimeoutMs must be a non-negative integer');

    if (options.readOnly) {
      const store = await SqliteTrackingStore.openReadOnly(location, now, busyTimeoutMs);
      if (store) return store;
      // An older schema in a writable place: migrated as by any other command (after a backup).
    }

    await mkdir(dirname(location), { recursive: true }).catch((err: unknown) => {
      throw new StoreWriteError('OPEN_FAILED', location, `cannot create its folder ${dirname(location)} (${fsProblem(err)}); pass --db <writable file>`, { cause: err });
    });
    await assertSqliteFileOrAbsent(location);
    await assertWritableFile(location);
    const db = await SqliteDb.open(location).catch((err: unknown) => {
      throw new TrackingStoreError('OPEN_FAILED', `cannot open tracking store ${location}: ${errorMessage(err)}; check the path and its permissions`, { cause: err });
    });
    let migration: MigrationInfo | null = null;
    try {
      await db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      // Read-only verdict before any write: WAL mode rewrites the header, and a foreign or
      // too-new database must stay byte-for-byte untouched.
      const from = checkSchemaState(await readSchemaState(db), location, MIGRATIONS.length);
      // WAL: readers never block the writer nor each other; the setting persists in the file.
      await db.exec('PRAGMA journal_mode = WAL');
      // An older database of ours: a consistent copy first, so a migration can never cost data.
      const backup = from > 0 && from < MIGRATIONS.length ? await backupDatabase(db, location, from, now()) : null;
      const result = await migrate(db, location, MIGRATIONS);
      if (backup) migration = { from, to: result.to, backup };
      // Per connection and a no-op inside a transaction, hence here and after migrating.
      await db.exec('PRAGMA foreign_keys = ON');
    } catch (err) {
      await db.close().catch(() => undefined);
      if (err instanceof SqliteError && err.code === 'SQLITE_NOTADB') {
        throw new NotASqliteDatabaseError(location, err.message, { cause: err });
      }
      if (err instanceof SqliteError && WRITE_FAILURES.has(err.code)) {
        throw new StoreWriteError(err.code, location, `${err.message.replace(/ \[in: .*\]$/, '')}; free disk space or pass --db <writable file>`, { cause: err });
      }
      throw err;
    }
    return new SqliteTrackingStore(db, location, now, migration);
  }

  /** The reading open: checks as for writing, then a read-only connection, no WAL switch, no migration. */
  private static async openReadOnly(location: string, now: () => Date, busyTimeoutMs: number): Promise<SqliteTrackingStore | null> {
    if (!existsSync(location)) throw new NoDatabaseError(location);
    await assertSqliteFileOrAbsent(location);
    // On a read-only disk SQLite cannot create the WAL index next to the file; nothing can change
    // the file there either, so it is opened as immutable.
    const mode = (await isWritable(dirname(location))) ? 'read-only' : 'immutable';
    const db = await SqliteDb.open(location, mode).catch((err: unknown) => {
      throw new TrackingStoreError('OPEN_FAILED', `cannot open tracking store ${location} for reading: ${errorMessage(err)}; check the path and its permissions`, { cause: err });
    });
    try {
      await db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      const version = checkSchemaState(await readSchemaState(db), location, MIGRATIONS.length);
      if (version < MIGRATIONS.length) {
        if (mode === 'read-only' && (await isWritable(location))) {
          await db.close();
          return null;
        }
        throw new SchemaNeedsMigrationError(location, version, MIGRATIONS.length);
      }
    } catch (err) {
      await db.close().catch(() => undefined);
      if (err instanceof SqliteError && err.code === 'SQLITE_NOTADB') throw new NotASqliteDatabaseError(location, err.message, { cause: err });
      if (err instanceof SqliteError) {
        throw new TrackingStoreError(err.code, `cannot read the tracking store ${location}: ${err.message.replace(/ \[in: .*\]$/, '')}`, { cause: err });
      }
      throw err;
    }
    return new SqliteTrackingStore(db, location, now, null);
  }
}

async function isWritable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A database file that exists but cannot be written (read-only file or disk) is refused when
 * opening for writing, naming the file, instead of failing later at the first INSERT with raw SQL.
 */
async function assertWritableFile(location: string): Promise<void> {
  if (!existsSync(location)) return;
  try {
    await access(location, fsConstants.W_OK);
  } catch (err) {
    throw new StoreWriteError(
      'SQLITE_READONLY',
      location,
      `the file is read-only (${fsProblem(err)}); reading commands (runs list, show, export, the report) still work on it, ` +
        'to record runs pass --db <writable file>',
      { cause: err },
    );
  }
}

/** Throws unless a SQLite file or nothing (or an empty file, which SQLite treats as a new database) is at `path`. */
async function assertSqliteFileOrAbsent(path: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new NotASqliteDatabaseError(path, 'not a regular file');
    size = info.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (size === 0) return;
  const handle = await openFile(path, 'r');
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    if (bytesRead < header.length || !header.equals(SQLITE_HEADER)) throw new NotASqliteDatabaseError(path, 'no SQLite header');
  } finally {
    await handle.close();
  }
}

/** SQLite result codes that mean the disk or file cannot take the write. */
const WRITE_FAILURES = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_PERM']);

function fsProblem(err: unknown): string {
  const code = errnoCode(err);
  return code ? `${errnoWords(code) ?? 'error'}, ${code}` : errorMessage(err);
}

/**
 * `VACUUM INTO` a sibling file `<db>.bak-v<version>-<UTC timestamp>`: a consistent snapshot even
 * while other connections write. Migrating only starts once the copy is complete.
 */
async function backupDatabase(db: SqliteDb, location: string, version: number, at: Date): Promise<string> {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${location}.bak-v${version}-${stamp}`;
  // Several processes may open the same old database at the same moment: each keeps its own copy.
  let backup = existsSync(base) ? `${base}-${process.pid}-${randomBytes(3).toString('hex')}` : base;
  for (let attempt = 0; ; attempt++) {
    try {
      await db.exec(`VACUUM INTO '${backup.replace(/'/g, "''")}'`);
      break;
    } catch (err) {
      if (attempt < 3 && /already exists/.test(errorMessage(err))) {
        backup = `${base}-${process.pid}-${randomBytes(3).toString('hex')}`;
        continue;
      }
      throw new StoreWriteError(
        'BACKUP_FAILED',
        location,
        `the database has schema version ${version} and needs migrating, but the backup copy ${backup} could not be written ` +
          `(${errorMessage(err)}); the database was not migrated. Free disk space or make its folder writable`,
        { cause: err },
      );
    }
  }
  return backup;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
