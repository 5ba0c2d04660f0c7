/**
 * 1,000 classes (issue 12, case 9): the confusion heatmap grows with the square of the class
 * count; before the bounded view the run page was 214 MB and the report process took 1.3 GB.
 * The report runs in a child process with a 256 MB heap, so a regression fails the test instead
 * of taking the machine down.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { openSqliteStore, type AuditResult } from '@mlbench/tracking';
import { auditPagePath } from './audit-page';
import { FULL_MATRIX_CLASS_LIMIT, selectClasses, topConfusions } from './confusion-view';
import { comparePagePath, runPagePath } from './generate';
import { fakeRunData, recordRun } from './testing/fixtures';

jest.setTimeout(120_000);

const CLASSES = 1000;
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-large-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

it('a 1,000-class run, its audit and a comparison: bounded pages, the limit stated, under a 256 MB heap', async () => {
  const db = path.join(dir, 'runs.sqlite');
  const classes = Array.from({ length: CLASSES }, (_, i) => `class_${String(i).padStart(4, '0')}`);
  const store = await openSqliteStore(db);
  const ids: string[] = [];
  try {
    for (const seed of [1, 2]) {
      const data = fakeRunData({ classes, seed, perSplit: { train: 1, val: 1, test: 2 }, wrongEvery: seed + 1 });
      const run = await recordRun(store, data, null);
      ids.push(run.id);
    }
    // An audited run: out-of-fold probabilities over all 1,000 classes.
    const data = fakeRunData({ classes, seed: 3, perSplit: { train: 1, val: 1, test: 2 } });
    const audit: AuditResult[] = data.split.slice(0, 400).map((m, i) => ({
      path: m.path,
      givenLabel: m.label,
      suggestedLabel: (m.label + 1 + (i % 3)) % CLASSES,
      selfConfidence: 0.1,
      score: 0.5 - i / 1000,
      rank: i + 1,
      flag: 'label_issue',
      fold: i % 5,
      probabilities: classes.map((_, c) => (c === (m.label + 1 + (i % 3)) % CLASSES ? 0.6 : 0.4 / (CLASSES - 1))),
    }));
    const created = await store.createRun({ name: 'audited', seed: 3, configHash: 'cd'.repeat(32), configText: 'name: audited\n', resolvedConfig: {}, environment: {} });
    await store.completeRun(created.id, { params: [], metrics: [], dataset: data.dataset!, extractor: {}, split: [...data.split], predictions: [...data.predictions], audit });
    ids.push(created.id);
  } finally {
    await store.close();
  }

  const out = path.join(dir, 'report');
  const script = path.join(__dirname, 'testing/generate-process.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', script, db, out, ids[0], ids[1]], {
    cwd: path.resolve(__dirname, '../../..'),
    maxBuffer: 1 << 20,
  });
  const result = JSON.parse(stdout) as { skipped: unknown[]; maxRssBytes: number; runPages: { written: number } };
  expect(result.skipped).toEqual([]);
  expect(result.runPages.written).toBe(3);
  // Measured: 214 MB run page and 1.26 GB peak before; about 0.45 MB and 0.3 GB (most of it Node, tsx and sharp) after.
  expect(result.maxRssBytes).toBeLessThan(700 * 1024 * 1024);
  for (const file of [runPagePath(ids[0]), auditPagePath(ids[2]), comparePagePath([ids[0], ids[1]])]) {
    const size = (await fs.stat(path.join(out, file))).size;
    expect({ file, under2MB: size < 2 * 1024 * 1024 }).toEqual({ file, under2MB: true });
  }
  const page = await fs.readFile(path.join(out, runPagePath(ids[0])), 'utf8');
  expect(page).toContain(`the ${FULL_MATRIX_CLASS_LIMIT} most confused of ${CLASSES} classes (matrices are drawn in full up to ${FULL_MATRIX_CLASS_LIMIT} classes)`);
  expect(page).toContain('id="top-confusions"');
  expect(page.match(/<g class="cell/g)).toHaveLength(FULL_MATRIX_CLASS_LIMIT * FULL_MATRIX_CLASS_LIMIT);
  // The per-class table still lists every class.
  expect(page.match(/<tr><td>class_\d{4}<\/td><td class="num">/g)).toHaveLength(CLASSES);
  const auditPage = await fs.readFile(path.join(out, auditPagePath(ids[2])), 'utf8');
  expect(auditPage.match(/<g class="cell/g)).toHaveLength(FULL_MATRIX_CLASS_LIMIT * FULL_MATRIX_CLASS_LIMIT);
});

it('selectClasses keeps the most confused classes; topConfusions the largest off-diagonal cells', () => {
  const n = 40;
  const matrix: number[][] = Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => (r === c ? 100 : 0)));
  matrix[5][7] = 9;
  matrix[30][2] = 4;
  matrix[39][39] = 1000;
  const selection = selectClasses(matrix, 3);
  expect(selection).toEqual({ indices: [2, 5, 7], total: 40, truncated: true });
  expect(topConfusions(matrix, 5)).toEqual([
    { actual: 5, predicted: 7, count: 9 },
    { actual: 30, predicted: 2, count: 4 },
  ]);
  expect(selectClasses(matrix.slice(0, 3).map((row) => row.slice(0, 3)))).toEqual({ indices: [0, 1, 2], total: 3, truncated: false });
});
