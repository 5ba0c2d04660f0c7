/**
 * Throwaway servers for tests (PostgreSQL here; a Redis twin can use the same pieces): a free
 * 127.0.0.1 port, a temp folder owned by the user the server runs as, and that user. Servers such
 * as PostgreSQL refuse to run as root, and CI runs as root: then the server runs as an
 * unprivileged system user (`postgres` from Debian's package, else `nobody`) through `setpriv`,
 * which execs the server itself, so the pid we hold is the server's and signals reach it.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export interface ServerUser {
  /** null: this process's own user (not root). */
  uid: number | null;
  gid: number | null;
  name: string;
}

/** The user a test server runs as: ourselves, or (as root) the first existing of `candidates`. */
export function serverUser(candidates: readonly string[] = ['postgres', 'nobody']): ServerUser {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { uid: null, gid: null, name: 'self' };
  for (const name of candidates) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { uid, gid, name };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error(`running as root, and none of the users ${candidates.join(', ')} exists to run the test server as`);
}

/** A temp folder the server user owns (mode 0700); `remove` deletes it. */
export function ownedTempDir(user: ServerUser, prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  if (user.uid !== null && user.gid !== null) chownSync(path, user.uid, user.gid);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** argv that runs `command` as `user` (unchanged when it is ourselves). */
export function asUser(user: ServerUser, command: string, args: readonly string[]): [string, string[]] {
  if (user.uid === null || user.gid === null) return [command, [...args]];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', command, ...args]];
}

/** Runs a command as `user` to completion; throws with its output when it fails. */
export function runAs(user: ServerUser, command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): string {
  const [cmd, argv] = asUser(user, command, args);
  try {
    return execFileSync(cmd, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Starts a long-running server as `user`; its output is kept (last 64 KiB) for error messages. */
export function spawnAs(user: ServerUser, command: string, args: readonly string[], options: { cwd: string }): { child: ChildProcess; output: () => string } {
  const [cmd, argv] = asUser(user, command, args);
  const child = spawn(cmd, argv, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

/** Ends `child` with `signal` and waits (bounded) for it to exit; SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
