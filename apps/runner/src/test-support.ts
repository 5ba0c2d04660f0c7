import * as path from 'node:path';
import type { CliIo } from './cli';

/** Repository root and the read-only shared data beside it. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const SHARED = path.resolve(REPO_ROOT, '../shared');

/** Captures what the CLI prints. */
export function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l), isTty: false };
}

/** Final metrics of a run as a key -> value map. */
export function finalMetrics(metrics: { key: string; value: number; step: number | null }[]): Record<string, number> {
  return Object.fromEntries(metrics.filter((m) => m.step === null).map((m) => [m.key, m.value]));
}
