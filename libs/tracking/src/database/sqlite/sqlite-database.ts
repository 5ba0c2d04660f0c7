/**
 * The SQLite driver of the database seam: a minimal promise wrapper over the `sqlite3` package.
 *
 * One `SqliteDb` is one connection. Every operation on it goes through a per-connection queue:
 * a transaction owns the connection from BEGIN to COMMIT/ROLLBACK, so a concurrent `getRun` on the
 * same connection can neither read uncommitted rows nor have its own statements swallowed by
 * (and rolled back with) someone else's transaction.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { realpathSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { Database as Driver, OPEN_CREATE, OPEN_READONLY, OPEN_READWRITE, OPEN_URI, type Statement } from 'sqlite3';
import { SqliteError, StoreClosedError, TrackingStoreError } from '../../errors';
import type { Database, RunResult, SqlParams, SqlTransaction } from '../database';
import { Mutex } from '../mutex';
import { sqliteDialect } from './sqlite-dialect';

export type { RunResult, SqlExecutor, SqlParams, SqlTransaction, SqlValue } from '../database';

/**
 * Process-wide write lock per database file. Within one process, connections to the same file
 * take turns in JS instead of in SQLite's busy handler: that handler sleeps on a libuv pool thread
 * (4 by default), so a handful of waiting connections could starve the one holding the lock of
 * threads and stall everything until busy_timeout expires. Across processes, busy_timeout applies.
 * Entries are never removed: one small object per distinct file path.
 */
const fileLocks = new Map<string, Mutex>();
function fileLockFor(key: string): Mutex {
  let lock = fileLocks.get(key);
  if (!lock) {
    lock = new Mutex();
    fileLocks.set(key, lock);
  }
  return lock;
}

/** Which connection's transaction the current async context is inside (to catch self-deadlock). */
const transactionScope = new AsyncLocalStorage<SqliteDb>();

function wrapError(err: unknown, sql: string): unknown {
  if (err instanceof TrackingStoreError) return err;
  // Not `instanceof Error`: the driver's errors come from Node's own realm, which differs from
  // the caller's under jest's vm sandbox.
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    const { message, code: driverCode } = err as { message: string; code?: unknown };
    const code = typeof driverCode === 'string' ? driverCode : 'SQLITE_ERROR';
    const shortSql = sql.replace(/\s+/g, ' ').trim().slice(0, 160);
    return new SqliteError(code, `${message} [in: ${shortSql}]`, sql, err);
  }
  return err;
}

function rawRun(db: Driver, sql: string, params: SqlParams): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    db.run(sql, params, function (this: { changes: number }, err: Error | null) {
      if (err) reject(wrapError(err, sql));
      else resolve({ changes: this.changes });
    });
  });
}

function rawGet<T>(db: Driver, sql: string, params: SqlParams): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    db.get<T>(sql, params, (err: Error | null, row: T) => (err ? reject(wrapError(err, sql)) : resolve(row)));
  });
}

function rawAll<T>(db: Driver, sql: string, params: SqlParams): Promise<T[]> {
  return new Promise((resolve, reject) => {
    db.all<T>(sql, params, (err: Error | null, rows: T[]) => (err ? reject(wrapError(err, sql)) : resolve(rows)));
  });
}

function rawExec(db: Driver, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    db.exec(sql, (err: Error | null) => (err ? reject(wrapError(err, sql)) : resolve()));
  });
}

function rawPrepare(db: Driver, sql: string): Promise<Statement> {
  return new Promise((resolve, reject) => {
    const stmt = db.prepare(sql, (err: Error | null) => (err ? reject(wrapError(err, sql)) : resolve(stmt)));
  });
}

function stmtRun(stmt: Statement, sql: string, params: SqlParams): Promise<void> {
  return new Promise((resolve, reject) => {
    stmt.run(params, (err: Error | null) => (err ? reject(wrapError(err, sql)) : resolve()));
  });
}

function stmtFinalize(stmt: Statement): Promise<void> {
  return new Promise((resolve) => {
    stmt.finalize(() => resolve());
  });
}

/**
 * On a SqliteDb, `get`/`all` are for reads (WAL readers never wait, so they skip the process write
 * lock); writes outside a transaction go through `run`/`exec`, which take it.
 */
export class SqliteDb implements Database {
  readonly dialect = sqliteDialect;
  private readonly queue = new Mutex();
  private readonly fileLock: Mutex;
  private closed = false;

  private constructor(
    private readonly raw: Driver,
    /** As given to `open` (':memory:' or a file path). */
    readonly filename: string,
  ) {
    // ':memory:' databases are private to their connection, so they share no lock.
    const isFile = filename !== '' && filename !== ':memory:';
    this.fileLock = isFile ? fileLockFor(canonicalPath(filename)) : new Mutex();
    // Sticky serialized mode: statements issued on this connection execute in issue order.
    raw.serialize();
  }

  get location(): string {
    return this.filename;
  }

  /**
   * Opens (creating if absent) a read-write connection, or with `mode` 'read-only' an existing file
   * without ever writing it; 'immutable' also skips SQLite's shared-memory index and locks, for a
   * file on read-only media (nothing can change it while it is read). Errors are the driver's, wrapped.
   */
  static open(filename: string, mode: 'read-write' | 'read-only' | 'immutable' = 'read-write'): Promise<SqliteDb> {
    const target = mode === 'immutable' ? `file:${filename.split('/').map(encodeURIComponent).join('/')}?immutable=1` : filename;
    const flags = mode === 'read-write' ? OPEN_READWRITE | OPEN_CREATE : mode === 'read-only' ? OPEN_READONLY : OPEN_READONLY | OPEN_URI;
    return new Promise((resolve, reject) => {
      const raw: Driver = new Driver(target, flags, (err: Error | null) => {
        if (err) reject(wrapError(err, `open ${filename}`));
        else resolve(new SqliteDb(raw, filename));
      });
    });
  }

  /** Takes the process-wide write lock too: an autocommit write waits for SQLite's lock like a transaction. */
  run(sql: string, params: SqlParams = []): Promise<RunResult> {
    return this.exclusive(() => this.fileLock.run(() => rawRun(this.raw, sql, params)));
  }

  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return this.exclusive(() => rawGet<T>(this.raw, sql, params));
  }

  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return this.exclusive(() => rawAll<T>(this.raw, sql, params));
  }

  /** Write-locked like `run` (exec is for DDL and pragmas, which may write). */
  exec(sql: string): Promise<void> {
    return this.exclusive(() => this.fileLock.run(() => rawExec(this.raw, sql)));
  }

  /**
   * BEGIN IMMEDIATE; fn(tx); COMMIT — or ROLLBACK if fn (or COMMIT) throws, then rethrow.
   * IMMEDIATE takes the write lock up front, so a transaction never fails half-way on a read→write
   * upgrade (SQLITE_BUSY_SNAPSHOT); contention is waited out by busy_timeout instead.
   * Use only `tx` inside fn: calling this SqliteDb from inside fn would wait on itself, so it throws.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      this.fileLock.run(async () => {
        await rawExec(this.raw, 'BEGIN IMMEDIATE');
        const tx = new Transaction(this.raw);
        try {
          const result = await transactionScope.run(this, () => fn(tx));
          await tx.settle();
          await rawExec(this.raw, 'COMMIT');
          return result;
        } catch (err) {
          await tx.settle();
          try {
            await rawExec(this.raw, 'ROLLBACK');
          } catch {
            // SQLite may already have rolled back on its own (e.g. SQLITE_FULL); the original error is what matters.
          }
          throw err;
        } finally {
          tx.end();
        }
      }),
    );
  }

  /** Waits for queued work, then closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.run(
      () => new Promise<void>((resolve, reject) => this.raw.close((err) => (err ? reject(wrapError(err, 'close')) : resolve()))),
    );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreClosedError(this.filename));
    if (transactionScope.getStore() === this) {
      return Promise.reject(
        new TrackingStoreError('NESTED_USE', 'this connection is inside a transaction: use the transaction handle, not the SqliteDb'),
      );
    }
    return this.queue.run(fn);
  }
}

/** The handle given to a transaction body; dead once the transaction ends. */
class Transaction implements SqlTransaction {
  readonly dialect = sqliteDialect;
  private readonly inFlight = new Set<Promise<unknown>>();
  private ended = false;

  constructor(private readonly raw: Driver) {}

  run(sql: string, params: SqlParams = []): Promise<RunResult> {
    return this.track(() => rawRun(this.raw, sql, params));
  }

  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return this.track(() => rawGet<T>(this.raw, sql, params));
  }

  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return this.track(() => rawAll<T>(this.raw, sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.track(() => rawExec(this.raw, sql));
  }

  runMany(sql: string, rows: Iterable<SqlParams>): Promise<number> {
    return this.track(async () => {
      const stmt = await rawPrepare(this.raw, sql);
      try {
        // Queue every row at once (the driver runs a statement's calls in order) instead of a
        // round trip through the event loop per row: ~10x faster for thousands of rows.
        const pending: Promise<void>[] = [];
        for (const row of rows) pending.push(stmtRun(stmt, sql, row));
        const results = await Promise.allSettled(pending);
        const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw failure.reason;
        return pending.length;
      } finally {
        await stmtFinalize(stmt);
      }
    });
  }

  /** Waits for anything the body started but did not await, so COMMIT/ROLLBACK come last. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  end(): void {
    this.ended = true;
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.ended) {
      return Promise.reject(new TrackingStoreError('TRANSACTION_ENDED', 'transaction handle used after its transaction ended'));
    }
    const p = fn();
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }
}

function canonicalPath(filename: string): string {
  const abs = resolvePath(filename);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}
