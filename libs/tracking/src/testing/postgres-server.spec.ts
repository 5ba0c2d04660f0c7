import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { startPostgres } from './index';

describe('startPostgres', () => {
  it('starts a throwaway server on 127.0.0.1 with password authentication, and stop() removes it', async () => {
    const server = await startPostgres();
    let stopped = false;
    try {
      const url = await server.createDatabase('harness_check');
      expect(url).toBe(`postgresql://mlbench:${server.password}@127.0.0.1:${server.port}/harness_check`);
      const client = new Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ user: string; db: string; fsync: string }>('SELECT current_user AS user, current_database() AS db, current_setting($1) AS fsync', ['fsync']);
      await client.end();
      expect(rows).toEqual([{ user: 'mlbench', db: 'harness_check', fsync: 'off' }]);
      const wrong = new Client({ connectionString: url.replace(server.password, 'wrong') });
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
      await wrong.end().catch(() => undefined);
      const pidFile = `${(await dataDir(server.url))}/postmaster.pid`;
      expect(existsSync(pidFile)).toBe(true);
      await server.stop();
      stopped = true;
      expect(existsSync(pidFile)).toBe(false);
      const late = new Client({ connectionString: server.url, connectionTimeoutMillis: 1000 });
      await expect(late.connect()).rejects.toThrow();
    } finally {
      if (!stopped) await server.stop();
    }
  }, 60_000);
});

async function dataDir(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0].d;
  } finally {
    await client.end();
  }
}
