/**
 * What the runner prints and how it opens a store someone else wrote (issue 12): terminal escapes
 * from stored names (case 12), concurrent imports of one id (case 6), read-only and mistyped
 * databases (case 13) and the exit code of a refused database (case 15).
 */
import { execFileSync } from 'node:child_process';
import { promises as fs, mkdirSync, rmdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';
import { writeSyntheticDataset } from '@mlbench/data';
import { openSqliteStore, serializeRunExport, type RunExport } from '@mlbench/tracking';
import { newRun, runRecord } from '@mlbench/tracking/src/testing/fixtures';
import { EXIT, runCli } from './cli';
import { captureIo, spawnCli } from './test-support';

jest.setTimeout(120_000);

/** A tmpfs needs root with CAP_SYS_ADMIN (as in the CI container); otherwise that test is skipped. */
const canMount = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  const probe = path.join(os.tmpdir(), `outputs-mount-probe-${process.pid}`);
  mkdirSync(probe, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(probe);
  }
})();

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'runner-outputs-'));
  await fs.chmod(dir, 0o755);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

/** A database with one completed run; returns its id. */
async function recordedRun(db: string, name = 'shared'): Promise<string> {
  const store = await openSqliteStore(db);
  try {
    const run = await store.createRun(newRun(name));
    await store.completeRun(run.id, runRecord(2, 30));
    return run.id;
  } finally {
    await store.close();
  }
}

async function editStore(db: string, sql: string, params: (string | number)[]): Promise<void> {
  const raw = new sqlite3.Database(db);
  await new Promise<void>((resolve, reject) => raw.run(sql, params, (error) => (error ? reject(error) : resolve())));
  await new Promise<void>((resolve) => raw.close(() => resolve()));
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('terminal escapes in stored names are printed as text (case 12)', () => {
  it('runs list and runs show: a run name and a class name with ESC sequences', async () => {
    const db = path.join(dir, 'runs.sqlite');
    const id = await recordedRun(db);
    await editStore(db, 'UPDATE runs SET name = ? WHERE id = ?', ['evil\u001b]0;pwned\u0007\u001b[2J', id]);
    await editStore(db, 'UPDATE dataset_inputs SET classes = ? WHERE run_id = ?', [JSON.stringify(['daisy', 'dan\u001b[31mdelion', 'roses', 'sunflowers', 'tulips']), id]);
    const listed = await cli('runs', 'list', '--db', db);
    expect(listed.code).toBe(EXIT.ok);
    expect(listed.out).not.toMatch(RAW_CONTROL);
    expect(listed.out).toContain('evil\\x1b]0;pwned\\x07\\x1b[2J');
    const shown = await cli('runs', 'show', id, '--db', db);
    expect(shown.code).toBe(EXIT.ok);
    expect(shown.out).not.toMatch(RAW_CONTROL);
    expect(shown.out).toContain('dan\\x1b[31mdelion');
  });

  it('the runner\'s tables: class folders with escape sequences in a real (pixel) run', async () => {
    const data = path.join(dir, 'data');
    await writeSyntheticDataset(data, { classes: ['red\u001b[2Jx', 'blue'], imagesPerClass: 10, seed: 'escapes' });
    const config = path.join(dir, 'escapes.yaml');
    await fs.writeFile(
      config,
      `name: escapes\nseed: 1\ndataset:\n  path: data\n  split: { train: 0.6, val: 0.2, test: 0.2 }\npreprocess:\n  size: [8, 8]\nmodel:\n  extractor: none\n  head: { type: softmax }\ntrain:\n  learningRate: 0.01\n  epochs: 2\n  batchSize: 8\n`,
    );
    const result = await cli('--config', config, '--db', path.join(dir, 'runs.sqlite'), '--cache-dir', path.join(dir, 'cache'));
    expect({ code: result.code, err: result.err }).toEqual({ code: EXIT.ok, err: expect.any(String) });
    expect(result.out).not.toMatch(RAW_CONTROL);
    expect(result.err).not.toMatch(RAW_CONTROL);
    expect(result.out).toContain('red\\x1b[2Jx');
  });
});

describe('concurrent `runs import` of two exports with one id (case 6)', () => {
  it('four processes: one imported, one already present, two refused as a conflict (exit 2)', async () => {
    const source = path.join(dir, 'source.sqlite');
    const id = await recordedRun(source);
    const store = await openSqliteStore(source);
    let data: RunExport;
    try {
      data = await store.exportRun(id);
    } finally {
      await store.close();
    }
    const fileA = path.join(dir, 'a.json');
    const fileB = path.join(dir, 'b.json');
    await fs.writeFile(fileA, serializeRunExport(data));
    await fs.writeFile(fileB, serializeRunExport({ ...data, params: [...data.params, { key: 'extra', value: 'b' }] }));
    const target = path.join(dir, 'target.sqlite');
    const processes = [fileA, fileB, fileA, fileB].map((file) => spawnCli(['runs', 'import', file, '--db', target]));
    const outcomes = await Promise.all(
      processes.map(async (p) => {
        const { code } = await p.exited;
        return { code, out: p.stdout.join('\n'), err: p.stderr.join('\n') };
      }),
    );
    const imported = outcomes.filter((o) => o.code === EXIT.ok && /^imported run /.test(o.out));
    const present = outcomes.filter((o) => o.code === EXIT.ok && /is already in/.test(o.out));
    const conflicts = outcomes.filter((o) => o.code === EXIT.badInput && /already has a run .* that differs from the imported one/.test(o.err));
    expect({ imported: imported.length, present: present.length, conflicts: conflicts.length }).toEqual({ imported: 1, present: 1, conflicts: 2 });
  });
});

describe('reading commands and databases they must not create or write (cases 13, 15)', () => {
  it('a mistyped --db for runs show / export is refused with exit 2 and nothing is created', async () => {
    const missing = path.join(dir, 'typo', 'runz.sqlite');
    for (const args of [['runs', 'show', 'abcd'], ['runs', 'export', 'abcd']]) {
      const result = await cli(...args, '--db', missing);
      expect({ args, code: result.code }).toEqual({ args, code: EXIT.badInput });
      expect(result.err).toBe(`error: no database at ${missing}; check --db (a database is created by the first run recorded into it)`);
    }
    await expect(fs.access(path.join(dir, 'typo'))).rejects.toThrow();
  });

  it('a SQLite file of another application: exit 2, untouched', async () => {
    const foreign = path.join(dir, 'foreign.sqlite');
    await editStore(foreign, 'CREATE TABLE other (x)', []);
    const before = await fs.readFile(foreign);
    for (const args of [['runs', 'list'], ['runs', 'show', 'abcd'], ['runs', 'export', 'abcd']]) {
      const result = await cli(...args, '--db', foreign);
      expect({ args, code: result.code }).toEqual({ args, code: EXIT.badInput });
      expect(result.err).toMatch(/foreign\.sqlite is a SQLite database of another application/);
    }
    expect(await fs.readFile(foreign)).toEqual(before);
  });

  (canMount ? it : it.skip)('a database on a read-only disk: listed, shown and exported; recording into it names the database', async () => {
    const disk = path.join(dir, 'archive');
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk]);
    try {
      const db = path.join(disk, 'runs.sqlite');
      const id = await recordedRun(db);
      execFileSync('mount', ['-o', 'remount,ro', disk]);
      const listed = await cli('runs', 'list', '--db', db);
      expect({ code: listed.code, err: listed.err }).toEqual({ code: EXIT.ok, err: '' });
      expect(listed.out).toContain(id);
      expect((await cli('runs', 'show', id, '--db', db)).code).toBe(EXIT.ok);
      const exported = await cli('runs', 'export', id, '--db', db, '--out', path.join(dir, 'out.json'));
      expect({ code: exported.code, err: exported.err }).toEqual({ code: EXIT.ok, err: expect.stringContaining('exported run') });

      const importing = await cli('runs', 'import', path.join(dir, 'out.json'), '--db', db);
      expect(importing.code).toBe(EXIT.failed);
      expect(importing.err).toMatch(new RegExp(`cannot write the tracking store ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file is read-only \\(read-only file system, EROFS\\)`));
      expect(importing.err).not.toMatch(/\[in: |INSERT/);
    } finally {
      execFileSync('umount', [disk]);
    }
  });

  (process.getuid?.() === 0 ? it : it.skip)('a read-only file in a writable folder (as an unprivileged user): read fine, a write names the database', async () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    await fs.chmod(shared, 0o777);
    const db = path.join(shared, 'runs.sqlite');
    const id = await recordedRun(db);
    await fs.chmod(db, 0o444);
    const exportFile = path.join(shared, 'run.json');
    const source = path.join(dir, 'other.sqlite');
    const otherId = await recordedRun(source, 'other');
    const other = await openSqliteStore(source);
    await fs.writeFile(exportFile, serializeRunExport(await other.exportRun(otherId)));
    await other.close();
    await fs.chmod(exportFile, 0o444);
    const asNobody = (args: string[]) =>
      spawnCli(args, { HOME: shared }, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    const list = asNobody(['runs', 'list', '--db', db]);
    expect((await list.exited).code).toBe(EXIT.ok);
    expect(list.stdout.join('\n')).toContain(id);
    const importing = asNobody(['runs', 'import', exportFile, '--db', db]);
    expect((await importing.exited).code).toBe(EXIT.failed);
    const err = importing.stderr.join('\n');
    expect(err).toContain(`cannot write the tracking store ${db}: the file is read-only (permission denied, EACCES)`);
    expect(err).not.toMatch(/\[in: |INSERT/);
  });
});

