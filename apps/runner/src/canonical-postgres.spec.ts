import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { openTrackingStore, type TrackingStore } from '@mlbench/tracking';
import { startPostgres, type PostgresServer } from '@mlbench/tracking/src/testing';
import { EXIT, runCli } from './cli';
import { REPO_ROOT, captureIo, finalMetrics } from './test-support';

/**
 * The canonical experiment recorded in PostgreSQL gives what it gives in SQLite: the same split,
 * the same accuracy and the same per-image predictions; its run reproduces; and the password of
 * the URL is nowhere in what the runner prints or records. Uses the warm feature cache.
 */
jest.setTimeout(40 * 60_000);

const CONFIG = path.join(REPO_ROOT, 'experiments/flowers-mobilenetv2-frozen.yaml');
const CANONICAL_ACCURACY = 0.8884353741496599;
let dir: string;
let server: PostgresServer;
let url: string;
const printed: string[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'canonical-pg-'));
  server = await startPostgres();
  url = await server.createDatabase('canonical');
});
afterAll(async () => {
  await server?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

const cli = async (...args: string[]): Promise<{ code: number; out: string }> => {
  const io = captureIo();
  const code = await runCli([...args, '--cache-dir', path.join(REPO_ROOT, 'results/cache')], io);
  const out = [...io.stdout, ...io.stderr].join('\n');
  printed.push(out);
  return { code, out };
};

async function canonicalRun(store: TrackingStore) {
  const [run] = await store.searchRuns({ name: 'flowers-mobilenetv2-frozen', status: 'completed' });
  const [dataset, metrics, predictions] = await Promise.all([store.getDatasetInput(run.id), store.getMetrics(run.id), store.getPredictions(run.id)]);
  return { run, dataset, final: finalMetrics(metrics), predictions };
}

describe('canonical experiment on PostgreSQL', () => {
  it('gives the split hash, accuracy and per-image predictions it gives on SQLite, and reproduces', async () => {
    const sqlite = path.join(dir, 'runs.sqlite');
    expect((await cli('--config', CONFIG, '--db', sqlite)).code).toBe(EXIT.ok);
    const onPg = await cli('--config', CONFIG, '--db', url);
    expect(onPg.code).toBe(EXIT.ok);
    expect(onPg.out).toContain(`recording to postgresql://mlbench@127.0.0.1:${server.port}/canonical`);

    const [a, b] = await Promise.all([openTrackingStore(sqlite), openTrackingStore(url)]);
    try {
      const [lite, pg] = await Promise.all([canonicalRun(a), canonicalRun(b)]);
      expect(pg.dataset?.splitHash).toBe(lite.dataset?.splitHash);
      expect(pg.dataset?.fingerprint).toBe(lite.dataset?.fingerprint);
      expect(lite.final['test.accuracy']).toBe(CANONICAL_ACCURACY);
      expect(pg.final['test.accuracy']).toBe(CANONICAL_ACCURACY);
      expect(pg.predictions).toHaveLength(lite.predictions.length);
      expect(pg.predictions).toStrictEqual(lite.predictions);

      const reproduced = await cli('reproduce', pg.run.id.slice(0, 8), '--db', url);
      expect(reproduced.out).toContain(`reproduces ${pg.run.id}`);
      expect(reproduced.code).toBe(EXIT.ok);
      expect((await cli('runs', 'list', '--db', url)).out).toContain(pg.run.id);
      expect((await cli('runs', 'export', pg.run.id, '--db', url)).out).toContain(`"id": "${pg.run.id}"`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('never prints or records the password of the URL', async () => {
    expect(printed.length).toBeGreaterThan(0);
    for (const out of printed) expect(out).not.toContain(server.password);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const tables = (await client.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema()")).rows.map((r) => r.t);
      expect(tables).toContain('runs');
      for (const table of tables) {
        const { rows } = await client.query(`SELECT * FROM ${table}`);
        const text = JSON.stringify(rows, (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('latin1') : value));
        expect({ table, leaks: text.includes(server.password) }).toEqual({ table, leaks: false });
      }
    } finally {
      await client.end();
    }
  });
});
