/**
 * End to end: a tiny synthetic study (2 arms x 2 seeds: the small real MobileNetV1 frozen, and a
 * small CNN from scratch on pixels) run by `runConfigFile` on a study file -> report -> the study
 * page in headless Chromium. With STUDY_README_DB=<runs.sqlite> it also renders the newest study of
 * that store into docs/screenshots/study-page.png (the README picture of the real study).
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeSyntheticDataset } from '@mlbench/data';
import { runConfigFile, type StudyResult } from '@mlbench/experiment';
import { withStore } from '@mlbench/tracking/src/testing';
import { generateReport, runPagePath, studyPagePath } from './generate';
import { readmeReport, saveReadmeScreenshot } from './testing/readme-screenshot';

jest.setTimeout(300_000);

const REPO_ROOT = path.resolve(__dirname, '../../..');
const SCREENSHOTS = path.join(REPO_ROOT, 'results/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MODEL = path.resolve(REPO_ROOT, '../shared/models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');

const common = `
dataset:
  path: data
  split: { train: 0.6, val: 0.2, test: 0.2 }
train:
  learningRate: 0.01
  epochs: 3
  batchSize: 8
sweep:
  seed: [7, 8]
`;
const frozenArm = `name: study-e2e-frozen
seed: 7
preprocess:
  size: [160, 160]
model:
  extractor:
    source: ${MODEL}
    engine: tfjs
    batchSize: 8
${common}`;
const cnnArm = `name: study-e2e-cnn
seed: 7
preprocess:
  size: [16, 16]
  scaling: zero_to_one
model:
  extractor: none
  head:
    type: cnn
    blocks: [{ filters: 4 }, { filters: 8 }]
    dense: 8
    dropout: 0.1
${common}`;
const studyFile = `study:
  name: study-e2e
  question: Does a frozen extractor beat a small CNN on three synthetic colours?
  description: A synthetic check of the study page.
  arms:
    - { label: Frozen MobileNetV1 0.5/160, config: frozen.yaml }
    - { label: Small CNN from scratch, config: cnn.yaml }
`;

let dir: string;
let browser: Browser;
let result: StudyResult;
let out: string;

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url())) errors.push(`network request: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'study-e2e-'));
  out = path.join(dir, 'report');
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'roses', 'tulips'], imagesPerClass: 10, seed: 'study' });
  await fs.writeFile(path.join(dir, 'frozen.yaml'), frozenArm);
  await fs.writeFile(path.join(dir, 'cnn.yaml'), cnnArm);
  await fs.writeFile(path.join(dir, 'study.yaml'), studyFile);
  const dbPath = path.join(dir, 'runs.sqlite');
  const outcome = await runConfigFile(path.join(dir, 'study.yaml'), { dbPath, cacheDir: path.join(dir, 'cache'), cwd: REPO_ROOT });
  if (outcome.kind !== 'study') throw new Error(`expected a study, got ${outcome.kind}`);
  result = outcome.result;
  await withStore(dbPath, (store) => generateReport({ store, outDir: out }));
  await fs.mkdir(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('study page in headless Chromium', () => {
  it('records the study with its two arms, each a completed sweep of two seeds', async () => {
    expect(result.study.status).toBe('completed');
    expect(result.arms.map((a) => a.label)).toEqual(['Frozen MobileNetV1 0.5/160', 'Small CNN from scratch']);
    for (const arm of result.arms) expect(arm.result?.outcomes.map((o) => o.status)).toEqual(['completed', 'completed']);
    await withStore(path.join(dir, 'runs.sqlite'), async (store) => {
      expect((await store.getStudyArms(result.study.id)).map((a) => [a.position, a.label, a.sweepId])).toEqual(result.arms.map((a, i) => [i, a.label, a.sweepId]));
    });
  });

  it('shows the question, one row per arm, per-seed significance cells, the confusion call-out and photos, with no console errors', async () => {
    const { page, errors } = await open(pathToFileURL(path.join(out, studyPagePath(result.study.id))).href);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'study.png'), fullPage: true });
    await expect(page.locator('#study-question').textContent()).resolves.toContain('Does a frozen extractor beat a small CNN');
    expect(await page.locator('#study-arms tbody tr').count()).toBe(2);
    // Both arms' accuracy cells hold "mean ± std", and each links its two runs.
    for (const cell of await page.locator('#study-arms td.accuracy').allTextContents()) expect(cell).toMatch(/^\d+\.\d\d% ± \d+\.\d\d$/);
    expect(await page.locator('#study-arms tr[data-arm="1"] .run-links a').count()).toBe(2);
    const cnnRow = page.locator('#study-arms tr[data-arm="2"]');
    await expect(cnnRow.locator('td.params').textContent()).resolves.toBe((27 * 4 + 4 + (36 * 8 + 8) + (4 * 4 * 8 * 8 + 8) + (8 * 4 + 4)).toLocaleString('en-US'));
    // One row (arm 2 against arm 1), one cell per seed, each a difference with its McNemar p.
    expect(await page.locator('#study-significance tbody tr').count()).toBe(1);
    const cells = await page.locator('#study-significance .sig-cell').allTextContents();
    expect(cells).toHaveLength(2);
    for (const cell of cells) expect(cell).toMatch(/^[+−]\d+\.\d pp\s*p [=<] ?\d/);
    await expect(page.locator('#significance-method').textContent()).resolves.toContain('McNemar');
    await expect(page.locator('#rose-tulip').textContent()).resolves.toMatch(/\d+ of \d+ test roses/);
    expect(await page.locator('#test-grid img').count()).toBeGreaterThan(0);
    expect(await page.locator('#cost-chart g.cost-point').count()).toBe(2);
    const firstRunLink = page.locator('#study-arms tr[data-arm="1"] .run-links a').first();
    expect(await firstRunLink.getAttribute('href')).toBe(`../${runPagePath(result.arms[0].result?.outcomes[0].runId ?? '')}`);
    expect(errors).toEqual([]);
    const index = await open(pathToFileURL(path.join(out, 'index.html')).href);
    expect(await index.page.locator(`#study-list tr[data-study-id="${result.study.id}"] a`).first().getAttribute('href')).toBe(studyPagePath(result.study.id));
    expect(index.errors).toEqual([]);
  });

  const readmeDb = process.env.STUDY_README_DB;
  (readmeDb ? it : it.skip)('renders docs/screenshots/study-page.png from the newest study of STUDY_README_DB', async () => {
    const readmeOut = path.join(dir, 'readme-report');
    const studyId = await readmeReport(readmeDb as string, readmeOut, async (store) => (await store.searchStudies({ limit: 1 }))[0].id);
    const { page, errors } = await open(pathToFileURL(path.join(readmeOut, studyPagePath(studyId))).href);
    expect(errors).toEqual([]);
    const png = await page.screenshot({ fullPage: true });
    await saveReadmeScreenshot(png, 'study-page.png');
  });
});
