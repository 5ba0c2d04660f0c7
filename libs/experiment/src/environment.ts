import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

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
    const version = installedVersion(name);
    // Not installed (tfjs-node is optional): leave it out rather than guess.
    if (version) versions[`package.${name}`] = version;
  }
  return versions;
}

/** Reads the version from the package's own package.json, also for packages whose `exports` hide it. */
function installedVersion(name: string): string | null {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    } catch {
      // no package.json at this level; keep walking up
    }
  }
  return null;
}
