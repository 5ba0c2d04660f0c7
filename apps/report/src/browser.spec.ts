/**
 * End to end: real runs (synthetic images, the small real MobileNetV1) -> report -> headless
 * Chromium over file:// URLs. Screenshots go to results/screenshots/ for people to look at.
 * With REPORT_README_DB=<runs.sqlite> it also renders the two newest runs of that store into
 * docs/screenshots/ (how the README pictures of the canonical flowers runs are made), and with
 * REPORT_README_SWEEP_DB=<runs.sqlite> the newest sweep page of that store.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeSyntheticDataset } from '@mlbench/data';
import { pairedComparison, significanceView } from './compare-page';
import { parseConfig, runConfigFile, runExperiment } from '@mlbench/experiment';
import { tinyConfig } from '@mlbench/experiment/src/testing';
import type { Run } from '@mlbench/tracking';
import { withStore } from '@mlbench/tracking/src/testing';
import { intervalText, percent } from './format';
import { comparePagePath, generateReport, runPagePath, sweepPagePath } from './generate';
import { XSS } from './testing/fixtures';
import { readmeReport, saveReadmeScreenshot } from './testing/readme-screenshot';

jest.setTimeout(240_000);

const REPO_ROOT = path.resolve(__dirname, '../../..');
const SHARED = path.resolve(REPO_ROOT, '../shared');
const SCREENSHOTS = path.join(REPO_ROOT, 'results/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MODEL = path.join(SHARED, 'models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');

const config = (seed: number, learningRate: number): string =>
  tinyConfig({ name: 'report-e2e', seed, split: [0.6, 0.2, 0.2], source: MODEL, engine: 'tfjs', extractorBatchSize: 8, train: { learningRate, epochs: 6, batchSize: 8 } });

interface PageProblems {
  consoleErrors: string[];
  failedRequests: string[];
  nonFileRequests: string[];
  dialogs: string[];
}

let dir: string;
let out: string;
let browser: Browser;
let runs: { a: Run; b: Run; c: Run; running: Run };
let sweepId: string;
/** The sentence the comparison page of A and B must show, from the recorded predictions. */
let expectedSignificance: string;
let finals: Map<string, Record<string, number>>;

async function open(url: string): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: PageProblems = { consoleErrors: [], failedRequests: [], nonFileRequests: [], dialogs: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') problems.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => problems.consoleErrors.push(e.message));
  page.on('requestfailed', (r) => problems.failedRequests.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url())) problems.nonFileRequests.push(r.url());
  });
  page.on('dialog', (d) => {
    problems.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}

const fileUrl = (relative: string): string => pathToFileURL(path.join(out, relative)).href;

function expectClean(problems: PageProblems): void {
  expect(problems).toEqual({ consoleErrors: [], failedRequests: [], nonFileRequests: [], dialogs: [] });
}

async function allImagesLoaded(page: Page): Promise<boolean> {
  return (await page.evaluate('Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)')) === true;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-e2e-'));
  out = path.join(dir, 'report');
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', XSS], imagesPerClass: 10, seed: 'report' });
  const dbPath = path.join(dir, 'runs.sqlite');
  const options = { dbPath, cacheDir: path.join(dir, 'cache'), cwd: REPO_ROOT };
  const run = async (seed: number, lr: number): Promise<Run> => (await runExperiment(parseConfig(config(seed, lr), path.join(dir, `exp-${seed}-${lr}.yaml`)), options)).run;
  const a = await run(7, 0.01);
  const b = await run(7, 0.001);
  const c = await run(8, 0.01);
  // A small sweep: 2 learning rates x 2 seeds, features from the cache.
  const sweepFile = path.join(dir, 'sweep.yaml');
  await fs.writeFile(sweepFile, `${config(1, 0.01).replace('name: report-e2e', 'name: report-sweep')}sweep:\n  train.learningRate: [0.01, 0.003]\n  seed: [1, 2]\n`);
  const swept = await runConfigFile(sweepFile, options);
  if (swept.kind !== 'sweep') throw new Error('expected a sweep');
  sweepId = swept.result.sweep.id;
  await withStore(dbPath, async (store) => {
    // A run still in progress: created, one epoch logged, not finished.
    const running = await store.createRun({ name: 'report-e2e', seed: 9, configHash: a.configHash, configText: a.configText, resolvedConfig: {}, environment: {} });
    await store.logBatch(running.id, { metrics: [{ key: 'train.loss', value: 1.1, step: 1 }] });
    runs = { a, b, c, running };
    finals = new Map();
    for (const r of [a, b, c]) finals.set(r.id, Object.fromEntries((await store.getMetrics(r.id)).filter((m) => m.step === null).map((m) => [m.key, m.value])));
    const paired = pairedComparison(await store.getPredictions(a.id), await store.getPredictions(b.id));
    if (!paired) throw new Error('runs a and b should share their test images');
    expectedSignificance = significanceView(paired, ['A', 'B']).sentence;
    await generateReport({ store, outDir: out, compare: [a.id, b.id] });
    await generateReport({ store, outDir: out, compare: [a.id, c.id] });
  });
  await fs.mkdir(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('report in headless Chromium', () => {
  it('index: every run, the running one as running, sortable, filterable, with comparison links', async () => {
    const { page, problems } = await open(fileUrl('index.html'));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'index.png'), fullPage: true });
    // 4 runs of the experiment and 4 of the sweep.
    expect(await page.locator('tr.run').count()).toBe(8);
    await expect(page.locator(`#sweep-list tr[data-sweep-id="${sweepId}"] a`).first().getAttribute('href')).resolves.toBe(sweepPagePath(sweepId));
    await expect(page.locator(`tr[data-run-id="${runs.running.id}"] .badge`).textContent()).resolves.toBe('running');
    const accuracyOfA = page.locator(`tr[data-run-id="${runs.a.id}"] td.accuracy`);
    expect((await accuracyOfA.textContent())?.trim()).toBe(percent(finals.get(runs.a.id)?.['test.accuracy']));

    // Sort by test accuracy, descending on the second click: missing values stay last.
    const header = page.locator('th[data-sort-key="accuracy"]');
    await header.click();
    await header.click();
    // Rows sort within their experiment group; the e2e group holds the running run.
    const sorted = (await page.locator('tbody[data-group="report-e2e"] tr.run td.accuracy').allTextContents()).map((t) => t.trim());
    const numbers = sorted.filter((t) => t !== '–').map((t) => Number(t.replace('%', '')));
    expect(numbers).toHaveLength(3);
    expect(numbers).toEqual([...numbers].sort((x, y) => y - x));
    expect(sorted[sorted.length - 1]).toBe('–');

    await page.locator('#filter').fill(runs.c.id.slice(0, 8));
    expect(await page.locator('tr.run:visible').count()).toBe(1);
    await page.locator('#filter').fill('');

    await page.locator(`input.pick[value="${runs.a.id}"]`).check();
    await page.locator(`input.pick[value="${runs.b.id}"]`).check();
    await expect(page.locator('#compare').textContent()).resolves.toBe('Open comparison');
    await page.locator(`input.pick[value="${runs.running.id}"]`).check();
    await expect(page.locator('#command-text').textContent()).resolves.toContain('npx nx run report -- --compare');
    expect(await page.locator('#comparison-list a').count()).toBe(2);
    expectClean(problems);
  });

  it('run page: accuracy, confusion matrix over the whole test set, thumbnails, XSS class name as text', async () => {
    const { page, problems } = await open(fileUrl(runPagePath(runs.a.id)));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'run.png'), fullPage: true });
    const final = finals.get(runs.a.id) ?? {};
    await expect(page.locator('#test-accuracy .value').textContent()).resolves.toBe(percent(final['test.accuracy']));
    const ci = intervalText(final['test.accuracy.ci_low'], final['test.accuracy.ci_high'], 'percent');
    expect(ci).toMatch(/^95% CI \d+\.\d\d–\d+\.\d\d%$/);
    await expect(page.locator('#test-accuracy .ci').textContent()).resolves.toBe(ci);
    await expect(page.locator('#test-macro-f1 .ci').textContent()).resolves.toBe(intervalText(final['test.macro_f1.ci_low'], final['test.macro_f1.ci_high'], 'fixed'));
    const counts = (await page.locator('#confusion g.cell text:first-of-type').allTextContents()).map(Number);
    expect(counts).toHaveLength(9);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(final['test.count']);
    expect(final['test.count']).toBe(6);

    // 6 test images (all of them, fewer than the grid size), 3 classes x 6 samples in the overview.
    expect(await page.locator('#test-grid img').count()).toBe(6);
    expect(await page.locator('#overview img').count()).toBe(18);
    const wrong = Math.round((1 - final['test.accuracy']) * final['test.count']);
    expect(await page.locator('#misclassified figure.tile').count()).toBe(wrong);
    expect(await allImagesLoaded(page)).toBe(true);

    // The class folder named like a tag shows as text and never becomes an element.
    expect(await page.getByText(XSS, { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expectClean(problems);
  });

  it('running run page says it is running', async () => {
    const { page, problems } = await open(fileUrl(runPagePath(runs.running.id)));
    await expect(page.locator('#run-status').textContent()).resolves.toBe('running');
    await expect(page.locator('#run-running').isVisible()).resolves.toBe(true);
    expectClean(problems);
  });

  it('comparison page: exactly the changed parameter, deltas, flipped images', async () => {
    const { page, problems } = await open(fileUrl(comparePagePath([runs.a.id, runs.b.id])));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'compare.png'), fullPage: true });
    expect(await page.locator('#differing-params tbody th').allTextContents()).toEqual(['train.learningRate']);
    expect((await page.locator('#differing-params tbody td').allTextContents()).map((t) => t.trim())).toEqual(['0.01', '0.001']);
    expect(await page.locator('#metric-table .delta').count()).toBeGreaterThan(0);
    expect(await page.locator('.confusion-diff g.cell').count()).toBe(9);
    expect(await page.locator('.metrics-only').count()).toBe(0);
    // Same split: the paired test, in words, with the numbers computed from the recorded predictions.
    await expect(page.locator('.significance[data-pair="B"] .sentence').textContent()).resolves.toBe(expectedSignificance);
    expect(expectedSignificance).toMatch(/McNemar p [=<] [\d.]+: (not )?significant at the 0\.05 level\.$/);
    expect(await page.locator('#difference-chart g.errorbar').count()).toBe(1);
    expect(await allImagesLoaded(page)).toBe(true);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expectClean(problems);
  });

  it('sweep page: every run, error bars per learning rate from the seed groups, the best configuration', async () => {
    const { page, problems } = await open(fileUrl(sweepPagePath(sweepId)));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'sweep.png'), fullPage: true });
    expect(await page.locator('#sweep-runs tbody tr').count()).toBe(4);
    expect(await page.locator('#sweep-runs thead th code').allTextContents()).toEqual(['train.learningRate', 'seed']);
    expect(await page.locator('#sweep-runs tbody tr.completed').count()).toBe(4);
    // One plot per swept key other than the seed (accuracy and macro-F1), a point per learning rate with its t-interval.
    const accuracyPlot = page.locator('figure.sweep-plot:not(.macro-f1)');
    expect(await accuracyPlot.count()).toBe(1);
    expect(await accuracyPlot.locator('g.errorbar').count()).toBe(2);
    expect(await accuracyPlot.locator('g.errorbar line.ci').count()).toBe(2);
    expect(await accuracyPlot.locator('g.errorbar circle.value').count()).toBe(4);
    await expect(page.locator('#best-config').textContent()).resolves.toMatch(/Best configuration: train\.learningRate = 0\.0(1|03): test accuracy [\d.]+% ± [\d.]+ pp \(mean ± std over 2 seeds\), 95% CI/);
    expect(await page.locator('#seed-groups tbody tr').count()).toBe(2);
    await page.locator('#sweep-runs tbody tr a').first().click();
    await expect(page.locator('#run-status').textContent()).resolves.toBe('completed');
    expectClean(problems);
  });

  it('comparison across different test splits: metrics only, and why', async () => {
    const { page, problems } = await open(fileUrl(comparePagePath([runs.a.id, runs.c.id])));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'compare-metrics-only.png'), fullPage: true });
    expect((await page.locator('#differing-params tbody th').allTextContents()).sort()).toEqual(['seed']);
    await expect(page.locator('.metrics-only').textContent()).resolves.toMatch(/different test splits/);
    expect(await page.locator('.confusion-diff').count()).toBe(0);
    expectClean(problems);
  });

  it('the CLI names an unknown run id and exits 2', async () => {
    const cli = promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, 'main.ts'), '--db', path.join(dir, 'runs.sqlite'), '--out', out, '--compare', runs.a.id, 'feedface'], { cwd: REPO_ROOT });
    await expect(cli).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/run feedface is not in .*runs\.sqlite; run ids are listed in the report index/) });
  });

  const readmeDb = process.env.REPORT_README_DB;
  (readmeDb ? it : it.skip)('renders the README screenshots from REPORT_README_DB', async () => {
    const readmeOut = path.join(dir, 'readme-report');
    const ids = await withStore(readmeDb as string, async (store) => {
      const [newest, previous] = await store.searchRuns({ status: 'completed', limit: 2 });
      const compared = [previous.id, newest.id];
      await generateReport({ store, outDir: readmeOut, compare: compared });
      return compared;
    });
    out = readmeOut;
    // The top of each page (the parts the README talks about).
    for (const [name, page, height] of [
      ['run-page.png', runPagePath(ids[0]), 2350],
      ['comparison-page.png', comparePagePath(ids), 2150],
    ] as const) {
      const { page: opened, problems } = await open(fileUrl(page));
      expectClean(problems);
      const png = await opened.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1280, height } });
      await saveReadmeScreenshot(png, name);
    }
  });

  const sweepDb = process.env.REPORT_README_SWEEP_DB;
  (sweepDb ? it : it.skip)('renders the README sweep screenshot from REPORT_README_SWEEP_DB', async () => {
    const sweepOut = path.join(dir, 'readme-sweep-report');
    const id = await readmeReport(sweepDb as string, sweepOut, async (store) => (await store.searchSweeps({ limit: 1 }))[0].id);
    out = sweepOut;
    const { page, problems } = await open(fileUrl(sweepPagePath(id)));
    expectClean(problems);
    // Down to the end of the runs table: best configuration, plots, seed groups, every run.
    const bottom = await page.evaluate('document.getElementById("runs").getBoundingClientRect().bottom + window.scrollY');
    const png = await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(Number(bottom)) + 16 } });
    await saveReadmeScreenshot(png, 'sweep-page.png');
  });
});
