/**
 * The report is a static HTML generator over the store: it must not load tfjs (nor its
 * WebAssembly backend). The CLI runs in a child process whose loaded modules are listed at exit.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { openSqliteStore } from '@mlbench/tracking';
import { tempDir, type TempDir } from '@mlbench/tracking/src/testing';
import { fakeRunData, recordRun } from './testing/fixtures';

let temp: TempDir;
beforeAll(() => (temp = tempDir('report-no-tfjs-')));
afterAll(() => temp.remove());

it('generating a report loads no @tensorflow module', async () => {
  const dir = temp.path;
  const db = path.join(dir, 'runs.sqlite');
  const store = await openSqliteStore(db);
  try {
    await recordRun(store, fakeRunData({ seed: 1 }), path.join(dir, 'data'));
  } finally {
    await store.close();
  }
  const modules = path.join(dir, 'modules.txt');
  const args = ['--require', require.resolve('tsx/cjs'), '--require', path.join(__dirname, 'testing/record-loaded-modules.ts'), path.join(__dirname, 'main.ts'), '--db', db, '--out', path.join(dir, 'report')];
  const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, MLBENCH_MODULE_LIST: modules } });
  expect(stdout).toContain('run pages   1 written');
  const loaded = (await fs.readFile(modules, 'utf8')).split('\n').filter(Boolean);
  // The list is real: the report's own modules and the SQLite driver are in it.
  expect(loaded.some((m) => m.endsWith(path.join('apps', 'report', 'src', 'run-page.ts')))).toBe(true);
  expect(loaded.some((m) => m.includes(`${path.sep}sqlite3${path.sep}`))).toBe(true);
  expect(loaded.filter((m) => m.includes('@tensorflow'))).toEqual([]);
}, 60_000);
