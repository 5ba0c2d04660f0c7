/** Hostile dataset folders: names that break plain-object maps, links out of the root, look-alike class names. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatasetError } from './errors';
import { scanDataset } from './scan';
import { writeSyntheticDataset } from './synthetic';

let base: string;
let root: string;

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'scan-hostile-'));
  root = path.join(base, 'dataset');
  await writeSyntheticDataset(root, { classes: ['a', 'b'], imagesPerClass: 3, seed: 'h' });
  // Images elsewhere on the disk, beside the dataset.
  await writeSyntheticDataset(path.join(base, 'private'), { classes: ['secret'], imagesPerClass: 4, seed: 'p' });
});
afterEach(() => fs.rm(base, { recursive: true, force: true }));

it('counts a class folder named __proto__ (or constructor) like any other', async () => {
  const odd = path.join(base, 'odd');
  await writeSyntheticDataset(odd, { classes: ['__proto__', 'constructor'], imagesPerClass: 2, seed: 'o' });
  const scan = await scanDataset(odd);
  expect(scan.classes).toEqual(['__proto__', 'constructor']);
  expect(scan.images).toHaveLength(4);
  expect(Object.entries(scan.classCounts)).toEqual([['__proto__', 2], ['constructor', 2]]);
});

describe('symbolic links are confined to the dataset root by default', () => {
  it('reports a folder link that leads out of the root instead of reading it', async () => {
    await fs.symlink(path.join('..', '..'), path.join(root, 'b', 'up')); // the issue's `b/up -> ../..`
    await fs.symlink(path.join(base, 'private', 'secret'), path.join(root, 'a', 'elsewhere'));
    const scan = await scanDataset(root);
    expect(scan.images.map((i) => i.relPath).every((p) => /^[ab]\/img_\d{3}\.jpg$/.test(p))).toBe(true);
    expect(scan.images).toHaveLength(6);
    expect(scan.unreadable.map((u) => [u.relPath, u.reason.replace(/\(.*\)/, '(...)')])).toEqual([
      ['a/elsewhere', 'symbolic link to a folder outside the dataset root (...); set dataset.followLinksOutside: true to use it'],
      ['b/up', 'symbolic link to a folder outside the dataset root (...); set dataset.followLinksOutside: true to use it'],
    ]);
  });

  it('reports an image link that leads out of the root; links inside the root still work', async () => {
    await fs.symlink(path.join(base, 'private', 'secret', 'img_000.jpg'), path.join(root, 'a', 'stolen.jpg'));
    await fs.symlink(path.join('..', 'b', 'img_000.jpg'), path.join(root, 'a', 'inside.jpg'));
    const scan = await scanDataset(root);
    expect(scan.images.map((i) => i.relPath)).toContain('a/inside.jpg');
    expect(scan.images.map((i) => i.relPath)).not.toContain('a/stolen.jpg');
    expect(scan.unreadable).toEqual([expect.objectContaining({ relPath: 'a/stolen.jpg', sha256: null, reason: expect.stringMatching(/^symbolic link to a file outside the dataset root/) })]);
  });

  it('refuses a class folder that links out of the root', async () => {
    await fs.symlink(path.join(base, 'private', 'secret'), path.join(root, 'c'));
    const err = await scanDataset(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/class folder .*\/c is a symbolic link to .*private\/secret, outside the dataset root .*dataset\.followLinksOutside: true/);
  });

  it('follows links outside when followLinksOutside is set', async () => {
    await writeSyntheticDataset(path.join(base, 'more'), { classes: ['c'], imagesPerClass: 4, seed: 'm' });
    await fs.symlink(path.join(base, 'private', 'secret'), path.join(root, 'a', 'elsewhere'));
    await fs.symlink(path.join(base, 'more', 'c'), path.join(root, 'c'));
    const scan = await scanDataset(root, { followLinksOutside: true });
    expect(scan.classes).toEqual(['a', 'b', 'c']);
    expect(scan.classCounts).toEqual({ a: 7, b: 3, c: 4 });
    expect(scan.unreadable).toEqual([]);
  });
});

it('refuses class folders whose names differ only in Unicode normalisation, naming both', async () => {
  const nfc = 'caf\u00e9';
  const nfd = 'cafe\u0301';
  const twins = path.join(base, 'twins');
  await writeSyntheticDataset(twins, { classes: [nfc, nfd, 'tea'], imagesPerClass: 2, seed: 't' });
  const err = await scanDataset(twins).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DatasetError);
  expect((err as Error).message).toContain(`"${nfd}" (U+0063 U+0061 U+0066 U+0065 U+0301) and "${nfc}" (U+0063 U+0061 U+0066 U+00E9)`);
  expect((err as Error).message).toMatch(/different Unicode normalisations \(NFC and NFD\)/);
});
