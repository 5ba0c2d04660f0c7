/**
 * Unbounded reads, proven at the process level: the real CLI runs in a child process whose
 * resident memory is watched (killed above 1 GB); each hostile input must end with exit 2, a
 * message, and nothing recorded, within 10 s of CPU (1-2 s wall on an idle machine).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { startTestHttpServer, streamEndlessly, type TestHttpServer } from '@mlbench/model/src/testing';
import { EXIT } from './cli';
import { modelSourceConfig, runCliCapped } from './test-support';

jest.setTimeout(120_000);

const GB = 1024 ** 3;
// Killed after 25 s: less than the 30 s default download timeout, so an ignored override fails.
const CAP = { maxRssBytes: GB, timeoutMs: 25_000 };
let dir: string;
let server: TestHttpServer;
let baseUrl: string;

const config = (source: string): string => modelSourceConfig({ name: 'bounds', seed: 1, size: '[160, 160]', source });

async function runConfig(text: string, env: NodeJS.ProcessEnv = {}): Promise<Awaited<ReturnType<typeof runCliCapped>>> {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  await fs.writeFile(file, text);
  return runCliCapped(['--config', file, '--db', path.join(dir, 'runs.sqlite'), '--cache-dir', path.join(dir, 'cache')], { ...CAP, env });
}

function expectBoundedRefusal(result: Awaited<ReturnType<typeof runCliCapped>>, message: RegExp): void {
  expect(result.killedFor).toBeNull();
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.code).toBe(EXIT.badInput);
  expect(result.peakRssBytes).toBeLessThan(GB);
  // Within 10 s: the process's own CPU time, which a shared, loaded machine does not inflate
  // (there the wall clock is mostly waiting for a core while tsx loads the CLI). Wall time is
  // bounded by the 25 s kill, below the 30 s a broken download timeout would default to.
  expect(result.cpuSeconds).toBeLessThan(10);
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'runner-bounds-'));
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['a', 'b'], imagesPerClass: 4, seed: 'bounds' });
  server = await startTestHttpServer((req, res) => {
    if (req.url === '/endless.tflite') streamEndlessly(res, Buffer.alloc(256 * 1024, 1));
    // Any other path: accept and never answer.
  });
  baseUrl = server.baseUrl;
});

afterAll(async () => {
  await server.close();
  await fs.rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  // Nothing recorded: the database is not even created before the inputs are checked.
  await expect(fs.stat(path.join(dir, 'runs.sqlite'))).rejects.toMatchObject({ code: 'ENOENT' });
});

it('a model source linked to /dev/zero', async () => {
  const link = path.join(dir, 'zero.tflite');
  await fs.symlink('/dev/zero', link);
  expectBoundedRefusal(await runConfig(config(link)), /zero\.tflite is a character device \(such as \/dev\/zero\), not a regular file/);
});

it('a model URL whose body never ends', async () => {
  const result = await runConfig(config(`${baseUrl}/endless.tflite`), { MLBENCH_MAX_MODEL_BYTES: '64MiB' });
  expectBoundedRefusal(result, /endless\.tflite: the body passed \d+ bytes, over the model size limit of 64 MiB/);
  expect(await fs.readdir(path.join(dir, 'cache', 'models')).catch(() => [])).toEqual([]);
});

it('a model URL whose server never answers', async () => {
  const result = await runConfig(config(`${baseUrl}/silent.tflite`), { MLBENCH_DOWNLOAD_TIMEOUT_SECONDS: '1' });
  expectBoundedRefusal(result, /silent\.tflite: no data for 1 s while connecting or waiting for the response/);
});

it('a config file linked to /dev/zero', async () => {
  const link = path.join(dir, 'zero.yaml');
  await fs.symlink('/dev/zero', link);
  const result = await runCliCapped(['--config', link, '--db', path.join(dir, 'runs.sqlite'), '--cache-dir', path.join(dir, 'cache')], CAP);
  expectBoundedRefusal(result, /zero\.yaml is a character device \(such as \/dev\/zero\), not a regular file/);
});

it('a config nested 100k levels deep', async () => {
  const result = await runConfig(`${config('m.tflite')}description: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
  expectBoundedRefusal(result, /nested 100001 levels deep, over the limit of 64/);
});

it('a YAML alias bomb', async () => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)];
  const result = await runConfig(`${config('m.tflite')}description:\n  ${levels.join('\n  ')}\n`);
  expectBoundedRefusal(result, /YAML aliases \(\*name\) expand to too much data/);
});
