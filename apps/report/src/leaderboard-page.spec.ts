import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';
import { metricsFromPredictions } from '@mlbench/experiment/results';
import { loadRunDetails, openTrackingStore, type Prediction, type Run, type SplitMember, type Study, type TrackingStore } from '@mlbench/tracking';
import { generateReport } from './generate';
import { buildLeaderboardPage, leaderboardPagePath, loadLeaderboardData } from './leaderboard-page';
import { buildComparePage } from './compare-page';
import { buildStudyPage, loadStudyData } from './study-page';
import { buildSweepPage, loadSweepData } from './sweep-page';
import { buildIndexPage } from './index-page';
import { loadCheckedRuns } from './checked-runs';
import { loadRunSummary } from './run-data';

/**
 * Leaderboards over a real store: a two-arm study (three seeds each, same splits) and a run on
 * another dataset version. The study page and the leaderboard must agree on every number.
 */
jest.setTimeout(120_000);

const classes = ['daisy', 'roses', 'tulips'];
const PER_CLASS_TEST = 10;
let dir: string;
let store: TrackingStore;
let study: Study;

/** One run: `wrong[c]` test images of class c predicted as the next class. */
async function record(o: { name: string; seed: number; learningRate: number; wrong: number[]; sweepId?: string; index?: number; fingerprint?: string; parameters: number; trainSeconds: number }): Promise<string> {
  const resolvedConfig = { name: o.name, seed: o.seed, dataset: { path: '/data/flowers', split: { train: 0.5, val: 0, test: 0.5 } }, train: { learningRate: o.learningRate } };
  const run = await store.createRun({ name: o.name, seed: o.seed, configHash: `h${o.learningRate}`, configText: `name: ${o.name}\n`, resolvedConfig, environment: {}, sweepId: o.sweepId, sweepIndex: o.index });
  const split: SplitMember[] = [];
  const predictions: Prediction[] = [];
  classes.forEach((name, label) => {
    for (let i = 0; i < PER_CLASS_TEST; i++) {
      const p = `${name}/s${o.seed}-${i}.jpg`;
      split.push({ path: p, sha256: `${label}${o.seed}${i}`.padEnd(64, '0'), label, split: 'test' });
      const predicted = i < o.wrong[label] ? (label + 1) % 3 : label;
      predictions.push({ path: p, split: 'test', trueLabel: label, predictedLabel: predicted, probabilities: classes.map((_, c) => (c === predicted ? 0.8 : 0.1)) });
    }
  });
  const metrics = { ...metricsFromPredictions(predictions, { seed: o.seed, classes, intervals: true }), 'head.parameters': o.parameters, 'time.train_seconds': o.trainSeconds, 'time.extraction_seconds': 0 };
  const counts = Object.fromEntries(classes.map((c) => [c, PER_CLASS_TEST]));
  await store.completeRun(run.id, {
    params: [],
    metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: null })),
    dataset: { path: '/data/flowers', fingerprint: o.fingerprint ?? 'a'.repeat(64), classes, classCounts: counts, splitCounts: { train: {}, val: {}, test: counts }, splitHash: `split-${o.seed}` },
    extractor: {},
    split,
    predictions,
  });
  return run.id;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'leaderboard-'));
  store = await openTrackingStore(path.join(dir, 'runs.sqlite'));
  study = await store.createStudy({ name: 'tiny', question: 'Which learning rate?', configHash: 's', configText: 'study:\n  name: tiny\n  question: Which learning rate?\n  arms: []\n' });
  const arms = [
    { label: 'lr 0.001', learningRate: 0.001, wrong: [[1, 2, 1], [2, 1, 1], [1, 1, 2]], parameters: 6405, trainSeconds: 2 },
    { label: 'lr 0.1', learningRate: 0.1, wrong: [[4, 3, 4], [3, 5, 3], [4, 4, 5]], parameters: 6405, trainSeconds: 2.5 },
  ];
  for (const [position, arm] of arms.entries()) {
    const sweep = await store.createSweep({ name: 'flowers', configHash: `sw${position}`, configText: '', definition: { seed: [1, 2, 3] }, size: 3 });
    for (const [k, seed] of [1, 2, 3].entries()) await record({ name: 'flowers', seed, learningRate: arm.learningRate, wrong: arm.wrong[k], sweepId: sweep.id, index: k, parameters: arm.parameters, trainSeconds: arm.trainSeconds + k });
    await store.updateSweepStatus(sweep.id, 'completed');
    await store.setStudyArm({ studyId: study.id, position, label: arm.label, config: `arm${position}.yaml`, sweepId: sweep.id });
  }
  await store.updateStudyStatus(study.id, 'completed');
  // Another dataset version: its own task, never ranked with the study's runs.
  await record({ name: 'flowers', seed: 1, learningRate: 0.001, wrong: [0, 0, 0], fingerprint: 'b'.repeat(64), parameters: 6405, trainSeconds: 1 });
});
afterAll(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const links = { indexHref: '../index.html', runHref: (id: string) => `../runs/${id}.html` };

describe('leaderboard pages', () => {
  it('put other dataset versions on their own task', async () => {
    const { leaderboards, excluded } = await loadLeaderboardData(store, await store.searchRuns());
    expect(excluded).toEqual([]);
    expect(leaderboards.map((b) => [b.task.datasetFingerprint.slice(0, 4), b.entries.length])).toEqual([
      ['aaaa', 2],
      ['bbbb', 1],
    ]);
    const other = buildLeaderboardPage(leaderboards[1], links);
    expect(other.rows[0]).toMatchObject({ singleSeed: true, seeds: 1, interval: 'one seed: no interval', verdict: 'leader' });
  });

  it('agree with the study page on every number', async () => {
    const studyModel = buildStudyPage(await loadStudyData(store, study), new Map(), { ...links, thumbPrefix: '../thumbs/' });
    const [board] = (await loadLeaderboardData(store, await store.searchRuns())).leaderboards;
    const page = buildLeaderboardPage(board, links);
    expect(page.rows).toHaveLength(studyModel.arms.length);
    for (const arm of studyModel.arms) {
      const row = page.rows.find((r) => r.runs.map((x) => x.shortId).join() === arm.runs.map((x) => x.shortId).join());
      expect(row).toBeDefined();
      expect({ accuracy: row?.accuracy, interval: row?.interval, seeds: row?.seeds, parameters: row?.parameters, training: row?.training, runs: row?.runs }).toEqual({
        accuracy: arm.accuracy,
        interval: arm.interval,
        seeds: arm.seeds,
        parameters: arm.parameters,
        training: arm.training,
        runs: arm.runs,
      });
    }
    // Arm 1 leads; the study's paired difference across seeds is the leaderboard's difference to the leader.
    expect(page.rows[0].runs.map((r) => r.shortId)).toEqual(studyModel.arms[0].runs.map((r) => r.shortId));
    expect(studyModel.significance[0].acrossSeeds.startsWith(page.rows[1].difference)).toBe(true);
    // 3-4 more mistakes of 30 on every seed: a paired t over 3 seeds, significant after Holm (one comparison).
    expect(page.rows[1].verdict).toBe('significantly worse than the leader (paired t over 3 shared seeds)');
    expect(page.rows[1].changes).toBe('train.learningRate: 0.001 vs 0.1');
  });

  it('are written by the report, which flags and leaves out a run whose logged numbers were edited', async () => {
    const out = path.join(dir, 'report');
    const [victim] = await store.searchRuns({ limit: 1 });
    // Test fixture: someone edits a logged number of the other-data run.
    const raw = new sqlite3.Database(path.join(dir, 'runs.sqlite'));
    await new Promise<void>((resolve, reject) => raw.run(`UPDATE metrics SET value = 0.5 WHERE run_id = ? AND key = 'test.accuracy'`, [victim.id], (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => raw.close(() => resolve()));
    const result = await generateReport({ store, outDir: out });
    expect(result.leaderboardPages.written).toBe(1);
    const { leaderboards } = await loadLeaderboardData(store, await store.searchRuns());
    const html = await fs.readFile(path.join(out, leaderboardPagePath(leaderboards[0].task.key)), 'utf8');
    expect(html).toContain('Configurations by mean test accuracy');
    expect(html).toContain('significantly worse than the leader');
    const index = await fs.readFile(path.join(out, 'index.html'), 'utf8');
    expect(index).toContain(`href="${leaderboardPagePath(leaderboards[0].task.key)}"`);
    expect(index).toMatch(/1 completed run\(s\) left out of the leaderboards/);
    const runPage = await fs.readFile(path.join(out, 'runs', `${victim.id}.html`), 'utf8');
    expect(runPage).toContain('id="run-unverified"');
    expect(runPage).toContain('test.accuracy: logged 0.5, recomputed from the predictions 1');
    const honest = await fs.readFile(path.join(out, 'runs', `${leaderboards[0].entries[0].runs[0].runId}.html`), 'utf8');
    expect(honest).toContain('id="run-verified"');
  });

  it('an incremental report reuses the checked results of unchanged runs and writes the same leaderboard', async () => {
    const out = path.join(dir, 'report-again');
    const first = await generateReport({ store, outDir: out });
    const cacheFile = path.join(out, '.mlbench-cache', 'seed-results.json');
    const cached = JSON.parse(await fs.readFile(cacheFile, 'utf8')) as { runs: Record<string, unknown> };
    const { leaderboards, excluded } = await loadLeaderboardData(store, await store.searchRuns());
    const counted = leaderboards.reduce((n, b) => n + b.entries.reduce((m, e) => m + e.runs.length, 0), 0);
    expect(Object.keys(cached.runs)).toHaveLength(counted);
    const pages = async () => Promise.all(leaderboards.map((b) => fs.readFile(path.join(out, leaderboardPagePath(b.task.key)), 'utf8')));
    const before = await pages();
    const again = await generateReport({ store, outDir: out });
    expect(again.leaderboardPages).toEqual({ written: 0, unchanged: first.leaderboardPages.written + first.leaderboardPages.unchanged });
    expect(await pages()).toEqual(before);
    expect(excluded).toHaveLength(1);
  });
});

/**
 * The sweep, study and comparison pages give verdicts too: they use the numbers recomputed from
 * the predictions, and leave out (or flag) a run whose logged numbers were edited.
 */
describe('pages that give verdicts, with an edited run', () => {
  // Arm "lr 0.001", seed 1: 4 of 30 test images wrong, so 86.67%; its seeds 2 and 3 too.
  let edited: Run;
  let other: Run;
  const recomputed = '86.67%';
  beforeAll(async () => {
    const runs = await store.searchRuns();
    const lr = (r: Run): unknown => (r.resolvedConfig as { train: { learningRate: number } }).train.learningRate;
    edited = runs.find((r) => r.sweepId !== null && r.seed === 1 && lr(r) === 0.001) as Run;
    other = runs.find((r) => r.sweepId !== null && r.seed === 1 && lr(r) === 0.1) as Run;
    // Test fixture: someone "improves" the logged test accuracy of one run of the study's first arm.
    const raw = new sqlite3.Database(path.join(dir, 'runs.sqlite'));
    await new Promise<void>((resolve, reject) => raw.run(`UPDATE metrics SET value = 0.99 WHERE run_id = ? AND key = 'test.accuracy'`, [edited.id], (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  });

  it('the sweep page leaves the edited run out of its best configuration and flags it instead of showing its logged accuracy', async () => {
    const sweep = (await store.searchSweeps()).find((s) => s.id === edited.sweepId);
    expect(sweep).toBeDefined();
    const model = buildSweepPage(await loadSweepData(store, sweep as NonNullable<typeof sweep>), links);
    // With the logged 0.99 the mean would be 90.78%; without it, two seeds at 86.67%.
    expect(model.best).toMatchObject({ seeds: 2, accuracy: `${recomputed} ± 0.00 pp` });
    expect(model.best?.runs.map((r) => r.shortId)).not.toContain(edited.id.slice(0, 8));
    const row = model.rows.find((r) => r.id === edited.id);
    // Its logged 99% is not its predictions' number: no value, a flag.
    expect(row?.accuracy).toEqual({ text: '–', ci: null });
    expect(row?.best).toBe(false);
    const reason = `run ${edited.id.slice(0, 8)}: its logged numbers do not match its stored predictions, so it is refused: test.accuracy: logged 0.99, recomputed from the predictions 0.8666666666666667`;
    expect(row?.unverified).toBe(reason);
    expect(model.unverified).toEqual([{ shortId: edited.id.slice(0, 8), href: `../runs/${edited.id}.html`, reason }]);
  });

  it('the study page leaves the edited run out of its arm mean, says so, and still agrees with the leaderboard', async () => {
    const studyModel = buildStudyPage(await loadStudyData(store, study), new Map(), { ...links, thumbPrefix: '../thumbs/' });
    const arm = studyModel.arms[0];
    expect(arm.seeds).toBe(2);
    expect(arm.accuracy).toBe(`${recomputed} ± 0.00`);
    expect(arm.runs.map((r) => r.seed)).toEqual([2, 3]);
    expect(arm.note).toContain(`run ${edited.id.slice(0, 8)} is left out: `);
    expect(studyModel.findings[0]).toBe(`Arm 1 (lr 0.001) reaches ${recomputed} mean test accuracy over 2 seeds.`);
    const [board] = (await loadLeaderboardData(store, await store.searchRuns())).leaderboards;
    const row = buildLeaderboardPage(board, links).rows.find((r) => r.runs.map((x) => x.shortId).join() === arm.runs.map((x) => x.shortId).join());
    expect(row?.accuracy).toBe(arm.accuracy);
  });

  it('the comparison page compares recomputed numbers and flags the edited run', async () => {
    const data = await Promise.all([edited, other].map((r) => loadRunDetails(store, r)));
    expect(data[0].final['test.accuracy']).toBe(0.99);
    const model = buildComparePage(data, new Map(), { ...links, thumbPrefix: '../thumbs/' });
    expect(model.runs[0].accuracy).toBe(recomputed);
    expect(model.runs[0].unverified).toBe('test.accuracy: logged 0.99, recomputed from the predictions 0.8666666666666667');
    expect(model.runs[1].unverified).toBeNull();
    // lr 0.1, seed 1: 11 of 30 wrong (63.33%): −23.33 points against the recomputed 86.67%, not −35.67 against 0.99.
    const accuracy = model.metrics.find((m) => m.label === 'test accuracy');
    expect(accuracy?.values.map((v) => [v.text, v.delta])).toEqual([
      [recomputed, null],
      ['63.33%', '-23.33 pp'],
    ]);
  });

  it("the index shows recomputed numbers, flags the edited run and never makes its logged accuracy a group's best", async () => {
    const runs = (await store.searchRuns()).filter((r) => r.sweepId === edited.sweepId);
    const summaries = await Promise.all(runs.map((r) => loadRunSummary(store, r)));
    expect(summaries.find((s) => s.run.id === edited.id)?.final['test.accuracy']).toBe(0.99);
    const checked = await loadCheckedRuns(store, runs);
    const model = buildIndexPage(summaries, { store: 'runs.sqlite', runHref: (id) => `runs/${id}.html`, comparisons: [], checked });
    expect(model.groups).toHaveLength(1);
    // With the logged 0.99 the best would be 99.00%; seeds 2 and 3 recomputed are 86.67%.
    expect(model.groups[0].best).toBe(recomputed);
    const row = model.groups[0].rows.find((r) => r.id === edited.id);
    expect(row?.accuracy).toMatchObject({ text: '–', sort: '', barPercent: 0 });
    expect(row?.macroF1.text).toBe('–');
    expect(row?.unverified).toBe(checked.excluded.get(edited.id)?.reason);
    expect(row?.unverified).toContain('test.accuracy: logged 0.99, recomputed from the predictions 0.8666666666666667');
    const others = model.groups[0].rows.filter((r) => r.id !== edited.id);
    expect(others.map((r) => [r.accuracy.text, r.unverified])).toEqual([
      [recomputed, null],
      [recomputed, null],
    ]);
  });

  it('the written pages carry the flags', async () => {
    const out = path.join(dir, 'report-edited');
    const result = await generateReport({ store, outDir: out, compare: [edited.id, other.id] });
    const sweepHtml = await fs.readFile(path.join(out, 'sweeps', `${edited.sweepId}.html`), 'utf8');
    expect(sweepHtml).toContain('id="sweep-unverified"');
    expect(sweepHtml).not.toContain('99.00%');
    const compareHtml = await fs.readFile(result.comparisonFile as string, 'utf8');
    expect(compareHtml).toContain('compare-unverified');
    expect(compareHtml).not.toContain('99.00%');
    const studyHtml = await fs.readFile(path.join(out, 'studies', `${study.id}.html`), 'utf8');
    expect(studyHtml).toContain(`run ${edited.id.slice(0, 8)} is left out`);
    const indexHtml = await fs.readFile(result.indexFile, 'utf8');
    expect(indexHtml).toContain('class="badge failed unverified"');
    expect(indexHtml).not.toContain('99.00%');
  });
});
