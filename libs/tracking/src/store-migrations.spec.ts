import type { Database } from './database/database';
import { PostgresDb } from './database/postgres/postgres-database';
import { SqliteDb } from './database/sqlite/sqlite-database';
import { MigrationConsentError } from './errors';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from './migrations';
import { writeRunRecord } from './store/run-record-writer';
import { SqlTrackingStore } from './store/sql-tracking-store';
import { canonicalRunJson } from './transfer';
import { newRun, runRecord } from './testing/fixtures';
import { describeEachEngine, type StoreEngine } from './testing/store-engines';

const rawDatabase = (engine: StoreEngine, location: string): Promise<Database> =>
  engine.name === 'sqlite' ? SqliteDb.open(location) : PostgresDb.open(location);

describeEachEngine('migrations', (engine) => {
  it('ten openers of a new store at once all succeed and migrate it once', async () => {
    const location = await engine().freshLocation();
    const stores = await Promise.all(Array.from({ length: 10 }, () => engine().open(location)));
    try {
      const run = await stores[3].createRun(newRun());
      expect((await stores[7].getRun(run.id))?.id).toBe(run.id);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    const versions = await engine().rawQuery<{ version: number }>(location, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
  }, 60_000);

  it('an older store moves forward without losing a run (exports before and after compare equal)', async () => {
    const location = await engine().freshLocation();
    const old = 5;
    const db = await rawDatabase(engine(), location);
    const before: string[] = [];
    try {
      await migrate(db, location, MIGRATIONS.slice(0, old));
      // Runs as the older schema holds them: the run row of that version, then the record's rows.
      const store = new SqlTrackingStore(db, location, () => new Date());
      for (const seed of [1, 2]) {
        const id = `${seed}`.repeat(32);
        const run = newRun('old', seed);
        await db.transaction(async (tx) => {
          await tx.run(
            `INSERT INTO runs (id, name, status, start_time, end_time, duration_ms, seed, config_hash, config_text, resolved_config, error, environment, pid, hostname)
             VALUES (?, ?, 'completed', ?, ?, 1000, ?, ?, ?, ?, NULL, ?, 4242, 'old-host')`,
            [id, run.name, `2025-01-0${seed}T00:00:00.000Z`, `2025-01-0${seed}T00:00:01.000Z`, run.seed, run.configHash, run.configText, JSON.stringify(run.resolvedConfig), JSON.stringify(run.environment)],
          );
          const record = runRecord(seed, 200);
          await writeRunRecord(tx, id, { ...record, metrics: [{ key: 'loss', value: 1 / seed, step: 0 }, ...record.metrics], skippedFiles: [{ path: 'x/bad.jpg', sha256: null, reason: 'truncated' }] });
        });
        before.push(canonicalRunJson(await store.exportRun(id)));
      }
    } finally {
      await db.close();
    }
    if (engine().name === 'postgres') {
      // A shared database is migrated only with consent, after a pg_dump backup; refusing changes nothing.
      const refused = await engine().open(location).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(MigrationConsentError);
      expect((refused as Error).message).toMatch(/schema version 5; this code needs version \d+\. Back it up first \(pg_dump .*\), then run the command again with --yes/);
      expect((refused as Error).message).not.toContain(engine().server?.password ?? 'no password');
      expect(await engine().rawQuery(location, 'SELECT max(version) AS v FROM schema_migrations')).toEqual([{ v: old }]);
    }
    const store = await engine().open(location, { allowMigration: true });
    try {
      const runs = await store.searchRuns();
      expect(runs).toHaveLength(2);
      const after = await Promise.all([...runs].reverse().map(async (r) => canonicalRunJson(await store.exportRun(r.id))));
      expect(after).toEqual(before);
    } finally {
      await store.close();
    }
    expect(await engine().rawQuery(location, 'SELECT max(version) AS v FROM schema_migrations')).toEqual([{ v: SCHEMA_VERSION }]);
  }, 60_000);
});
