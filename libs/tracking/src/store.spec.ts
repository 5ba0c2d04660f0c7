import * as os from 'node:os';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Database } from 'sqlite3';
import type { Metric, Run } from './entities';
import { InvalidArgumentError, InvalidRunStateError, ParamConflictError, PostgresError, RunNotFoundError, SqliteError, StoreClosedError } from './errors';
import { openSqliteStore } from './index';
import { decodeFloat64, encodeFloat64 } from './store/rows';
import type { SqliteDb } from './database/sqlite/sqlite-database';
import type { TrackingStore } from './store';
import { newRun, runRecord, tempDir, type TempDir } from './testing/fixtures';
import { describeEachEngine } from './testing/store-engines';

/** Reads with a plain driver connection, independent of the code under test. */
function rawQuery<T>(file: string, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new Database(file, (err) => {
      if (err) return reject(err);
      db.all<T>(sql, (err2, rows) => db.close(() => (err2 ? reject(err2) : resolve(rows))));
    });
  });
}

/** A clock that ticks one second per call, from a fixed instant. */
function steppingClock(startIso = '2025-01-01T00:00:00.000Z'): () => Date {
  let t = Date.parse(startIso);
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}

/** The TrackingStore contract: the same tests on SQLite and on a real PostgreSQL server. */
describeEachEngine('TrackingStore', (engine) => {
  let location: string;
  let store: TrackingStore;

  beforeEach(async () => {
    location = await engine().freshLocation();
    store = await engine().open(location, { now: steppingClock() });
  });

  afterEach(async () => {
    await store.close();
  });

  it('creates a running run with a 32-hex id, committed at once', async () => {
    const run = await store.createRun(newRun());
    expect(run.id).toMatch(/^[0-9a-f]{32}$/);
    expect(run).toMatchObject({ status: 'running', endTime: null, durationMs: null, error: null, startTime: '2025-01-01T00:00:00.000Z' });
    // Visible to another connection immediately: a crash mid-run still leaves a row.
    const rows = await engine().rawQuery<{ status: string }>(location, `SELECT status FROM runs WHERE id = '${run.id}'`);
    expect(rows).toEqual([{ status: 'running' }]);
    expect(await store.getRun(run.id)).toEqual(run);
  });

  it('completes a run and reads back every entity exactly', async () => {
    const input = newRun();
    const created = await store.createRun(input);
    const learning: Metric[] = [
      { key: 'loss', value: 1.2345678901234567, step: 0 },
      { key: 'loss', value: 0.6931471805599453, step: 1 },
    ];
    await store.logBatch(created.id, { metrics: learning });
    const record = runRecord(7);

    // 3670 split members + ~1100 predictions in one transaction (speed is measured by benchmarks, not here).
    const completed = await store.completeRun(created.id, record);

    const expected: Run = {
      id: created.id,
      name: input.name,
      status: 'completed',
      startTime: '2025-01-01T00:00:00.000Z',
      endTime: '2025-01-01T00:00:01.000Z',
      durationMs: 1000,
      seed: input.seed,
      configHash: input.configHash,
      configText: input.configText,
      resolvedConfig: input.resolvedConfig,
      error: null,
      environment: input.environment,
      pid: process.pid,
      hostname: os.hostname(),
      sweepId: null,
      sweepIndex: null,
    };
    expect(completed).toStrictEqual(expected);
    expect(await store.getRun(created.id)).toStrictEqual(expected);
    expect(await store.getParams(created.id)).toStrictEqual(record.params);
    expect(await store.getMetrics(created.id)).toStrictEqual([...learning, ...record.metrics]);
    expect(await store.getDatasetInput(created.id)).toStrictEqual(record.dataset);
    expect(await store.getExtractor(created.id)).toStrictEqual(record.extractor);
    expect(record.split).toHaveLength(3670);
    expect(await store.getSplit(created.id)).toStrictEqual(record.split);
    expect(record.predictions.length).toBeGreaterThan(1000);
    expect(await store.getPredictions(created.id)).toStrictEqual(record.predictions);
    expect(await store.getPredictions(created.id, 'test')).toStrictEqual(record.predictions.filter((p) => p.split === 'test'));
    expect(await store.getPredictions(created.id, 'train')).toStrictEqual([]);
  });

  it('round-trips awkward numbers: metrics as doubles, probabilities as float64', async () => {
    const run = await store.createRun(newRun('numbers', 2 ** 40 + 1));
    const values = [0.1, 1 / 3, Number.MIN_VALUE, Number.MAX_VALUE, -1e-300, Infinity, -Infinity, NaN, 2 ** 53];
    await store.logBatch(run.id, { metrics: values.map((value, step) => ({ key: 'm', value, step })) });
    expect((await store.getMetrics(run.id)).map((m) => m.value)).toStrictEqual(values);
    expect((await store.getRun(run.id))?.seed).toBe(2 ** 40 + 1);

    const record = runRecord(3, 10);
    const probs = [1 / 3, 2 / 3, Number.MIN_VALUE, NaN, -0, 0.30000000000000004];
    record.predictions = [{ path: 'a.jpg', split: 'val', trueLabel: 0, predictedLabel: 1, probabilities: probs }, { path: 'b.jpg', split: 'val', trueLabel: 1, predictedLabel: 1, probabilities: [] }];
    await store.completeRun(run.id, record);
    const got = await store.getPredictions(run.id);
    expect(got[0].probabilities).toStrictEqual(probs);
    expect(Object.is(got[0].probabilities[4], -0)).toBe(true);
    expect(got[1].probabilities).toStrictEqual([]);
  });

  it('failRun keeps what was logged and records error, end time and duration', async () => {
    const run = await store.createRun(newRun());
    await store.logBatch(run.id, { params: [{ key: 'lr', value: '0.01' }], metrics: [{ key: 'loss', value: 0.5, step: 0 }] });
    await store.logBatch(run.id, { metrics: [{ key: 'loss', value: 0.25, step: 1 }] });
    const failed = await store.failRun(run.id, 'Error: out of memory');
    expect(failed).toMatchObject({ status: 'failed', error: 'Error: out of memory', endTime: '2025-01-01T00:00:01.000Z', durationMs: 1000 });
    expect(await store.getMetrics(run.id)).toStrictEqual([
      { key: 'loss', value: 0.5, step: 0 },
      { key: 'loss', value: 0.25, step: 1 },
    ]);
    expect(await store.getParams(run.id)).toStrictEqual([{ key: 'lr', value: '0.01' }]);

    const other = await store.createRun(newRun());
    expect(await store.failRun(other.id, 'SIGINT', 'interrupted')).toMatchObject({ status: 'interrupted', error: 'SIGINT' });
  });

  it('rolls completeRun back entirely when it fails mid-way; the run stays running, then failRun works', async () => {
    const run = await store.createRun(newRun());
    await store.logBatch(run.id, { metrics: [{ key: 'loss', value: 0.9, step: 0 }] });
    const record = runRecord(5);
    // Duplicate split path: violates UNIQUE (list_id, path) of the run's new image list after params,
    // metrics, dataset, extractor and thousands of image rows were already written in the transaction.
    record.split.push({ ...record.split[100] });

    const err = await store.completeRun(run.id, record).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(engine().name === 'sqlite' ? SqliteError : PostgresError);
    expect(err).toMatchObject(engine().constraintViolation);
    expect((err as Error).message).toMatch(/dataset_images/);

    expect((await store.getRun(run.id))?.status).toBe('running');
    expect(await store.getParams(run.id)).toEqual([]);
    expect(await store.getMetrics(run.id)).toStrictEqual([{ key: 'loss', value: 0.9, step: 0 }]);
    expect(await store.getDatasetInput(run.id)).toBeNull();
    expect(await store.getExtractor(run.id)).toEqual({});
    expect(await store.getSplit(run.id)).toEqual([]);
    expect(await store.getPredictions(run.id)).toEqual([]);

    const failed = await store.failRun(run.id, (err as Error).message);
    expect(failed.status).toBe('failed');
    expect(await store.getMetrics(run.id)).toHaveLength(1);
  });

  it('treats finished runs as immutable', async () => {
    const run = await store.createRun(newRun());
    await store.completeRun(run.id, runRecord(1, 20));
    await expect(store.completeRun(run.id, runRecord(1, 20))).rejects.toBeInstanceOf(InvalidRunStateError);
    await expect(store.failRun(run.id, 'late')).rejects.toBeInstanceOf(InvalidRunStateError);
    await expect(store.logBatch(run.id, { metrics: [{ key: 'x', value: 1, step: null }] })).rejects.toBeInstanceOf(InvalidRunStateError);
    expect((await store.getRun(run.id))?.status).toBe('completed');
  });

  it('rejects unknown runs with RunNotFoundError and returns empty reads', async () => {
    const missing = '0'.repeat(32);
    await expect(store.completeRun(missing, runRecord(1, 5))).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(store.failRun(missing, 'x')).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(store.logBatch(missing, {})).rejects.toBeInstanceOf(RunNotFoundError);
    expect(await store.getRun(missing)).toBeNull();
    expect(await store.getDatasetInput(missing)).toBeNull();
    expect(await store.getParams(missing)).toEqual([]);
    expect(await store.getExtractor(missing)).toEqual({});
  });

  it('keeps params write-once (same value again is fine) and validates input', async () => {
    const run = await store.createRun(newRun());
    await store.logBatch(run.id, { params: [{ key: 'lr', value: '0.001' }] });
    // completeRun re-sending an already logged param with the same value is accepted, not duplicated.
    await expect(store.logBatch(run.id, { params: [{ key: 'lr', value: '0.001' }] })).resolves.toBeUndefined();
    await expect(store.logBatch(run.id, { params: [{ key: 'lr', value: '0.1' }] })).rejects.toBeInstanceOf(ParamConflictError);
    await expect(store.logBatch(run.id, { metrics: [{ key: 'm', value: 1, step: 1.5 }] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.createRun({ ...newRun(), seed: 0.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.createRun({ ...newRun(), resolvedConfig: undefined })).rejects.toBeInstanceOf(InvalidArgumentError);
    const bad = runRecord(1, 5);
    bad.split[0] = { ...bad.split[0], label: 1.5 };
    await expect(store.completeRun(run.id, bad)).rejects.toMatchObject(engine().constraintViolation);
    expect(await store.getParams(run.id)).toStrictEqual([{ key: 'lr', value: '0.001' }]);
  });

  it('searchRuns filters by name and status, newest first, with a limit', async () => {
    const a1 = await store.createRun(newRun('a'));
    const b1 = await store.createRun(newRun('b'));
    const a2 = await store.createRun(newRun('a'));
    const a3 = await store.createRun(newRun('a'));
    await store.failRun(a2.id, 'boom');
    const ids = (runs: Run[]) => runs.map((r) => r.id);

    expect(ids(await store.searchRuns())).toEqual([a3.id, a2.id, b1.id, a1.id]);
    expect(ids(await store.searchRuns({ name: 'a' }))).toEqual([a3.id, a2.id, a1.id]);
    expect(ids(await store.searchRuns({ name: 'a', status: 'running' }))).toEqual([a3.id, a1.id]);
    expect(ids(await store.searchRuns({ status: 'failed' }))).toEqual([a2.id]);
    expect(ids(await store.searchRuns({ limit: 2 }))).toEqual([a3.id, a2.id]);
    expect(await store.searchRuns({ name: 'nope' })).toEqual([]);
    await expect(store.searchRuns({ limit: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('orders runs started in the same millisecond by creation', async () => {
    const frozen = await engine().open(await engine().freshLocation(), { now: () => new Date('2025-06-01T12:00:00.000Z') });
    try {
      const first = await frozen.createRun(newRun());
      const second = await frozen.createRun(newRun());
      expect((await frozen.searchRuns()).map((r) => r.id)).toEqual([second.id, first.id]);
    } finally {
      await frozen.close();
    }
  });

  it('serialises concurrent calls on one store', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => store.createRun(newRun(`r${i}`))));
    await Promise.all(
      runs.map((r, i) =>
        i % 2 === 0 ? store.completeRun(r.id, runRecord(i, 300)) : store.logBatch(r.id, { metrics: [{ key: 'loss', value: i, step: 0 }] }),
      ),
    );
    const completed = await store.searchRuns({ status: 'completed' });
    expect(completed).toHaveLength(3);
    for (const r of completed) expect(await store.getSplit(r.id)).toHaveLength(300);
  });

  it('refuses calls after close', async () => {
    await store.close();
    await expect(store.getRun('x')).rejects.toBeInstanceOf(StoreClosedError);
    await store.close(); // idempotent
  });

});

describe('SqliteTrackingStore', () => {
  let dir: TempDir;
  let store: TrackingStore;

  beforeEach(async () => {
    dir = tempDir();
    store = await openSqliteStore(dir.file('nested/dirs/tracking.db'), { now: steppingClock() });
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it('creates parent directories and reports its location', () => {
    expect(store.location).toBe(dir.file('nested/dirs/tracking.db'));
  });

  it('encodes probabilities as little-endian float64', () => {
    const buf = encodeFloat64([1, -2.5]);
    expect(buf.toString('hex')).toBe('000000000000f03f00000000000004c0');
    expect(decodeFloat64(buf)).toEqual([1, -2.5]);
    expect(() => decodeFloat64(Buffer.alloc(7))).toThrow(/not a float64 array/);
  });

  it('runs its connection with foreign keys on and leaves no violations', async () => {
    const db = (store as unknown as { db: SqliteDb }).db;
    expect(await db.get('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
    await expect(db.run("INSERT INTO params (run_id, key, value) VALUES ('nope', 'k', 'v')")).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT' });
    const run = await store.createRun(newRun());
    await store.completeRun(run.id, runRecord(1, 5));
    expect(await rawQuery(store.location, 'PRAGMA foreign_key_check')).toEqual([]);
  });
});

describeEachEngine('several connections on one store', (engine) => {
  // Real concurrency on a shared machine: minutes are generous, the default 5 s is not.
  jest.setTimeout(120_000);
  it('4 stores creating and completing runs in parallel all succeed with correct counts', async () => {
    const file = await engine().freshLocation();
    // Opening concurrently too: all four race to create and migrate the fresh store.
    const stores = await Promise.all(Array.from({ length: 4 }, () => engine().open(file)));
    const runsPerStore = 3;
    const members = 600;
    try {
      await Promise.all(
        stores.map(async (s, si) => {
          for (let i = 0; i < runsPerStore; i++) {
            const run = await s.createRun(newRun(`store${si}`, i));
            await s.logBatch(run.id, { metrics: [{ key: 'loss', value: si + i / 10, step: 0 }] });
            await s.completeRun(run.id, runRecord(si * 100 + i, members));
          }
        }),
      );
      const all = await stores[0].searchRuns();
      expect(all).toHaveLength(4 * runsPerStore);
      expect(all.every((r) => r.status === 'completed')).toBe(true);
      for (let si = 0; si < 4; si++) expect(await stores[3 - si].searchRuns({ name: `store${si}` })).toHaveLength(runsPerStore);
      for (const r of all) expect(await stores[1].getSplit(r.id)).toHaveLength(members);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    const counts = await engine().rawQuery<{ n: number }>(file, 'SELECT count(*) AS n FROM split_members');
    expect(counts).toEqual([{ n: 4 * runsPerStore * members }]);
    if (engine().name === 'sqlite') {
      expect(await engine().rawQuery(file, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      expect(await engine().rawQuery(file, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    }
  });

  it('several processes writing to one file all succeed', async () => {
    const file = await engine().freshLocation();
    const script = join(__dirname, 'testing', 'writer-process.ts');
    const run = (tag: string) => promisify(execFile)(process.execPath, ['--require', require.resolve('tsx/cjs'), script, file, tag, '3']);
    await Promise.all(['p1', 'p2', 'p3'].map(run));
    const counts = await engine().rawQuery<{ name: string; status: string; n: number }>(
      file,
      'SELECT name, status, count(*) AS n FROM runs GROUP BY name, status ORDER BY name',
    );
    expect(counts).toEqual(['p1', 'p2', 'p3'].map((name) => ({ name, status: 'completed', n: 6 })));
    expect(await engine().rawQuery(file, 'SELECT count(*) AS n FROM split_members')).toEqual([{ n: 3 * 6 * 800 }]);
    if (engine().name === 'sqlite') expect(await engine().rawQuery(file, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  }, 120_000);

});

describe('several connections on one file', () => {
  let dir: TempDir;
  afterEach(() => dir.remove());

  it('more writers than libuv pool threads do not stall (in-process write lock)', async () => {
    dir = tempDir();
    const file = dir.file('many.db');
    const stores = await Promise.all(Array.from({ length: 10 }, () => openSqliteStore(file, { busyTimeoutMs: 3000 })));
    try {
      await Promise.all(
        stores.map(async (s, si) => {
          const run = await s.createRun(newRun(`w${si}`));
          await s.completeRun(run.id, runRecord(si, 400));
        }),
      );
      expect(await stores[0].searchRuns({ status: 'completed' })).toHaveLength(10);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    expect(await rawQuery(file, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });
});

describeEachEngine('sweeps', (engine) => {
  let sweepStore: TrackingStore;
  beforeEach(async () => {
    sweepStore = await engine().open(await engine().freshLocation());
  });
  afterEach(async () => {
    await sweepStore.close();
  });
  it('records a sweep, its runs by grid position, and its status', async () => {
    const sweep = await sweepStore.createSweep({ name: 'grid', configHash: 'h1', configText: 'x', definition: { seed: [1, 2] }, size: 2 });
    expect(sweep).toMatchObject({ name: 'grid', status: 'running', endTime: null, definition: { seed: [1, 2] }, size: 2 });
    const first = await sweepStore.createRun({ ...newRun(), seed: 1, sweepId: sweep.id, sweepIndex: 0 });
    await sweepStore.createRun({ ...newRun(), seed: 2, sweepId: sweep.id, sweepIndex: 1 });
    await sweepStore.createRun(newRun());
    expect(first).toMatchObject({ sweepId: sweep.id, sweepIndex: 0 });
    const members = await sweepStore.searchRuns({ sweepId: sweep.id });
    expect(members.map((r) => r.sweepIndex).sort()).toEqual([0, 1]);
    const done = await sweepStore.updateSweepStatus(sweep.id, 'completed');
    expect(done.status).toBe('completed');
    expect(done.endTime).not.toBeNull();
    expect((await sweepStore.searchSweeps({ configHash: 'h1' })).map((s) => s.id)).toEqual([sweep.id]);
    expect(await sweepStore.searchSweeps({ configHash: 'other' })).toEqual([]);
  });
});
