/**
 * A real, throwaway PostgreSQL server for tests: Debian's binaries (`postgresql` package, see
 * scripts/install-test-deps.sh), a fresh cluster in a temp folder, a free 127.0.0.1 port,
 * password authentication, stopped and deleted by `stop()`. As root it runs as the `postgres`
 * system user (PostgreSQL refuses root). Durability is off (fsync): it is a test server.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync, chownSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, ownedTempDir, runAs, serverUser, spawnAs, stopProcess } from './server-process';

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  /** Random per server; tests check it never shows up where it must not. */
  password: string;
  /** `postgresql://user:password@127.0.0.1:port/postgres` */
  url: string;
  /** Creates an empty database and returns its URL (with the password). */
  createDatabase(name?: string): Promise<string>;
  /** Fast shutdown, then the cluster's folder is deleted. Idempotent. */
  stop(): Promise<void>;
}

/** Where Debian (or MLBENCH_PG_BINDIR) keeps initdb and postgres; the newest version wins. */
export function postgresBinDir(): string {
  const fromEnv = process.env.MLBENCH_PG_BINDIR;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/postgres): run `bash scripts/install-test-deps.sh`, or set MLBENCH_PG_BINDIR');
  }
  return join(root, versions[0], 'bin');
}

export async function startPostgres(options: { password?: string } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const user = serverUser(['postgres', 'nobody']);
  const dir = ownedTempDir(user, 'mlbench-pg-');
  const data = join(dir.path, 'data');
  const dbUser = 'mlbench';
  const password = options.password ?? `pw-${randomBytes(12).toString('hex')}`;
  const pwfile = join(dir.path, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user.uid !== null && user.gid !== null) chownSync(pwfile, user.uid, user.gid);
  let server: ReturnType<typeof spawnAs> | null = null;
  const cleanUp = (): void => {
    server?.child.kill('SIGKILL');
    rmSync(dir.path, { recursive: true, force: true });
  };
  // A test process that dies without stop() must not leave a server running.
  process.once('exit', cleanUp);
  try {
    runAs(user, join(bin, 'initdb'), ['-D', data, '-U', dbUser, '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], { cwd: dir.path });
    rmSync(pwfile);
    const port = await freePort();
    server = spawnAs(
      user,
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir.path}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=32MB', '-c', 'max_connections=120'],
      { cwd: dir.path },
    );
    const url = `postgresql://${dbUser}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    await waitUntilReady(url, server, 30_000);
    const running = server;
    let stopped = false;
    return {
      host: '127.0.0.1',
      port,
      user: dbUser,
      password,
      url,
      async createDatabase(name = `t_${randomBytes(6).toString('hex')}`): Promise<string> {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name} must be lowercase letters, digits and _`);
        const client = new Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return url.replace(/\/postgres$/, `/${name}`);
      },
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        await stopProcess(running.child, 'SIGINT');
        process.removeListener('exit', cleanUp);
        dir.remove();
      },
    };
  } catch (error) {
    if (server) await stopProcess(server.child, 'SIGINT', 5_000);
    process.removeListener('exit', cleanUp);
    dir.remove();
    throw error;
  }
}

/** Polls with a real connection (bounded): the server is ready when a query answers. */
async function waitUntilReady(url: string, server: ReturnType<typeof spawnAs>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`postgres exited while starting:\n${server.output()}`);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${timeoutMs} ms (${(error as Error).message}):\n${server.output()}`);
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500)));
    }
  }
}
