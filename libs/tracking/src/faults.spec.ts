import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import {
  ImportConflictError,
  InvalidRunExportError,
  InvalidRunStateError,
  SCHEMA_VERSION,
  SqliteTrackingStore,
  parseRunExport,
  serializeRunExport,
} from './index';
import { MIGRATIONS, migrate, readSchemaState } from './migrations';
import { SqliteDb } from './database/sqlite/sqlite-database';
import { newRun, runRecord, tempDir, type TempDir, withStore } from './testing/fixtures';

let dir: TempDir;
beforeEach(() => (dir = tempDir('tracking-faults-')));
afterEach(() => dir.remove());


describe('an older database', () => {
  it('is migrated forward automatically, after a backup copy of the old version', async () => {
    const file = dir.file('runs.sqlite');
    const raw = await SqliteDb.open(file);
    await raw.exec('PRAGMA journal_mode = WAL');
    await migrate(raw, file, MIGRATIONS.slice(0, 1));
    await raw.run(
      `INSERT INTO runs (id, name, status, start_time, seed, config_hash, config_text, resolved_config, environment)
       VALUES ('${'a'.repeat(32)}', 'old-run', 'completed', '2024-01-01T00:00:00.000Z', 1, 'h', 'name: old-run', '{}', '{}')`,
    );
    await raw.close();

    const store = await SqliteTrackingStore.open(file);
    try {
      expect(store.migration).toMatchObject({ from: 1, to: SCHEMA_VERSION });
      const backup = store.migration?.backup ?? '';
      expect(basename(backup)).toMatch(/^runs\.sqlite\.bak-v1-\d{8}T\d{6}Z$/);
      const old = await store.getRun('a'.repeat(32));
      expect(old).toMatchObject({ name: 'old-run', status: 'completed', pid: null, hostname: null });
      expect(await store.getSkippedFiles('a'.repeat(32))).toEqual([]);
      expect(await store.checkIntegrity()).toEqual(['ok']);
      // New runs get the new columns.
      const run = await store.createRun(newRun('new-run'));
      expect(run.pid).toBe(process.pid);
    } finally {
      await store.close();
    }
    // The backup is the old database, untouched by the migration.
    const copy = await SqliteDb.open(store.migration?.backup ?? '');
    try {
      expect(await readSchemaState(copy)).toMatchObject({ version: 1 });
      expect(await copy.all('SELECT name FROM runs')).toEqual([{ name: 'old-run' }]);
    } finally {
      await copy.close();
    }
    // Up to date now: reopening neither migrates nor backs up again.
    const again = await SqliteTrackingStore.open(file);
    expect(again.migration).toBeNull();
    await again.close();
    expect(readdirSync(dir.path).filter((f) => f.includes('.bak-'))).toHaveLength(1);
  });

  it('a new database needs no backup', async () => {
    const store = await SqliteTrackingStore.open(dir.file('fresh.sqlite'));
    expect(store.migration).toBeNull();
    await store.close();
    expect(readdirSync(dir.path).some((f) => f.includes('.bak-'))).toBe(false);
  });
});

describe('skipped files and abandoned runs', () => {
  it('records skipped files with their reasons; a run can be marked abandoned', async () => {
    await withStore(dir.file('s.sqlite'), async (store) => {
      const run = await store.createRun({ ...newRun(), pid: 4242, hostname: 'elsewhere' });
      expect(run).toMatchObject({ pid: 4242, hostname: 'elsewhere' });
      const skipped = [
        { path: 'cats/truncated.jpg', sha256: 'f'.repeat(64), reason: 'truncated file (premature end of JPEG image)' },
        { path: 'cats/ünï code.jpg', sha256: null, reason: 'broken symbolic link (its target does not exist)' },
      ];
      await store.logBatch(run.id, { skippedFiles: skipped });
      expect(await store.getSkippedFiles(run.id)).toEqual(skipped);
      const abandoned = await store.failRun(run.id, 'process 4242 on elsewhere is gone', 'abandoned');
      expect(abandoned).toMatchObject({ status: 'abandoned', error: 'process 4242 on elsewhere is gone' });
      await expect(store.failRun(run.id, 'again', 'abandoned')).rejects.toBeInstanceOf(InvalidRunStateError);
    });
  });
});

describe('runs export / import', () => {
  async function completedRun(file: string): Promise<string> {
    return withStore(file, async (store) => {
      const run = await store.createRun(newRun('shared'));
      await store.logBatch(run.id, {
        metrics: [
          { key: 'train.loss', value: NaN, step: 1 },
          { key: 'train.loss', value: Infinity, step: 2 },
        ],
        skippedFiles: [{ path: 'a/b.jpg', sha256: null, reason: 'empty file (0 bytes)' }],
      });
      const record = runRecord(3, 200);
      record.predictions[0].probabilities = [NaN, -Infinity, 0.1 + 0.2, 1e-300, 5e-324];
      await store.completeRun(run.id, record);
      return run.id;
    });
  }

  it('moves a run between databases exactly, and importing it twice does not duplicate it', async () => {
    const source = dir.file('source.sqlite');
    const target = dir.file('target.sqlite');
    const id = await completedRun(source);
    const text = serializeRunExport(await withStore(source, (s) => s.exportRun(id)));
    const data = parseRunExport(text, 'export.json');
    expect(data).toMatchObject({ format: 'mlbench.run', version: 1, schemaVersion: SCHEMA_VERSION, run: { id, status: 'completed' } });

    expect(await withStore(target, (s) => s.importRun(data))).toEqual({ runId: id, status: 'imported' });
    expect(await withStore(target, (s) => s.importRun(parseRunExport(text, 'export.json')))).toEqual({ runId: id, status: 'already-present' });

    await withStore(source, async (a) =>
      withStore(target, async (b) => {
        expect(await b.searchRuns()).toHaveLength(1);
        expect(await b.getRun(id)).toStrictEqual(await a.getRun(id));
        expect(await b.getMetrics(id)).toStrictEqual(await a.getMetrics(id));
        expect(await b.getParams(id)).toStrictEqual(await a.getParams(id));
        expect(await b.getSplit(id)).toStrictEqual(await a.getSplit(id));
        expect(await b.getDatasetInput(id)).toStrictEqual(await a.getDatasetInput(id));
        expect(await b.getExtractor(id)).toStrictEqual(await a.getExtractor(id));
        expect(await b.getSkippedFiles(id)).toStrictEqual(await a.getSkippedFiles(id));
        const predictions = await b.getPredictions(id);
        expect(predictions).toStrictEqual(await a.getPredictions(id));
        expect(predictions[0].probabilities).toEqual([NaN, -Infinity, 0.30000000000000004, 1e-300, 5e-324]);
        expect(await b.checkIntegrity()).toEqual(['ok']);
      }),
    );
  });

  it('refuses a different run under an existing id, without changing the database', async () => {
    const source = dir.file('source.sqlite');
    const id = await completedRun(source);
    const data = await withStore(source, (s) => s.exportRun(id));
    const altered = { ...data, params: [...data.params, { key: 'extra', value: '1' }] };
    await expect(withStore(source, (s) => s.importRun(altered))).rejects.toBeInstanceOf(ImportConflictError);
    expect(await withStore(source, (s) => s.getParams(id))).toEqual(data.params);
  });

  it('refuses running runs and files that are not run exports, naming the file', async () => {
    const file = dir.file('r.sqlite');
    await withStore(file, async (store) => {
      const run = await store.createRun(newRun());
      await expect(store.exportRun(run.id)).rejects.toBeInstanceOf(InvalidRunStateError);
    });
    const bad = (text: string): unknown => {
      try {
        return parseRunExport(text, '/x/runs.json');
      } catch (error) {
        return error;
      }
    };
    expect(bad('{not json')).toBeInstanceOf(InvalidRunExportError);
    expect((bad('{not json') as Error).message).toMatch(/^\/x\/runs\.json is not a run export .*not valid JSON/);
    expect((bad('{"format": "other"}') as Error).message).toMatch(/"format": "mlbench\.run"/);
    expect((bad('{"format": "mlbench.run", "version": 99}') as Error).message).toMatch(/version 99 is newer .*upgrade the code/);
    expect((bad('{"format": "mlbench.run", "version": 1, "schemaVersion": 3, "exportedAt": "x", "run": {}}') as Error).message).toMatch(
      /run\.id: /,
    );
  });
});
