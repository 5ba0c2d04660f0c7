import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onStreamLines } from '@mlbench/common';
import type { CliIo } from './cli';

/** Repository root and the read-only shared data beside it. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const SHARED = path.resolve(REPO_ROOT, '../shared');

/** A temporary folder for the tests of one file: made before all of them, removed after all. */
export function useTempDir(prefix: string): { readonly path: string } {
  let dir = '';
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));
  return {
    get path(): string {
      return dir;
    },
  };
}

/** A config of one training epoch over the dataset folder `data` with the model `source` (for refusal tests). */
export const modelSourceConfig = (o: { name: string; seed: number; size: string; source: string }): string => `
name: ${o.name}
seed: ${o.seed}
dataset:
  path: data
preprocess:
  size: ${o.size}
model:
  extractor:
    source: "${o.source}"
train:
  learningRate: 0.01
  epochs: 1
  batchSize: 4
`;

/** Captures what the CLI prints. */
export function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l), isTty: false };
}

/** Final metrics of a run as a key -> value map (the tracking read layer's). */
export { finalMetrics } from '@mlbench/tracking';

/** A real runner process (`node --import tsx apps/runner/src/main.ts ...`), for signals and concurrency. */
export interface CliProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout line matching `pattern` (also one already printed). */
  waitFor(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}, prefix: readonly string[] = []): CliProcess {
  // node itself, not npx/tsx wrappers: the pid signalled (and recorded with the run) is the runner's.
  // `prefix` runs it through another command first (e.g. setpriv, to test as an unprivileged user).
  const command = [...prefix, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'apps/runner/src/main.ts'), ...args];
  const child = spawn(command[0], command.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, FORCE_PROGRESS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  onStreamLines(child.stdout as NodeJS.ReadableStream, (line) => {
    stdout.push(line);
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  onStreamLines(child.stderr as NodeJS.ReadableStream, (line) => void stderr.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp): Promise<string> => {
    const seen = stdout.find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiters.push({ pattern, resolve });
      void exited.then(({ code, signal }) =>
        reject(new Error(`runner exited (${code ?? signal}) before printing ${pattern}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`)),
      );
    });
  };
  return { child, stdout, stderr, waitFor, exited };
}

/**
 * Runs the CLI in a child process under a memory ceiling: its resident set is sampled from
 * /proc every 20 ms and the child is killed (SIGKILL) when it passes `maxRssBytes` or runs past
 * `timeoutMs`, so a regression to an unbounded read fails the test instead of taking the machine down.
 */
export async function runCliCapped(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; maxRssBytes: number; timeoutMs: number },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; peakRssBytes: number; seconds: number; cpuSeconds: number; killedFor: 'memory' | 'time' | null; stdout: string; stderr: string }> {
  const started = Date.now();
  const cli = spawnCli(args, options.env);
  const pid = cli.child.pid;
  let peak = 0;
  let cpuTicks = 0;
  let killedFor: 'memory' | 'time' | null = null;
  const sample = (): void => {
    if (pid === undefined) return;
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
      // utime + stime (fields 14 and 15, after the parenthesised command name), in clock ticks.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      cpuTicks = Number(fields[11]) + Number(fields[12]);
    } catch {
      return; // already gone
    }
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? /VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kb * 1024);
    if (killedFor) return;
    if (peak > options.maxRssBytes) killedFor = 'memory';
    else if (Date.now() - started > options.timeoutMs) killedFor = 'time';
    if (killedFor) cli.child.kill('SIGKILL');
  };
  const timer = setInterval(sample, 20);
  try {
    const { code, signal } = await cli.exited;
    // Clock ticks are 1/100 s on Linux (USER_HZ).
    return { code, signal, peakRssBytes: peak, seconds: (Date.now() - started) / 1000, cpuSeconds: cpuTicks / 100, killedFor, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('\n') };
  } finally {
    clearInterval(timer);
  }
}
