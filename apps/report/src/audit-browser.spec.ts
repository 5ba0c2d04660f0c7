/**
 * End to end for the "Suspected label issues" page: a real audited run (synthetic images with
 * three moved into the wrong class folder, the small real MobileNetV1) -> report -> headless
 * Chromium over file:// URLs. Screenshot: results/screenshots/audit-page.png.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { writeSyntheticDataset } from '@mlbench/data';
import { parseConfig, runExperiment } from '@mlbench/experiment';
import { openSqliteStore } from '@mlbench/tracking';
import { AUDIT_ISSUE_LIMIT, AUDIT_UNSURE_LIMIT, auditPagePath } from './audit-page';
import { generateReport, runPagePath } from './generate';
import { tinyConfig } from '@mlbench/experiment/src/testing';

jest.setTimeout(240_000);

const REPO_ROOT = path.resolve(__dirname, '../../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MODEL = path.resolve(REPO_ROOT, '../shared/models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');

let dir: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-audit-'));
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 12, seed: 'audit' });
  for (const [from, to, name] of [['amber', 'cobalt', 'img_001.jpg'], ['amber', 'jade', 'img_005.jpg'], ['jade', 'amber', 'img_007.jpg']]) {
    await fs.rename(path.join(dir, 'data', from, name), path.join(dir, 'data', to, `moved_${from}_${name}`));
  }
  browser = await chromium.launch({ executablePath: CHROMIUM });
});

afterAll(async () => {
  await browser?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

it('shows the audited run\'s label issues as thumbnails, linked from its run page, without console errors', async () => {
  const yaml = tinyConfig({
    name: 'report-audit', seed: 4, split: [0.5, 0.25, 0.25], source: MODEL, engine: 'tfjs',
    train: { learningRate: 0.05, epochs: 10, batchSize: 8 }, extra: 'audit: { enabled: true, folds: 3 }\n',
  });
  const dbPath = path.join(dir, 'runs.sqlite');
  const { run } = await runExperiment(parseConfig(yaml, path.join(dir, 'audit.yaml')), { dbPath, cacheDir: path.join(dir, 'cache'), cwd: REPO_ROOT });
  const out = path.join(dir, 'report');
  const store = await openSqliteStore(dbPath);
  let issues: number;
  let unsure: number;
  try {
    const audit = await store.getAuditResults(run.id);
    issues = audit.filter((a) => a.flag === 'label_issue').length;
    unsure = audit.filter((a) => a.flag === 'no_confident_class').length;
    await generateReport({ store, outDir: out });
  } finally {
    await store.close();
  }
  expect(issues).toBeGreaterThanOrEqual(3);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));

  await page.goto(pathToFileURL(path.join(out, runPagePath(run.id))).href, { waitUntil: 'load' });
  await page.click('#audit-link');
  await page.waitForLoadState('load');
  expect(page.url()).toBe(pathToFileURL(path.join(out, auditPagePath(run.id))).href);

  expect(await page.locator('#label-issues figure.tile img').count()).toBe(Math.min(issues, AUDIT_ISSUE_LIMIT));
  expect(await page.locator('#no-confident-class figure.tile img').count()).toBe(Math.min(unsure, AUDIT_UNSURE_LIMIT));
  expect(await page.evaluate('Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)')).toBe(true);
  const first = await page.locator('#label-issues figcaption').first().innerText();
  expect(first).toMatch(/^#1 given: \w+ \(\d+%\)\nsuggested: \w+ \(\d+%\)\nscore [\d.-]+ · (train|val|test)$/);
  // The pair matrix counts every label issue once.
  const cells = await page.locator('#audit-matrix g.cell:not(.diagonal) text').allTextContents();
  expect(cells.map(Number).reduce((a, b) => a + b, 0)).toBe(issues);
  await fs.mkdir(path.join(REPO_ROOT, 'results/screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(REPO_ROOT, 'results/screenshots/audit-page.png'), fullPage: true });
  expect(errors).toEqual([]);
  await page.close();
});
