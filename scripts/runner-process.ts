/** A runner CLI child process whose stdout lines can be watched (for the cluster demo and simulation). */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { onStreamLines } from '@mlbench/common';

export const REPO = path.resolve(__dirname, '..');

export interface RunnerProcess {
  name: string;
  child: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Calls `fn` for every stdout line, the ones already printed included. */
  onLine(fn: (line: string) => void): void;
}

export function spawnRunner(name: string, args: string[], options: { echo?: boolean } = {}): RunnerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'apps/runner/src/main.ts'), ...args], {
    cwd: REPO,
    env: { ...process.env, FORCE_PROGRESS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const watch = (stream: NodeJS.ReadableStream, isErr: boolean): void =>
    onStreamLines(stream, (line) => {
      if (options.echo) process.stdout.write(`${name.padEnd(9)}| ${line}\n`);
      if (isErr) return;
      lines.push(line);
      for (const fn of listeners) fn(line);
    });
  watch(child.stdout as NodeJS.ReadableStream, false);
  watch(child.stderr as NodeJS.ReadableStream, true);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    name,
    child,
    lines,
    exited,
    onLine(fn) {
      listeners.push(fn);
      lines.forEach(fn);
    },
  };
}
