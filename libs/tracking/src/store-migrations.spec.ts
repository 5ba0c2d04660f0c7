import type { Database } from './database/database';
import { PostgresDb } from './database/postgres/postgres-database';
import { SqliteDb } from './database/sqlite/sqlite-database';
import { MigrationConsentError } from './errors';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from './migrations';
import type { AuditResult } from './entities';
import { LegacyTrackingStore, LegacyV8TrackingStore, writeLegacyRunRecord } from './testing/legacy-record';
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

  it.each([5, 7, 8, 9])('an older store (version %i) moves forward without losing a run (exports before and after compare equal)', async (old) => {
    const location = await engine().freshLocation();
    const db = await rawDatabase(engine(), location);
    const before: string[] = [];
    const ids: string[] = [];
    try {
      // Runs as the older schema holds them: the run row of that version, then the record's rows
      // (versions 8 and 9: written as version 7 did, then moved by migration 8).
      await migrate(db, location, MIGRATIONS.slice(0, Math.min(old, 7)));
      for (const seed of [1, 2, 1]) {
        const id = `${ids.length}${seed}`.repeat(16);
        ids.push(id);
        const run = newRun('old', seed);
        await db.transaction(async (tx) => {
          await tx.run(
            `INSERT INTO runs (id, name, status, start_time, end_time, duration_ms, seed, config_hash, config_text, resolved_config, error, environment, pid, hostname)
             VALUES (?, ?, 'completed', ?, ?, 1000, ?, ?, ?, ?, NULL, ?, 4242, 'old-host')`,
            [id, run.name, `2025-01-0${ids.length}T00:00:00.000Z`, `2025-01-0${ids.length}T00:00:01.000Z`, run.seed, run.configHash, run.configText, JSON.stringify(run.resolvedConfig), JSON.stringify(run.environment)],
          );
          // Both runs share one image list; seed 1's split is stored twice (as a second run would).
          const record = runRecord(seed, 200);
          const audit = record.split.map((m, i): AuditResult => ({
            path: m.path, givenLabel: m.label, suggestedLabel: i % 7 === 0 ? (m.label + 1) % 5 : null, selfConfidence: i === 3 ? -0 : 1 / (i + seed),
            score: i / 10, rank: i % 7 === 0 ? i / 7 + 1 : null, flag: i % 7 === 0 ? 'label_issue' : 'ok', fold: i % 5, probabilities: [0.5, 0.25, i === 5 ? NaN : 0.25, 0, -0],
          }));
          await writeLegacyRunRecord(tx, id, {
            ...record,
            metrics: [{ key: 'loss', value: 1 / seed, step: 0 }, ...record.metrics],
            skippedFiles: [{ path: 'x/bad.jpg', sha256: null, reason: 'truncated' }],
            audit,
          });
        });
      }
      if (old >= 8) await migrate(db, location, MIGRATIONS.slice(0, old));
      const store = old >= 8 ? new LegacyV8TrackingStore(db, location, () => new Date()) : new LegacyTrackingStore(db, location, () => new Date());
      for (const id of ids) before.push(canonicalRunJson(await store.exportRun(id)));
    } finally {
      await db.close();
    }
    if (engine().name === 'postgres') {
      // A shared database is migrated only with consent, after a pg_dump backup; refusing changes nothing.
      const refused = await engine().open(location).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(MigrationConsentError);
      expect((refused as Error).message).toMatch(new RegExp(`schema version ${old}; this code needs version \\d+\\. Back it up first \\(pg_dump .*\\), then run the command again with --yes`));
      expect((refused as Error).message).not.toContain(engine().server?.password ?? 'no password');
      expect(await engine().rawQuery(location, 'SELECT max(version) AS v FROM schema_migrations')).toEqual([{ v: old }]);
    }
    const store = await engine().open(location, { allowMigration: true });
    try {
      const runs = await store.searchRuns();
      expect(runs).toHaveLength(3);
      const after = await Promise.all([...runs].reverse().map(async (r) => canonicalRunJson(await store.exportRun(r.id))));
      expect(after).toEqual(before);
    } finally {
      await store.close();
    }
    expect(await engine().rawQuery(location, 'SELECT max(version) AS v FROM schema_migrations')).toEqual([{ v: SCHEMA_VERSION }]);
    // Stored once each: one image list, the splits of seeds 1 and 2, their two audits.
    const counts = await engine().rawQuery(
      location,
      `SELECT (SELECT count(*) FROM image_lists) AS lists, (SELECT count(*) FROM dataset_images) AS images, (SELECT count(*) FROM splits) AS splits,
              (SELECT count(*) FROM audit_sets) AS audits, (SELECT count(*) FROM split_members) AS members, (SELECT count(*) FROM audit_results) AS verdicts`,
    );
    expect(counts).toEqual([{ lists: 1, images: 200, splits: 2, audits: 2, members: 600, verdicts: 600 }]);
  }, 60_000);
});
