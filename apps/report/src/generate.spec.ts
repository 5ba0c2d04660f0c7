import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AmbiguousRunIdError, RunNotFoundError, openSqliteStore, type TrackingStore } from '@mlbench/tracking';
import { CompareArgumentsError } from './errors';
import { comparePagePath, generateReport, resolveRunIds, runPagePath } from './generate';
import { fakeRunData, recordRun } from './testing/fixtures';

let dir: string;
let store: TrackingStore;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-generate-'));
  store = await openSqliteStore(path.join(dir, 'runs.sqlite'));
});
afterEach(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function listFiles(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const visit = async (d: string): Promise<void> => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await visit(full);
      else out.set(path.relative(root, full), (await fs.stat(full)).mtimeMs);
    }
  };
  await visit(root);
  return out;
}

describe('generateReport', () => {
  it('writes index, run pages, a comparison and thumbnails; regenerating rewrites nothing', async () => {
    const data = path.join(dir, 'data');
    const a = await recordRun(store, fakeRunData({ seed: 1 }), data);
    const b = await recordRun(store, fakeRunData({ seed: 1, params: { 'train.learningRate': '0.01' } }), data);
    const out = path.join(dir, 'report');

    const first = await generateReport({ store, outDir: out, compare: [a.id.slice(0, 6), b.id] });
    expect(first.runPages).toEqual({ written: 2, unchanged: 0, upToDate: 0 });
    expect(first.thumbnails.created).toBeGreaterThan(0);
    expect(first.thumbnails.missing).toBe(0);
    expect(first.comparisonFile).toBe(path.join(out, comparePagePath([a.id, b.id])));
    const files = await listFiles(out);
    expect([...files.keys()].filter((f) => f.endsWith('.html')).sort()).toEqual([comparePagePath([a.id, b.id]), 'index.html', runPagePath(a.id), runPagePath(b.id)].sort());
    const index = await fs.readFile(path.join(out, 'index.html'), 'utf8');
    expect(index).toContain(`href="${comparePagePath([a.id, b.id])}"`);

    const second = await generateReport({ store, outDir: out });
    expect(second.runPages).toEqual({ written: 0, unchanged: 0, upToDate: 2 });
    expect(second.thumbnails).toEqual({ created: 0, reused: 0, missing: 0, refused: 0 });
    // Same files, none rewritten (mtimes unchanged), the comparison still linked.
    expect(await listFiles(out)).toEqual(files);
  });

  it('shows a run in progress as running and updates its page once it completes', async () => {
    const running = await recordRun(store, fakeRunData({ status: 'running', name: 'in-progress' }), null);
    const out = path.join(dir, 'report');
    await generateReport({ store, outDir: out });
    const page = await fs.readFile(path.join(out, runPagePath(running.id)), 'utf8');
    expect(page).toContain('id="run-status">running<');
    expect(await fs.readFile(path.join(out, 'index.html'), 'utf8')).toContain('<span class="badge running">running</span>');

    // The same running run regenerated: its page is rebuilt but identical, so not rewritten.
    expect((await generateReport({ store, outDir: out })).runPages).toEqual({ written: 0, unchanged: 1, upToDate: 0 });

    const full = fakeRunData();
    await store.completeRun(running.id, { params: [], metrics: [{ key: 'test.accuracy', value: 0.5, step: null }], dataset: full.dataset!, extractor: {}, split: [...full.split], predictions: [...full.predictions] });
    expect((await generateReport({ store, outDir: out })).runPages.written).toBe(1);
    expect(await fs.readFile(path.join(out, runPagePath(running.id)), 'utf8')).toContain('id="run-status">completed<');
  });

  it('shows placeholders when the original images are gone', async () => {
    const run = await recordRun(store, fakeRunData(), path.join(dir, 'gone'));
    await fs.rm(path.join(dir, 'gone'), { recursive: true });
    const out = path.join(dir, 'report');
    const result = await generateReport({ store, outDir: out });
    expect(result.thumbnails.created).toBe(0);
    expect(result.thumbnails.missing).toBeGreaterThan(0);
    const page = await fs.readFile(path.join(out, runPagePath(run.id)), 'utf8');
    expect(page).toContain('image not available');
    expect(page).not.toContain('<img ');
  });
});

describe('resolveRunIds', () => {
  const runs = [fakeRunData({ id: 'abc123' + '0'.repeat(26) }).run, fakeRunData({ id: 'abc456' + '0'.repeat(26) }).run];

  it('accepts full ids and unique prefixes, in the order given', () => {
    expect(resolveRunIds(['abc4', 'abc123' + '0'.repeat(26)], runs, 'x.sqlite').map((r) => r.id.slice(0, 6))).toEqual(['abc456', 'abc123']);
  });

  it('names an unknown id and says where to find ids', () => {
    expect(() => resolveRunIds(['abc1', 'feed'], runs, 'results/runs.sqlite')).toThrow(RunNotFoundError);
    expect(() => resolveRunIds(['abc1', 'feed'], runs, 'results/runs.sqlite')).toThrow(/run feed is not in results\/runs\.sqlite/);
  });

  it('rejects ambiguous prefixes, a single run and duplicates', () => {
    expect(() => resolveRunIds(['abc', 'abc1'], runs, 'x')).toThrow(RunNotFoundError);
    expect(() => resolveRunIds(['abc1', 'abc'.padEnd(4, '1')], runs, 'x')).toThrow(CompareArgumentsError);
    expect(() => resolveRunIds(['abc1'], runs, 'x')).toThrow(/at least two run ids/);
    const similar = [...runs, fakeRunData({ id: 'abc4567' + '0'.repeat(25) }).run];
    expect(() => resolveRunIds(['abc45', 'abc1'], similar, 'x')).toThrow(AmbiguousRunIdError);
  });
});
