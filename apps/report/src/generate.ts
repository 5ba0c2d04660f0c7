import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '@mlbench/common';
import { describeTask } from '@mlbench/experiment/results';
import { findRun, type Run, type Study, type Sweep, type TrackingStore } from '@mlbench/tracking';
import { buildComparePage, comparePageImages } from './compare-page';
import { auditLink, auditPageImages, auditPagePath, buildAuditPage } from './audit-page';
import { CompareArgumentsError, InvalidStoredDataError } from './errors';
import { percent, shortId } from './format';
import { buildIndexPage, type ComparisonLink } from './index-page';
import { isInside, ThumbnailWriter, type ThumbnailStats } from './images';
import { generatorFingerprint, renderAuditPage, renderStudyPage, renderComparePage, renderIndexPage, renderLeaderboardPage, renderRunPage, renderSweepPage } from './render';
import { loadRunData, loadRunSummary, type RunSummaryData } from './run-data';
import { buildRunPage, runPageImages } from './run-page';
import { buildSweepPage, loadSweepData } from './sweep-page';
import { checkRunData } from './stored-data';
import { buildStudyPage, loadStudyData, studyPageImages } from './study-page';
import { buildLeaderboardPage, leaderboardData, leaderboardPagePath } from './leaderboard-page';
import { loadCheckedRuns } from './checked-runs';
import { verificationView } from './verification';
import { SeedResultCache } from './seed-result-cache';

export interface GenerateOptions {
  store: TrackingStore;
  outDir: string;
  /** Run ids (or unique prefixes) to compare, the first is the baseline; empty: no comparison page. */
  compare?: readonly string[];
}

export type WriteOutcome = 'written' | 'unchanged';

/** A run, sweep or study left out of the report because its stored data cannot be shown; named with why. */
export interface SkippedEntry {
  kind: 'run' | 'sweep' | 'study';
  id: string;
  name: string;
  reason: string;
}

export interface GenerateResult {
  indexFile: string;
  comparisonFile: string | null;
  runPages: { written: number; unchanged: number; upToDate: number };
  /** One page per recorded sweep. */
  sweepPages: { written: number; unchanged: number };
  /** One page per recorded study. */
  studyPages: { written: number; unchanged: number };
  /** One leaderboard page per benchmark task. */
  leaderboardPages: { written: number; unchanged: number };
  thumbnails: ThumbnailStats;
  /** Stored entries that could not be shown (invalid id, malformed data); every other page is written. */
  skipped: SkippedEntry[];
}

const RUN_DIR = 'runs';
const COMPARE_DIR = 'compare';
const SWEEP_DIR = 'sweeps';
const STUDY_DIR = 'studies';
const THUMB_DIR = 'thumbs';
/** Every run, not the store's default page of 1000. */
const ALL_RUNS = Number.MAX_SAFE_INTEGER;

/** Run, sweep and study ids are 32 lowercase hex digits; nothing else becomes part of a file name. */
const STORED_ID = /^[0-9a-f]{32}$/;
export const isStoredId = (id: string): boolean => STORED_ID.test(id);

/** File names are built from stored ids only after this check (a shared database can hold anything). */
function storedId(id: string): string {
  if (!isStoredId(id)) throw new InvalidStoredDataError(`id ${JSON.stringify(id)} is not 32 lowercase hex digits`);
  return id;
}

export const runPagePath = (runId: string): string => `${RUN_DIR}/${storedId(runId)}.html`;
export const sweepPagePath = (sweepId: string): string => `${SWEEP_DIR}/${storedId(sweepId)}.html`;
export const studyPagePath = (studyId: string): string => `${STUDY_DIR}/${storedId(studyId)}.html`;
export const comparePagePath = (runIds: readonly string[]): string => `${COMPARE_DIR}/${runIds.map((id) => storedId(id).slice(0, 12)).join('_vs_')}.html`;

/** `relative` under `outDir`, refusing anything that would land outside it. */
export function outputFile(outDir: string, relative: string): string {
  const root = path.resolve(outDir);
  const file = path.resolve(root, relative);
  if (!isInside(root, file) || file === root) throw new InvalidStoredDataError(`output path ${JSON.stringify(relative)} is outside the report folder ${root}`);
  return file;
}

/**
 * Writes the index, one page per run and (with `compare`) a comparison page. Incremental: a
 * finished run's page records a key of its inputs and the generator version, and is skipped when
 * both match; every page is only written when its content changed.
 */
export async function generateReport(options: GenerateOptions): Promise<GenerateResult> {
  const { store, outDir } = options;
  const skipped: SkippedEntry[] = [];
  const skip = (kind: SkippedEntry['kind'], entry: { id: string; name: string }, error: unknown): void => {
    // A disk problem is not bad data: it fails the report.
    if (isFsError(error)) throw error;
    skipped.push({ kind, id: entry.id, name: entry.name, reason: error instanceof Error ? error.message : String(error) });
  };
  const stored = await store.searchRuns({ limit: ALL_RUNS });
  const runs: Run[] = [];
  for (const run of stored) {
    if (isStoredId(run.id)) runs.push(run);
    else skip('run', run, new InvalidStoredDataError(`id ${JSON.stringify(run.id)} is not 32 lowercase hex digits`));
  }
  // Resolve --compare before writing anything, so a typo fails fast and leaves the report alone.
  const compared = options.compare && options.compare.length > 0 ? resolveRunIds(options.compare, runs, store.location) : null;

  const generator = generatorFingerprint();
  const thumbnails = new ThumbnailWriter(path.join(outDir, THUMB_DIR));
  const runPages = { written: 0, unchanged: 0, upToDate: 0 };
  const summaries: RunSummaryData[] = [];
  const pageKeys = new Map<string, string>();
  for (const run of runs) {
    const file = outputFile(outDir, runPagePath(run.id));
    let pages: { run: string; audit: string | null } | null = null;
    let summary: RunSummaryData;
    try {
      summary = await loadRunSummary(store, run);
      // The logged metrics are part of the key: an edited number must re-check the page's verification.
      const inputKey = runInputKey(run, generator, summary.final);
      if (run.status !== 'running') pageKeys.set(run.id, inputKey);
      // Running runs change with every epoch; only finished runs can be skipped by their key.
      if (run.status === 'running' || (await readMeta(file, 'mlbench-input')) !== inputKey) {
        const data = await loadRunData(store, run);
        // Label audit (config `audit`): its own page, linked from the run page.
        const audit = await store.getAuditResults(run.id);
        checkRunData(data, audit);
        const thumbs = await thumbnails.ensure(runPageImages(data));
        const model = { ...buildRunPage(data, thumbs, { thumbPrefix: `../${THUMB_DIR}/`, indexHref: '../index.html' }), audit: auditLink(run.id, audit, '../'), verification: verificationView(data, audit) };
        let auditPage: string | null = null;
        if (audit.length > 0) {
          const auditThumbs = await thumbnails.ensure(auditPageImages(data, audit));
          const links = { thumbPrefix: `../${THUMB_DIR}/`, indexHref: '../index.html', runHref: `../${runPagePath(run.id)}` };
          auditPage = renderAuditPage(buildAuditPage(data, audit, auditThumbs, links));
        }
        pages = { run: renderRunPage(model, { inputKey }), audit: auditPage };
      }
    } catch (error) {
      // One malformed run costs its own page, not the report.
      skip('run', run, error);
      continue;
    }
    summaries.push(summary);
    if (!pages) {
      runPages.upToDate++;
      continue;
    }
    runPages[await writeIfChanged(file, pages.run)]++;
    if (pages.audit !== null) await writeIfChanged(outputFile(outDir, auditPagePath(run.id)), pages.audit);
  }

  // Every completed run checked once (seed result recomputed from its predictions), for the
  // leaderboards, the sweeps' best configurations and the study arms alike. Finished runs' checked
  // results are reused under their page's key (see seed-result-cache.ts).
  const seedResults = await SeedResultCache.load(outDir, pageKeys);
  const checked = await loadCheckedRuns(store, summaries.map((s) => s.run), seedResults);
  await seedResults.save();

  // Sweep pages are cheap (summaries only) and depend on several runs: always rebuilt, written when changed.
  const sweeps = await store.searchSweeps({ limit: ALL_RUNS });
  const summaryById = new Map(summaries.map((s) => [s.run.id, s]));
  const sweepPages = { written: 0, unchanged: 0 };
  const shownSweeps: Sweep[] = [];
  for (const sweep of sweeps) {
    let page: string;
    try {
      const file = sweepPagePath(sweep.id);
      const model = buildSweepPage(await loadSweepData(store, sweep, summaryById, checked), { indexHref: '../index.html', runHref: (id) => `../${runPagePath(id)}` });
      page = renderSweepPage(model);
      shownSweeps.push(sweep);
      sweepPages[await writeIfChanged(outputFile(outDir, file), page)]++;
    } catch (error) {
      skip('sweep', sweep, error);
    }
  }

  // Study pages: like sweep pages, rebuilt every time from the store and written when changed.
  const studies = await store.searchStudies({ limit: ALL_RUNS });
  const studyPages = { written: 0, unchanged: 0 };
  const shownStudies: Study[] = [];
  for (const study of studies) {
    try {
      const file = studyPagePath(study.id);
      const data = await loadStudyData(store, study, summaryById, checked);
      const thumbs = await thumbnails.ensure(studyPageImages(data));
      const model = buildStudyPage(data, thumbs, { indexHref: '../index.html', runHref: (id) => `../${runPagePath(id)}`, thumbPrefix: `../${THUMB_DIR}/` });
      const page = renderStudyPage(model);
      shownStudies.push(study);
      studyPages[await writeIfChanged(outputFile(outDir, file), page)]++;
    } catch (error) {
      skip('study', study, error);
    }
  }

  // Leaderboards: one page per task, from the checked runs; rebuilt, written when changed.
  const leaderboards = leaderboardData(checked);
  const leaderboardPages = { written: 0, unchanged: 0 };
  for (const board of leaderboards.leaderboards) {
    const model = buildLeaderboardPage(board, { indexHref: '../index.html', runHref: (id) => `../${runPagePath(id)}` });
    leaderboardPages[await writeIfChanged(outputFile(outDir, leaderboardPagePath(board.task.key)), renderLeaderboardPage(model))]++;
  }

  let comparisonFile: string | null = null;
  if (compared) {
    const data = await Promise.all(compared.map((run) => loadRunData(store, run)));
    const audits = await Promise.all(compared.map((run) => store.getAuditResults(run.id)));
    data.forEach((d, i) => checkRunData(d, audits[i]));
    const thumbs = await thumbnails.ensure(comparePageImages(data));
    const model = buildComparePage(data, thumbs, { thumbPrefix: `../${THUMB_DIR}/`, indexHref: '../index.html', runHref: (id) => `../${runPagePath(id)}` }, audits);
    comparisonFile = outputFile(outDir, comparePagePath(compared.map((r) => r.id)));
    await writeIfChanged(comparisonFile, renderComparePage(model, { comparedRuns: compared.map((r) => r.id).join(' ') }));
  }

  const index = buildIndexPage(summaries, {
    store: store.location,
    runHref: runPagePath,
    comparisons: await existingComparisons(outDir, runs),
    sweeps: shownSweeps.map((sweep) => ({ sweep, href: sweepPagePath(sweep.id), runs: summaries.filter((s) => s.run.sweepId === sweep.id) })),
    checked,
  });
  const indexFile = outputFile(outDir, 'index.html');
  const studyLinks = shownStudies.map((study) => ({ id: study.id, shortId: shortId(study.id), href: studyPagePath(study.id), name: study.name, question: study.question, status: study.status, started: study.startTime.slice(0, 16).replace('T', ' ') }));
  const leaderboardLinks = leaderboards.leaderboards.map((board) => ({
    key: board.task.key,
    href: leaderboardPagePath(board.task.key),
    description: describeTask(board.task),
    entries: board.entries.length,
    leader: board.entries[0] ? `${board.entries[0].name} (${percent(board.entries[0].mean)}, ${board.entries[0].n} seed${board.entries[0].n === 1 ? '' : 's'})` : '',
  }));
  const leaderboardExcluded = leaderboards.excluded.map((e) => ({ shortId: shortId(e.runId), href: runPagePath(e.runId), name: e.name, reason: e.reason }));
  await writeIfChanged(indexFile, renderIndexPage({ ...index, studies: studyLinks, skipped, leaderboards: leaderboardLinks, leaderboardExcluded }));
  return { indexFile, comparisonFile, runPages, sweepPages, studyPages, leaderboardPages, thumbnails: thumbnails.stats, skipped };
}

/** Full runs for ids or unique prefixes, in the order given. */
export function resolveRunIds(ids: readonly string[], runs: readonly Run[], store: string): Run[] {
  if (ids.length < 2) throw new CompareArgumentsError(`--compare needs at least two run ids, got ${ids.length}; e.g. --compare ${runs.slice(0, 2).map((r) => shortId(r.id)).join(' ') || '<runA> <runB>'}`);
  const resolved = ids.map((id) => findRun(runs, id, store));
  const unique = new Set(resolved.map((r) => r.id));
  if (unique.size !== resolved.length) throw new CompareArgumentsError(`--compare lists the same run twice (${ids.join(' ')}); give distinct runs`);
  return resolved;
}

/** What a finished run page depends on: the run's final state and the generator version. */
export function runInputKey(run: Run, generator: string, finalMetrics: Readonly<Record<string, number>> = {}): string {
  const metrics = Object.entries(finalMetrics).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify([generator, run.id, run.status, run.endTime, run.error, run.name, metrics]))
    .digest('hex')
    .slice(0, 32);
}

/** Writes `content` unless the file already holds exactly that (idempotent regeneration). */
export async function writeIfChanged(file: string, content: string): Promise<WriteOutcome> {
  const next = createHash('sha256').update(content).digest('hex');
  try {
    const current = createHash('sha256').update(await fs.readFile(file)).digest('hex');
    if (current === next) return 'unchanged';
  } catch {
    // no file yet
  }
  await writeFileAtomic(file, content);
  return 'written';
}

/** A <meta name=... content=...> value from the head of a page we wrote, or null. */
async function readMeta(file: string, name: string): Promise<string | null> {
  let head: string;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const buffer = Buffer.alloc(2048);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
  const match = new RegExp(`<meta name="${name}" content="([^"]*)">`).exec(head);
  return match ? match[1] : null;
}

/** Comparison pages generated earlier (they stay until deleted), for the index's links. */
async function existingComparisons(outDir: string, runs: readonly Run[]): Promise<ComparisonLink[]> {
  let names: string[];
  try {
    names = (await fs.readdir(path.join(outDir, COMPARE_DIR))).filter((n) => n.endsWith('.html')).sort();
  } catch {
    return [];
  }
  const byId = new Map(runs.map((r) => [r.id, r]));
  const links: ComparisonLink[] = [];
  for (const name of names) {
    const ids = (await readMeta(path.join(outDir, COMPARE_DIR, name), 'mlbench-runs'))?.split(' ') ?? [];
    // A comparison of a run that no longer exists is not linked.
    if (ids.length < 2 || !ids.every((id) => byId.has(id))) continue;
    links.push({
      href: `${COMPARE_DIR}/${name}`,
      runKey: [...ids].sort().join(' '),
      label: ids.map((id, i) => `${String.fromCharCode(65 + i)} ${shortId(id)} (${byId.get(id)?.name ?? ''})`).join(' vs '),
    });
  }
  return links;
}

/** An error of the file system (EACCES, ENOSPC, ...), as opposed to a problem with stored data. */
function isFsError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
