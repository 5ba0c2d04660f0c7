/**
 * The report over a PostgreSQL store: its pages, and what the report CLI prints, never hold the
 * password, whether it came in the URL or in PGPASSWORD (issue 13).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTrackingStore } from '@mlbench/tracking';
import { startPostgres, type PostgresServer } from '@mlbench/tracking/src/testing';
import { fakeRunData, recordRun } from './testing/fixtures';

jest.setTimeout(120_000);

let dir: string;
let server: PostgresServer;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-pg-'));
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

function reportCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, 'main.ts'), ...args], { cwd: path.resolve(__dirname, '../../..'), env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('the report over a PostgreSQL store', () => {
  it('shows the runs and never shows the password (URL or PGPASSWORD)', async () => {
    const url = await server.createDatabase('report');
    const store = await openTrackingStore(url);
    const ids: string[] = [];
    try {
      for (const seed of [1, 2]) ids.push((await recordRun(store, fakeRunData({ seed, name: `pg-run-${seed}` }), null)).id);
    } finally {
      await store.close();
    }
    const withoutPassword = `postgresql://${server.user}@${server.host}:${server.port}/report`;
    const ways: [string, string[], NodeJS.ProcessEnv][] = [
      ['url', ['--db', url, '--out', path.join(dir, 'out-url')], {}],
      ['pgpassword', ['--db', withoutPassword, '--out', path.join(dir, 'out-env')], { PGPASSWORD: server.password }],
    ];
    for (const [way, args, env] of ways) {
      const result = await reportCli(args, env);
      expect({ way, code: result.code, stderr: result.stderr }).toEqual({ way, code: 0, stderr: expect.any(String) });
      expect(`${result.stdout}${result.stderr}`).not.toContain(server.password);
      const files = await filesUnder(args[3]);
      const pages = files.filter((f) => f.endsWith('.html'));
      expect(pages.length).toBeGreaterThanOrEqual(3); // index and both runs' pages
      const index = await fs.readFile(path.join(args[3], 'index.html'), 'utf8');
      for (const id of ids) expect(index).toContain(id.slice(0, 8));
      for (const file of files) {
        const text = (await fs.readFile(file)).toString('latin1');
        expect({ file: path.relative(args[3], file), leaks: text.includes(server.password) }).toEqual({ file: path.relative(args[3], file), leaks: false });
      }
    }
  });
});
