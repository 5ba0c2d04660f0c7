import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from './write-file-atomic';

/** Runs `fn` in a fresh temporary folder, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'common-atomic-'));
  try {
    await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe('writeFileAtomic', () => {
  it('creates missing folders, writes text and bytes, and leaves no temp file', () => inTempDir(async (dir) => {
    const file = path.join(dir, 'a', 'b', 'out.json');
    await writeFileAtomic(file, '{"x":1}');
    expect(await fs.readFile(file, 'utf8')).toBe('{"x":1}');
    await writeFileAtomic(file, Uint8Array.of(1, 2, 3));
    expect([...(await fs.readFile(file))]).toEqual([1, 2, 3]);
    expect(await fs.readdir(path.dirname(file))).toEqual(['out.json']);
  }));

  it('removes its temp file and keeps the old content when the rename fails', () => inTempDir(async (dir) => {
    const target = path.join(dir, 'taken');
    await fs.mkdir(path.join(target, 'child'), { recursive: true });
    await expect(writeFileAtomic(target, 'new')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(await fs.readdir(dir)).toEqual(['taken']);
  }));
});
