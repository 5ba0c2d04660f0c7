import { SqliteError, StoreClosedError } from '../../errors';
import type { SqlTransaction } from '../database';
import { Mutex } from '../mutex';
import { SqliteDb } from './sqlite-database';
import { tempDir, type TempDir } from '../../testing/fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Mutex', () => {
  it('runs tasks one at a time in call order, and survives a failing task', async () => {
    const m = new Mutex();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      m.run(async () => {
        log.push(`${name}+`);
        await sleep(ms);
        log.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a', 20), task('b', 1, true), task('c', 5)]);
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('SqliteDb', () => {
  let dir: TempDir;
  let db: SqliteDb;

  beforeEach(async () => {
    dir = tempDir();
    db = await SqliteDb.open(dir.file('w.db'));
    await db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  });

  afterEach(async () => {
    await db.close();
    dir.remove();
  });

  it('run/get/all/exec', async () => {
    expect(await db.run('INSERT INTO t VALUES (?, ?)', ['a', 1])).toMatchObject({ changes: 1 });
    await db.exec("INSERT INTO t VALUES ('b', 2); INSERT INTO t VALUES ('c', 3);");
    expect(await db.get('SELECT v FROM t WHERE k = ?', ['b'])).toEqual({ v: 2 });
    expect(await db.get('SELECT v FROM t WHERE k = ?', ['zz'])).toBeUndefined();
    expect(await db.all('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }, { k: 'b' }, { k: 'c' }]);
  });

  it('wraps driver errors with code and statement', async () => {
    await db.run('INSERT INTO t VALUES (?, ?)', ['a', 1]);
    const err = await db.run('INSERT INTO t VALUES (?, ?)', ['a', 2]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqliteError);
    expect(err).toMatchObject({ code: 'SQLITE_CONSTRAINT', sql: 'INSERT INTO t VALUES (?, ?)' });
  });

  it('commits a transaction and returns its value', async () => {
    const n = await db.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (?, ?)', ['a', 1]);
      return tx.runMany('INSERT INTO t VALUES (?, ?)', [['b', 2], ['c', 3]]);
    });
    expect(n).toBe(2);
    expect(await db.get('SELECT count(*) AS n FROM t')).toEqual({ n: 3 });
  });

  it('rolls back everything when the body throws, including rows of a failed runMany', async () => {
    await db.run('INSERT INTO t VALUES (?, ?)', ['keep', 0]);
    const rows = Array.from({ length: 1000 }, (_, i) => [`k${i}`, i] as const);
    const err = await db
      .transaction(async (tx) => {
        await tx.run('UPDATE t SET v = 99');
        // Row 500 duplicates row 0; the rows after it are still attempted, then all is undone.
        await tx.runMany('INSERT INTO t VALUES (?, ?)', [...rows.slice(0, 500), rows[0], ...rows.slice(500)]);
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SQLITE_CONSTRAINT' });
    expect(await db.all('SELECT * FROM t')).toEqual([{ k: 'keep', v: 0 }]);
    // The connection is usable afterwards (no transaction left open).
    await db.transaction((tx) => tx.run('INSERT INTO t VALUES (?, ?)', ['after', 1]));
    expect(await db.get('SELECT count(*) AS n FROM t')).toEqual({ n: 2 });
  });

  it('serialises concurrent transactions on one connection (no interleaving, no lost update)', async () => {
    await db.run("INSERT INTO t VALUES ('counter', 0)");
    const increment = () =>
      db.transaction(async (tx) => {
        const row = await tx.get<{ v: number }>("SELECT v FROM t WHERE k = 'counter'");
        await sleep(2); // yield to the event loop mid-transaction
        await tx.run("UPDATE t SET v = ? WHERE k = 'counter'", [(row?.v ?? 0) + 1]);
      });
    const failing = db.transaction(async (tx) => {
      await tx.run("UPDATE t SET v = -1000 WHERE k = 'counter'");
      await sleep(2);
      throw new Error('boom');
    });
    await Promise.all([increment(), increment(), failing.catch(() => undefined), increment(), increment()]);
    expect(await db.get("SELECT v FROM t WHERE k = 'counter'")).toEqual({ v: 4 });
  });

  it('makes a read wait for a running transaction instead of seeing its uncommitted rows', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (t) => {
      await t.run("INSERT INTO t VALUES ('x', 1)");
      await gate;
      throw new Error('abort');
    });
    await sleep(5);
    const read = db.all('SELECT * FROM t');
    release();
    await expect(tx).rejects.toThrow('abort');
    expect(await read).toEqual([]);
  });

  it('refuses to be used from inside its own transaction (would deadlock) and nested transactions', async () => {
    await expect(db.transaction(() => db.get('SELECT 1'))).rejects.toMatchObject({ code: 'NESTED_USE' });
    await expect(db.transaction(() => db.transaction(async () => 1))).rejects.toMatchObject({ code: 'NESTED_USE' });
    expect(await db.get('SELECT 1 AS one')).toEqual({ one: 1 });
  });

  it('rejects a transaction handle used after the transaction ended', async () => {
    let leaked: SqlTransaction | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.run("INSERT INTO t VALUES ('late', 1)")).rejects.toMatchObject({ code: 'TRANSACTION_ENDED' });
  });

  it('waits for statements the body forgot to await before committing', async () => {
    await db.transaction(async (tx) => {
      void tx.runMany('INSERT INTO t VALUES (?, ?)', Array.from({ length: 200 }, (_, i) => [`k${i}`, i]));
    });
    expect(await db.get('SELECT count(*) AS n FROM t')).toEqual({ n: 200 });
  });

  it('closes after queued work and then refuses calls', async () => {
    const pending = db.run("INSERT INTO t VALUES ('q', 1)");
    await db.close();
    await expect(pending).resolves.toMatchObject({ changes: 1 });
    await expect(db.get('SELECT 1')).rejects.toBeInstanceOf(StoreClosedError);
    db = await SqliteDb.open(dir.file('w.db'));
    expect(await db.get("SELECT v FROM t WHERE k = 'q'")).toEqual({ v: 1 });
  });
});
