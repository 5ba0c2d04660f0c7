import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileBoundsError, readFileBounded } from './read-file-bounded';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bounded-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

it('reads a regular file within the limit, through a link too', async () => {
  await fs.writeFile(path.join(dir, 'a.bin'), Buffer.from([1, 2, 3]));
  await fs.symlink('a.bin', path.join(dir, 'link.bin'));
  expect([...(await readFileBounded(path.join(dir, 'link.bin'), 3))]).toEqual([1, 2, 3]);
});

it.each<[string, () => Promise<string>, RegExp, FileBoundsError['reason']]>([
  ['a link to /dev/zero', async () => { await fs.symlink('/dev/zero', path.join(dir, 'zero')); return path.join(dir, 'zero'); }, /zero is a character device \(such as \/dev\/zero\), not a regular file/, 'not-a-file'],
  ['a named pipe (without blocking)', async () => { execFileSync('mkfifo', [path.join(dir, 'fifo')]); return path.join(dir, 'fifo'); }, /fifo is a named pipe/, 'not-a-file'],
  ['a folder', async () => dir, /is a folder, not a regular file/, 'not-a-file'],
  ['a file over the limit', async () => { await fs.writeFile(path.join(dir, 'big'), Buffer.alloc(11)); return path.join(dir, 'big'); }, /big is 11 bytes, over the test limit of 10 bytes/, 'too-large'],
])('refuses %s', async (_label, make, message, reason) => {
  const err = await readFileBounded(await make(), 10, 'the test limit').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FileBoundsError);
  expect((err as FileBoundsError).reason).toBe(reason);
  expect((err as Error).message).toMatch(message);
});

it('passes other errors through (ENOENT)', async () => {
  await expect(readFileBounded(path.join(dir, 'missing'), 10)).rejects.toMatchObject({ code: 'ENOENT' });
});
