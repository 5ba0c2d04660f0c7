/**
 * The report over a store someone else wrote: a shared SQLite file edited by hand, or runs
 * imported from strangers. Every stored byte is untrusted when it becomes a path to read, a file
 * name to write or a page (issue 12, cases 3, 4, 5, 7 and 9).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import sqlite3 from 'sqlite3';
import { openSqliteStore, type Prediction, type TrackingStore } from '@mlbench/tracking';
import { encodeInts, packVectors } from '@mlbench/tracking/src/store/packed-columns';
import { generateReport, outputFile, runPagePath } from './generate';
import { ThumbnailWriter, THUMBNAIL_SIZE } from './images';
import { fakeRunData, recordRun } from './testing/fixtures';

let dir: string;
let dbFile: string;
let store: TrackingStore;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-hostile-'));
  dbFile = path.join(dir, 'runs.sqlite');
  store = await openSqliteStore(dbFile);
});
afterEach(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** Edits the database as anyone with the file could: plain SQL, no store checks, no foreign keys. */
/** The images of run `?`'s split (the store keeps each image list once, shared by its runs). */
const RUN_IMAGES = 'list_id = (SELECT s.list_id FROM runs r JOIN splits s ON s.id = r.split_id WHERE r.id = ?)';

async function editStore(statements: [string, (string | number | null)[]][]): Promise<void> {
  const raw = new sqlite3.Database(dbFile);
  try {
    for (const [sql, params] of statements) {
      await new Promise<void>((resolve, reject) => raw.run(sql, params, (error) => (error ? reject(error) : resolve())));
    }
  } finally {
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  }
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function writePng(file: string, colour: { r: number; g: number; b: number }): Promise<Buffer> {
  const bytes = await sharp({ create: { width: 20, height: 20, channels: 3, background: colour } }).png().toBuffer();
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, bytes);
  return bytes;
}

async function thumbnailFiles(out: string): Promise<string[]> {
  return (await fs.readdir(path.join(out, 'thumbs')).catch(() => [] as string[])).sort();
}

describe('thumbnails read only files inside the run\'s dataset root (case 3)', () => {
  let secret: Buffer;
  let secretFile: string;
  beforeEach(async () => {
    secretFile = path.join(dir, 'secret', 'private.png');
    secret = await writePng(secretFile, { r: 250, g: 10, b: 10 });
  });

  it('refuses "../" paths and links out of the root, even with the right hash', async () => {
    const data = path.join(dir, 'data');
    const run = await recordRun(store, fakeRunData({ seed: 3 }), data);
    const [first, second] = (await store.getSplit(run.id)).filter((m) => m.split === 'test');
    await fs.symlink(secretFile, path.join(data, 'amber', 'link.png'));
    await editStore([
      [`UPDATE dataset_images SET path = ?, sha256 = ? WHERE ${RUN_IMAGES} AND path = ?`, ['../secret/private.png', sha256(secret), run.id, first.path]],
      [`UPDATE dataset_images SET path = ?, sha256 = ? WHERE ${RUN_IMAGES} AND path = ?`, ['amber/link.png', sha256(secret), run.id, second.path]],
    ]);
    const writer = new ThumbnailWriter(path.join(dir, 'thumbs'));
    const index = await writer.ensure([
      { sha256: sha256(secret), root: data, path: '../secret/private.png' },
      { sha256: sha256(secret), root: data, path: 'amber/link.png' },
      { sha256: sha256(secret), root: data, path: secretFile },
      { sha256: sha256(secret), root: path.join(data, 'amber'), path: '..' },
    ]);
    expect(index.size).toBe(0);
    expect(writer.stats).toEqual({ created: 0, reused: 0, missing: 0, refused: 4 });
    expect(await thumbnailFiles(dir)).toEqual([]);

    const out = path.join(dir, 'report');
    const result = await generateReport({ store, outDir: out });
    expect(result.thumbnails.refused).toBeGreaterThanOrEqual(2);
    expect(result.thumbnails.created).toBeGreaterThan(0);
    expect((await thumbnailFiles(out)).filter((f) => f.startsWith(sha256(secret)))).toEqual([]);
  });

  it('a dataset root of "/" with system files as images shows nothing of them', async () => {
    const run = await recordRun(store, fakeRunData({ seed: 4 }), path.join(dir, 'data'));
    const members = (await store.getSplit(run.id)).filter((m) => m.split === 'test');
    await editStore([
      ['UPDATE dataset_inputs SET path = ? WHERE run_id = ?', ['/', run.id]],
      [`UPDATE dataset_images SET path = ? WHERE ${RUN_IMAGES} AND path = ?`, ['etc/passwd', run.id, members[0].path]],
      [`UPDATE dataset_images SET path = ? WHERE ${RUN_IMAGES} AND path = ?`, [path.relative('/', secretFile), run.id, members[1].path]],
    ]);
    const out = path.join(dir, 'report');
    const result = await generateReport({ store, outDir: out });
    // The recorded hashes are those of the run's own images: neither file matches, neither is shown.
    expect(result.thumbnails.created).toBe(0);
    expect(await thumbnailFiles(out)).toEqual([]);
    expect(result.skipped).toEqual([]);
  });
});

describe('thumbnails are verified against the recorded sha256 (case 4)', () => {
  it('an imported run cannot put its picture under a real image\'s hash, and the real page shows the real picture', async () => {
    const real = path.join(dir, 'real');
    const realBytes = await writePng(path.join(real, 'a.png'), { r: 0, g: 200, b: 0 });
    const fake = path.join(dir, 'fake');
    await writePng(path.join(fake, 'b.png'), { r: 200, g: 0, b: 200 });
    const writer = new ThumbnailWriter(path.join(dir, 'thumbs'));
    // The attacker's reference first: nothing may be written under the real hash.
    const attack = await writer.ensure([{ sha256: sha256(realBytes), root: fake, path: 'b.png' }]);
    expect(attack.size).toBe(0);
    expect(writer.stats.refused).toBe(1);
    expect(await thumbnailFiles(dir)).toEqual([]);

    // A thumbnail from before (an older report trusted claimed hashes) is not taken for a verified one.
    await fs.writeFile(path.join(dir, 'thumbs', `${sha256(realBytes)}.webp`), await sharp(path.join(fake, 'b.png')).webp().toBuffer());
    const genuine = await writer.ensure([{ sha256: sha256(realBytes), root: real, path: 'a.png' }]);
    const name = genuine.get(sha256(realBytes));
    expect(name).toBe(`${sha256(realBytes)}-${THUMBNAIL_SIZE}.webp`);
    const { data } = await sharp(path.join(dir, 'thumbs', name as string)).raw().toBuffer({ resolveWithObject: true });
    expect([data[0], data[1], data[2]].map((v) => Math.round(v / 20))).toEqual([0, 10, 0]);

    // Reused only for a reference that verifies now: the attacker's page still gets a placeholder.
    const again = await writer.ensure([{ sha256: sha256(realBytes), root: fake, path: 'b.png' }]);
    expect(again.size).toBe(0);
    const fresh = new ThumbnailWriter(path.join(dir, 'thumbs'));
    expect((await fresh.ensure([{ sha256: sha256(realBytes), root: fake, path: 'b.png' }])).size).toBe(0);
    expect((await fresh.ensure([{ sha256: sha256(realBytes), root: real, path: 'a.png' }])).size).toBe(1);
    expect(fresh.stats).toEqual({ created: 0, reused: 1, missing: 0, refused: 1 });
  });

  it('in a report: the run claiming another run\'s hashes shows placeholders, the real run its own images', async () => {
    const realRun = await recordRun(store, fakeRunData({ seed: 5, name: 'real' }), path.join(dir, 'real'));
    const attacker = await recordRun(store, fakeRunData({ seed: 5, name: 'attacker', classes: ['amber', 'cobalt', 'jade'] }), path.join(dir, 'attacker'));
    const realSplit = await store.getSplit(realRun.id);
    // Different pictures at the same paths (the attacker's folder is its own), the real run's hashes claimed.
    for (const m of await store.getSplit(attacker.id)) await writePng(path.join(dir, 'attacker', m.path), { r: 255, g: 0, b: 255 });
    await editStore(realSplit.map((m): [string, (string | number)[]] => [`UPDATE dataset_images SET sha256 = ? WHERE ${RUN_IMAGES} AND path = ?`, [m.sha256, attacker.id, m.path]]));
    const out = path.join(dir, 'report');
    await generateReport({ store, outDir: out });
    const attackerPage = await fs.readFile(path.join(out, runPagePath(attacker.id)), 'utf8');
    expect(attackerPage).not.toContain('<img ');
    const realPage = await fs.readFile(path.join(out, runPagePath(realRun.id)), 'utf8');
    const shown = [...realPage.matchAll(/src="\.\.\/thumbs\/([0-9a-f]{64})-\d+\.webp"/g)].map((m) => m[1]);
    expect(shown.length).toBeGreaterThan(0);
    for (const hash of shown) {
      const member = realSplit.find((m) => m.sha256 === hash);
      expect(member).toBeDefined();
      expect(sha256(await fs.readFile(path.join(dir, 'real', member!.path)))).toBe(hash);
    }
  });
});

describe('file names from stored ids stay inside --out (case 5)', () => {
  it('a run row id "../../../pwn_run" writes nothing outside the report folder; the run is named as skipped', async () => {
    const good = await recordRun(store, fakeRunData({ seed: 6, name: 'good' }), path.join(dir, 'data'));
    const bad = await recordRun(store, fakeRunData({ seed: 7, name: 'bad' }), path.join(dir, 'data'));
    await editStore([['UPDATE runs SET id = ? WHERE id = ?', ['../../../pwn_run', bad.id]]]);
    const out = path.join(dir, 'deep', 'er', 'report');
    const result = await generateReport({ store, outDir: out });
    expect(result.skipped).toEqual([{ kind: 'run', id: '../../../pwn_run', name: 'bad', reason: 'id "../../../pwn_run" is not 32 lowercase hex digits' }]);
    expect(result.runPages.written).toBe(1);
    const everything = await fs.readdir(dir, { recursive: true });
    expect(everything.filter((f) => f.includes('pwn_run'))).toEqual([]);
    const index = await fs.readFile(path.join(out, 'index.html'), 'utf8');
    expect(index).toContain('id="skipped-entries"');
    expect(index).toContain(runPagePath(good.id));
    expect(() => runPagePath('../../../pwn_run')).toThrow(/not 32 lowercase hex digits/);
  });

  it('outputFile refuses paths that leave the folder', () => {
    const out = path.join(dir, 'report');
    expect(outputFile(out, 'runs/abc.html')).toBe(path.join(out, 'runs', 'abc.html'));
    expect(() => outputFile(out, '../x.html')).toThrow(/outside the report folder/);
    expect(() => outputFile(out, '/etc/x.html')).toThrow(/outside the report folder/);
    expect(() => outputFile(out, 'runs/../../x.html')).toThrow(/outside the report folder/);
  });
});

describe('one malformed run is skipped, the rest of the report is written (case 7)', () => {
  it('trueLabel -1 and a prediction with 200k probabilities: each run named and skipped', async () => {
    const data = path.join(dir, 'data');
    const good = await recordRun(store, fakeRunData({ seed: 8, name: 'good' }), data);
    const negative = await recordRun(store, fakeRunData({ seed: 9, name: 'negative-label' }), data);
    const wide = await recordRun(store, fakeRunData({ seed: 10, name: 'wide-probabilities' }), data);
    // A run's predictions are one packed row (see the tracking store's packed-columns.ts).
    const negativeRows = await store.getPredictions(negative.id);
    const wideRows = await store.getPredictions(wide.id);
    const firstTest = (rows: Prediction[]) => rows.findIndex((p) => p.split === 'test');
    const labels = negativeRows.map((p, k) => (k === firstTest(negativeRows) ? -1 : p.trueLabel));
    const vectors = packVectors(wideRows.map((p, k) => (k === firstTest(wideRows) ? new Array<number>(200_000).fill(0) : p.probabilities)));
    await editStore([
      ['UPDATE run_predictions SET true_labels = ? WHERE run_id = ?', [encodeInts(labels, 'label'), negative.id]],
      [
        'UPDATE run_predictions SET prob_stride = ?, prob_counts = ?, probabilities = ? WHERE run_id = ?',
        [vectors.stride, vectors.counts, vectors.data as unknown as string, wide.id],
      ],
    ]);
    const out = path.join(dir, 'report');
    const result = await generateReport({ store, outDir: out });
    expect(result.skipped.map((s) => [s.name, s.reason])).toEqual(
      expect.arrayContaining([
        ['negative-label', expect.stringMatching(/trueLabel -1 \(the run has 3 classes\)/)],
        ['wide-probabilities', expect.stringMatching(/has 200000 probabilities \(the run has 3 classes\)/)],
      ]),
    );
    expect(result.runPages.written).toBe(1);
    await fs.access(path.join(out, runPagePath(good.id)));
    const index = await fs.readFile(path.join(out, 'index.html'), 'utf8');
    expect(index).toContain('negative-label');
    expect(index).not.toContain(`href="${runPagePath(negative.id)}"`);
  });
});

/** The report CLI as a user runs it: `node --import tsx apps/report/src/main.ts ...`. */
async function reportCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, 'main.ts'), ...args], { cwd: path.resolve(__dirname, '../../..') }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('the report CLI: databases it must not create, refusals, terminal output (cases 12, 13, 15)', () => {
  jest.setTimeout(60_000);

  it('a mistyped --db is refused with exit 2 and no empty database is created', async () => {
    const missing = path.join(dir, 'typo', 'runz.sqlite');
    const result = await reportCli('--db', missing, '--out', path.join(dir, 'report'));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`report: no database at ${missing}; check --db (a database is created by the first run recorded into it)\n`);
    await expect(fs.access(path.join(dir, 'typo'))).rejects.toThrow();
  });

  it('a SQLite file of another application is refused with exit 2, the same code as the runner', async () => {
    const foreign = path.join(dir, 'foreign.sqlite');
    const raw = new sqlite3.Database(foreign);
    await new Promise<void>((resolve, reject) => raw.run('CREATE TABLE other (x)', (error) => (error ? reject(error) : resolve())));
    await new Promise<void>((resolve) => raw.close(() => resolve()));
    const result = await reportCli('--db', foreign, '--out', path.join(dir, 'report'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/foreign\.sqlite is a SQLite database of another application/);
  });

  it('warnings about skipped runs print stored names with escape sequences as text', async () => {
    const bad = await recordRun(store, fakeRunData({ seed: 11, name: 'bad' }), null);
    await editStore([['UPDATE runs SET id = ?, name = ? WHERE id = ?', ['../\u001b[2J', 'evil\u001b]0;pwned\u0007', bad.id]]]);
    await store.close();
    const result = await reportCli('--db', dbFile, '--out', path.join(dir, 'report'));
    store = await openSqliteStore(dbFile);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
    expect(result.stderr).toContain('(evil\\x1b]0;pwned\\x07) skipped: id "../\\u001b[2J" is not 32 lowercase hex digits');
  });

  it('a database on a read-only disk is reported (needs root to mount a tmpfs; skipped otherwise)', async () => {
    const { execFileSync } = await import('node:child_process');
    const disk = path.join(dir, 'archive');
    await fs.mkdir(disk);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk], { stdio: 'ignore' });
    } catch {
      return; // no mount permission here: nothing to test
    }
    try {
      const db = path.join(disk, 'runs.sqlite');
      const archived = await openSqliteStore(db);
      const run = await recordRun(archived, fakeRunData({ seed: 12, name: 'archived' }), path.join(dir, 'data'));
      await archived.close();
      execFileSync('mount', ['-o', 'remount,ro', disk]);
      const result = await reportCli('--db', db, '--out', path.join(dir, 'report'));
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      await fs.access(path.join(dir, 'report', runPagePath(run.id)));
    } finally {
      execFileSync('umount', [disk]);
    }
  });
});
