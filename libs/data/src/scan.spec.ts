import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatasetError } from './errors';
import { scanDataset } from './scan';
import { writeSyntheticDataset } from './synthetic';

let root: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'scan-'));
  await writeSyntheticDataset(root, { classes: ['tulips', 'daisy'], imagesPerClass: 3, seed: 's' });
});
afterEach(() => fs.rm(root, { recursive: true, force: true }));

describe('scanDataset', () => {
  it('lists classes and images in code-point order, skipping hidden and non-image files', async () => {
    await fs.writeFile(path.join(root, 'daisy', '.DS_Store'), 'x');
    await fs.writeFile(path.join(root, 'daisy', 'notes.txt'), 'x');
    await fs.mkdir(path.join(root, '.cache'));
    await fs.writeFile(path.join(root, 'LICENSE.txt'), 'x');
    const scan = await scanDataset(root);
    expect(scan.classes).toEqual(['daisy', 'tulips']);
    expect(scan.images.map((i) => i.relPath)).toEqual([
      'daisy/img_000.jpg', 'daisy/img_001.jpg', 'daisy/img_002.jpg',
      'tulips/img_000.jpg', 'tulips/img_001.jpg', 'tulips/img_002.jpg',
    ]);
    expect(scan.images.map((i) => i.label)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(scan.classCounts).toEqual({ daisy: 3, tulips: 3 });
  });

  it('streams a file over the synchronous-read limit (16 MiB) with the same size and hash a read gives', async () => {
    const big = Buffer.alloc(16 * 1024 * 1024 + 7, 0x5a);
    await fs.writeFile(path.join(root, 'daisy', 'big.jpg'), big);
    const image = (await scanDataset(root)).images.find((i) => i.relPath === 'daisy/big.jpg');
    expect(image).toMatchObject({ sizeBytes: big.length, sha256: createHash('sha256').update(big).digest('hex') });
  });

  it('fingerprints content: stable on rescan, changed by one byte', async () => {
    const first = await scanDataset(root);
    expect((await scanDataset(root)).fingerprint).toBe(first.fingerprint);
    const victim = path.join(root, 'daisy', 'img_001.jpg');
    const bytes = await fs.readFile(victim);
    bytes[bytes.length - 3] ^= 0xff;
    await fs.writeFile(victim, bytes);
    expect((await scanDataset(root)).fingerprint).not.toBe(first.fingerprint);
  });

  it('fingerprints paths: a rename changes it', async () => {
    const first = await scanDataset(root);
    await fs.rename(path.join(root, 'daisy', 'img_001.jpg'), path.join(root, 'daisy', 'img_009.jpg'));
    expect((await scanDataset(root)).fingerprint).not.toBe(first.fingerprint);
  });

  it('names the folder when it is missing or has fewer than two classes', async () => {
    await expect(scanDataset(path.join(root, 'nope'))).rejects.toThrow(/nope does not exist/);
    await fs.rm(path.join(root, 'tulips'), { recursive: true });
    await expect(scanDataset(root)).rejects.toThrow(DatasetError);
    await expect(scanDataset(root)).rejects.toThrow(/at least two/);
  });
});
