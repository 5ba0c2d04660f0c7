/**
 * The engines a TrackingStore contract test runs against: SQLite files in a temp folder, and a
 * real throwaway PostgreSQL server (one per test file, a fresh database per store).
 * `describeEachEngine` runs a suite once per engine.
 */

import { Database as SqliteDriver } from 'sqlite3';
import { Client, types as pgTypes } from 'pg';
import { openTrackingStore, type OpenStoreOptions } from '../open-store';
import type { TrackingStore } from '../store';
import { tempDir, type TempDir } from './fixtures';
import { startPostgres, type PostgresServer } from './postgres-server';

export interface StoreEngine {
  name: 'sqlite' | 'postgres';
  /** A location for a new, empty store (file path or URL). */
  freshLocation(): Promise<string>;
  open(location: string, options?: OpenStoreOptions): Promise<TrackingStore>;
  /** Rows read through a plain connection of the engine's driver, independent of the code under test. */
  rawQuery<T>(location: string, sql: string): Promise<T[]>;
  /** What the store throws for a violated key or type constraint (for `toMatchObject`). */
  constraintViolation: Record<string, unknown>;
  /** The PostgreSQL server (postgres engine only). */
  server: PostgresServer | null;
  stop(): Promise<void>;
}

export function sqliteEngine(): StoreEngine {
  const dir: TempDir = tempDir('store-engine-');
  let n = 0;
  return {
    name: 'sqlite',
    freshLocation: async () => dir.file(`store-${++n}.sqlite`),
    open: (location, options) => openTrackingStore(location, options),
    rawQuery: <T>(file: string, sql: string) =>
      new Promise<T[]>((resolve, reject) => {
        const db = new SqliteDriver(file, (err) => {
          if (err) return reject(err);
          db.all<T>(sql, (err2, rows) => db.close(() => (err2 ? reject(err2) : resolve(rows))));
        });
      }),
    constraintViolation: { code: 'SQLITE_CONSTRAINT' },
    server: null,
    stop: async () => dir.remove(),
  };
}

/** SQLSTATE classes 22 (data exception, e.g. 1.5 for an integer) and 23 (integrity constraint). */
const PG_CONSTRAINT = /^2[23]/;

export async function postgresEngine(): Promise<StoreEngine> {
  const server = await startPostgres();
  const int8 = (text: string): number => Number(text);
  return {
    name: 'postgres',
    freshLocation: () => server.createDatabase(),
    open: (location, options) => openTrackingStore(location, options),
    async rawQuery<T>(url: string, sql: string): Promise<T[]> {
      const client = new Client({ connectionString: url, types: { getTypeParser: ((oid: number, format?: 'text') => (oid === 20 ? int8 : pgTypes.getTypeParser(oid, format))) as typeof pgTypes.getTypeParser } });
      await client.connect();
      try {
        return (await client.query(sql)).rows as T[];
      } finally {
        await client.end();
      }
    },
    constraintViolation: { code: expect.stringMatching(PG_CONSTRAINT) },
    server,
    stop: () => server.stop(),
  };
}

/** Runs `suite` once per engine; the engine is started before and stopped after its run. */
export function describeEachEngine(title: string, suite: (engine: () => StoreEngine) => void): void {
  describe.each(['sqlite', 'postgres'] as const)(`${title} (%s)`, (name) => {
    let engine: StoreEngine | null = null;
    beforeAll(async () => {
      engine = name === 'sqlite' ? sqliteEngine() : await postgresEngine();
    }, 60_000);
    afterAll(async () => {
      await engine?.stop();
    }, 60_000);
    suite(() => {
      if (!engine) throw new Error(`the ${name} engine did not start`);
      return engine;
    });
  });
}
