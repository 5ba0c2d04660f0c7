/**
 * The PostgreSQL driver of the database seam, over node-postgres (`pg`). A pool of connections;
 * a transaction holds one of them from BEGIN to COMMIT/ROLLBACK. The store's `?` placeholders
 * become `$1, $2, ...` here; BIGINT and COUNT come back as numbers (checked safe), BYTEA as
 * Buffers, DOUBLE PRECISION exactly (PostgreSQL 12+ prints the shortest exact text).
 *
 * Credentials come from the URL or the standard PG* environment variables (node-postgres reads
 * PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE); `location` never holds the password.
 */

import { Pool, types as pgTypes, type PoolClient, type QueryResult } from 'pg';
import { PostgresError, StoreClosedError, TrackingStoreError } from '../../errors';
import type { Database, RunResult, SqlParams, SqlTransaction } from '../database';
import { postgresDialect } from './postgres-dialect';

const INT8 = 20;

function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new TrackingStoreError('CORRUPT_VALUE', `integer ${text} is beyond 2^53 and cannot be read exactly`);
  return value;
}

/** Per pool, not pg's global registry: other users of `pg` in the process keep their parsers. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 && format !== 'binary' ? parseInt8 : pgTypes.getTypeParser(oid, format as 'text'))) as typeof pgTypes.getTypeParser,
};

/** `?` -> `$n`, outside quoted strings, identifiers and comments. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  return out;
}

/** The URL as shown to people: without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    return parsed.toString().replace(/:@/, '@');
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1@');
  }
}

function wrapError(err: unknown, sql: string, location: string): unknown {
  if (err instanceof TrackingStoreError) return err;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    const { message, code } = err as { message: string; code?: unknown };
    const shortSql = sql.replace(/\s+/g, ' ').trim().slice(0, 160);
    return new PostgresError(typeof code === 'string' ? code : 'PG_ERROR', `${location}: ${message} [in: ${shortSql}]`, sql, err);
  }
  return err;
}

type Queryable = { query: (text: string, values?: unknown[]) => Promise<QueryResult> };

async function query(target: Queryable, sql: string, params: SqlParams, location: string): Promise<QueryResult> {
  try {
    return await target.query(numberPlaceholders(sql), params as unknown[]);
  } catch (err) {
    throw wrapError(err, sql, location);
  }
}

export class PostgresDb implements Database {
  readonly dialect = postgresDialect;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    readonly location: string,
  ) {}

  /** Connects (one test query, so a wrong URL fails here, not at the first write). */
  static async open(url: string, options: { max?: number } = {}): Promise<PostgresDb> {
    const location = redactUrl(url);
    const pool = new Pool({ connectionString: url, max: options.max ?? 4, types: TYPES, application_name: 'mlbench', connectionTimeoutMillis: 10_000 });
    // An idle connection the server dropped must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw wrapError(err, 'connect', location);
    }
    return new PostgresDb(pool, location);
  }

  async run(sql: string, params: SqlParams = []): Promise<RunResult> {
    const result = await query(this.live(), sql, params, this.location);
    return { changes: result.rowCount ?? 0 };
  }

  async get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return (await query(this.live(), sql, params, this.location)).rows[0] as T | undefined;
  }

  async all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return (await query(this.live(), sql, params, this.location)).rows as T[];
  }

  async exec(sql: string): Promise<void> {
    // The simple query protocol: several statements, no parameters.
    await query(this.live(), sql, [], this.location);
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.live().connect();
    } catch (err) {
      throw wrapError(err, 'connect', this.location);
    }
    const tx = new Transaction(client, this.location);
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await tx.settle();
      await query(client, 'COMMIT', [], this.location);
      return result;
    } catch (err) {
      await tx.settle();
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      tx.end();
      client.release();
    }
  }

  /**
   * One try at PostgreSQL's session-level advisory lock (key1, key2): on success the lock is held
   * on a connection of its own until the returned release; null when another session holds it.
   * A holder whose process dies loses the lock with its connection (the server ends the session).
   */
  async tryAdvisoryLock(key1: number, key2: number): Promise<(() => Promise<void>) | null> {
    let client: PoolClient;
    try {
      client = await this.live().connect();
    } catch (err) {
      throw wrapError(err, 'connect', this.location);
    }
    // A held connection the server drops must not crash the process: the lock is gone with it.
    const ignore = (): void => undefined;
    client.on('error', ignore);
    let held = false;
    try {
      const row = (await query(client, 'SELECT pg_try_advisory_lock(?, ?) AS ok', [key1, key2], this.location)).rows[0] as { ok: boolean } | undefined;
      held = row?.ok === true;
    } finally {
      if (!held) {
        client.off('error', ignore);
        client.release();
      }
    }
    if (!held) return null;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      let broken: Error | undefined;
      try {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [key1, key2]);
      } catch (err) {
        // Unlocking failed (connection lost): the lock went with the session; do not reuse the connection.
        broken = err instanceof Error ? err : new Error(String(err));
      } finally {
        client.off('error', ignore);
        client.release(broken);
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private live(): Pool {
    if (this.closed) throw new StoreClosedError(this.location);
    return this.pool;
  }
}

/** Rows per multi-row INSERT: well under PostgreSQL's 65 535 bind parameters. */
const MAX_PARAMS_PER_STATEMENT = 30_000;
const SINGLE_ROW_INSERT = /^([\s\S]*?\bVALUES\s*)\(([\s?,]*)\)([\s\S]*)$/i;

class Transaction implements SqlTransaction {
  readonly dialect = postgresDialect;
  private readonly inFlight = new Set<Promise<unknown>>();
  private ended = false;
  /** One statement at a time on the connection, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: PoolClient,
    private readonly location: string,
  ) {}

  async run(sql: string, params: SqlParams = []): Promise<RunResult> {
    const result = await this.track(() => query(this.client, sql, params, this.location));
    return { changes: result.rowCount ?? 0 };
  }

  async get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return (await this.track(() => query(this.client, sql, params, this.location))).rows[0] as T | undefined;
  }

  async all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return (await this.track(() => query(this.client, sql, params, this.location))).rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.track(() => query(this.client, sql, [], this.location));
  }

  /** `INSERT ... VALUES (?, ...)` becomes multi-row INSERTs (one round trip per chunk, not per row). */
  runMany(sql: string, rows: Iterable<SqlParams>): Promise<number> {
    return this.track(async () => {
      const all = [...rows];
      if (all.length === 0) return 0;
      const match = SINGLE_ROW_INSERT.exec(sql);
      if (!match) {
        for (const row of all) await query(this.client, sql, row, this.location);
        return all.length;
      }
      const [, head, group, tail] = match;
      const width = (group.match(/\?/g) ?? []).length;
      const perChunk = Math.max(1, Math.floor(MAX_PARAMS_PER_STATEMENT / Math.max(1, width)));
      for (let start = 0; start < all.length; start += perChunk) {
        const chunk = all.slice(start, start + perChunk);
        const values = chunk.map(() => `(${group})`).join(', ');
        await query(this.client, `${head}${values}${tail}`, chunk.flat(), this.location);
      }
      return all.length;
    });
  }

  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  end(): void {
    this.ended = true;
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.ended) return Promise.reject(new TrackingStoreError('TRANSACTION_ENDED', 'transaction handle used after its transaction ended'));
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }
}
