import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Handlebars from 'handlebars';
import type { AuditPageModel } from './audit-page';
import type { ComparePageModel } from './compare-page';
import type { IndexPageModel } from './index-page';
import type { LeaderboardPageModel } from './leaderboard-page';
import type { Svg } from './page-model';
import type { RunPageModel } from './run-page';
import type { StudyPageModel } from './study-page';
import type { SweepPageModel } from './sweep-page';

const TEMPLATE_DIR = path.join(__dirname, 'templates');

// A private Handlebars instance: helpers and partials do not leak into other users of the module.
const handlebars = Handlebars.create();
const readTemplate = (name: string): string => readFileSync(path.join(TEMPLATE_DIR, name), 'utf8');

// Chart markup is built by our chart functions, which escape every label; everything else in the
// templates goes through Handlebars' default escaping (no triple-stash anywhere).
handlebars.registerHelper('svg', (chart: Svg) => new handlebars.SafeString(chart.svg));
handlebars.registerHelper('gt', (a: number, b: number) => a > b);
handlebars.registerHelper('minus', (a: number, b: number) => a - b);
handlebars.registerPartial('styles', readTemplate('styles.css'));
handlebars.registerPartial('layout', readTemplate('layout.hbs'));
handlebars.registerPartial('tiles', readTemplate('tiles.hbs'));

const compile = (name: string): Handlebars.TemplateDelegate => handlebars.compile(readTemplate(name));
const templates = { index: compile('index.hbs'), run: compile('run.hbs'), compare: compile('compare.hbs'), sweep: compile('sweep.hbs') };

/** Machine-readable facts in a page's <head>, read back by the generator (see generate.ts). */
export interface PageMeta {
  /** Key of the inputs a run page was built from. */
  inputKey?: string;
  /** Ids of the runs a comparison page compares, in order. */
  comparedRuns?: string;
}

interface NavLink {
  id: string;
  label: string;
}

export function renderIndexPage(model: IndexPageModel): string {
  return templates.index({ ...model, indexHref: 'index.html', nav: [], columnCount: 9 + model.paramLabels.length });
}

export function renderRunPage(model: RunPageModel, meta: PageMeta = {}): string {
  const nav: NavLink[] = [
    { id: 'summary', label: 'summary' },
    { id: 'curves', label: 'curves' },
    { id: 'errors', label: 'confusion & per-class' },
    ...(model.testGrid ? [{ id: 'test-grid', label: 'test images' }] : []),
    ...(model.misclassified ? [{ id: 'misclassified', label: 'misclassified' }] : []),
    { id: 'dataset', label: 'dataset' },
    { id: 'config', label: 'config' },
  ];
  return templates.run({ ...model, ...meta, nav });
}

export function renderComparePage(model: ComparePageModel, meta: PageMeta = {}): string {
  const nav: NavLink[] = [
    { id: 'params', label: 'what differs' },
    { id: 'significance', label: 'significance' },
    { id: 'metrics', label: 'metrics' },
    ...(model.curves ? [{ id: 'curves', label: 'curves' }] : []),
    ...(model.perClassF1 ? [{ id: 'per-class', label: 'per-class F1' }] : []),
    ...model.pairs.map((pair, i) => ({ id: `pair-${i}`, label: `${pair.otherLetter} vs ${pair.baseLetter}` })),
  ];
  return templates.compare({ ...model, ...meta, nav });
}

export function renderSweepPage(model: SweepPageModel, meta: PageMeta = {}): string {
  const nav: NavLink[] = [
    { id: 'best', label: 'best' },
    ...(model.plots.length > 0 ? [{ id: 'plots', label: 'plots' }] : []),
    ...(model.groups.length > 0 ? [{ id: 'groups', label: model.seedKey ? 'seed groups' : 'configurations' }] : []),
    { id: 'runs', label: 'runs' },
    ...(model.failed.length > 0 ? [{ id: 'failed', label: 'failed' }] : []),
    { id: 'config', label: 'config' },
  ];
  return templates.sweep({ ...model, ...meta, nav });
}

/**
 * Hash of the generator itself (templates, styles and source files), so an up-to-date check on a
 * page also notices a new report version, not only new data.
 */
export function generatorFingerprint(): string {
  const hash = createHash('sha256');
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/\.(ts|js|hbs|css)$/.test(entry.name) && !/\.spec\.ts$/.test(entry.name)) hash.update(entry.name).update(readFileSync(full));
    }
  };
  visit(__dirname);
  return hash.digest('hex').slice(0, 16);
}

const auditTemplate = compile('audit.hbs');

/** The "Suspected label issues" page of one run (audit-page.ts). */
export function renderAuditPage(model: AuditPageModel): string {
  return auditTemplate({ ...model, nav: [{ id: 'label-issues', label: 'label issues' }, { id: 'no-confident-class', label: 'no confident class' }] });
}

const studyTemplate = compile('study.hbs');

/** The page of one study (study-page.ts). */
export function renderStudyPage(model: StudyPageModel): string {
  const nav: NavLink[] = [
    { id: 'question', label: 'question' },
    { id: 'setup', label: 'setup' },
    { id: 'arms', label: 'arms' },
    { id: 'significance', label: 'significance' },
    ...(model.confusion ? [{ id: 'confusion', label: 'confusion' }] : []),
    ...(model.grid ? [{ id: 'test-grid', label: 'test photos' }] : []),
    { id: 'config', label: 'study file' },
  ];
  return studyTemplate({ ...model, nav });
}

const leaderboardTemplate = compile('leaderboard.hbs');

/** The leaderboard page of one benchmark task (leaderboard-page.ts). */
export function renderLeaderboardPage(model: LeaderboardPageModel): string {
  return leaderboardTemplate({ ...model, nav: [{ id: 'task', label: 'task' }, { id: 'ranking', label: 'ranking' }] });
}
