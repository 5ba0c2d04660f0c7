import { execFileSync } from 'node:child_process';
import * as os from 'node:os';

/**
 * What a run needs to be reproduced elsewhere: code version, runtime and library versions,
 * machine. Captured apart from storage (MLflow keeps this in its context providers too).
 */
export function captureEnvironment(cwd: string, extra: Record<string, string> = {}): Record<string, string> {
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const commit = git('rev-parse', 'HEAD');
  const status = commit === null ? null : git('status', '--porcelain', '--untracked-files=no');
  return {
    'git.commit': commit ?? 'unknown',
    'git.dirty': status === null ? 'unknown' : String(status.length > 0),
    'git.branch': git('rev-parse', '--abbrev-ref', 'HEAD') ?? 'unknown',
    'node.version': process.version,
    'os.platform': `${os.platform()} ${os.release()} ${os.arch()}`,
    'host.cpus': `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    'host.memoryGiB': (os.totalmem() / 2 ** 30).toFixed(1),
    ...packageVersions(['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', 'sharp', 'sqlite3', 'seedrandom', 'zod', 'yaml']),
    ...extra,
  };
}

function packageVersions(names: readonly string[]): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const name of names) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      versions[`package.${name}`] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // Not installed (tfjs-node is optional): leave it out rather than guess.
    }
  }
  return versions;
}
