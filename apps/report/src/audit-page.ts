/**
 * "Suspected label issues": the label audit of one run (config `audit`), as its own page
 * `audit/<runId>.html`, linked from the run page. Label issues ranked by score with given and
 * suggested labels and confidences, the (given, suggested) pair counts as a matrix, and the images
 * with no confident class for review.
 */

import type { AuditResult, SplitMember } from '@mlbench/tracking';
import { heatmap } from './charts/heatmap';
import { selectClasses, selectionNote } from './confusion-view';
import { fixed, MISSING, percent, shortId } from './format';
import type { ImageSource, ThumbnailIndex } from './images';
import { imageSource, membersByPath, svg, thumbSrc, type Svg, type Tile } from './page-model';
import type { RunData } from './run-data';
import { argMax, maxOf } from '@mlbench/common';
import { METRIC_KEYS } from '@mlbench/experiment/results';

/** Label issues shown as thumbnails, most suspicious first (all are counted in the matrix). */
export const AUDIT_ISSUE_LIMIT = 120;
/** Images with no confident class shown, furthest below the thresholds first. */
export const AUDIT_UNSURE_LIMIT = 48;

export const auditPagePath = (runId: string): string => `audit/${runId}.html`;

export interface AuditFact {
  label: string;
  value: string;
  title?: string;
}

export interface AuditPageModel {
  title: string;
  run: { id: string; shortId: string; name: string };
  runHref: string;
  indexHref: string;
  facts: readonly AuditFact[];
  thresholds: readonly { name: string; value: string }[];
  /** Test metrics on the whole test split and without its label issues. */
  evaluation: readonly { label: string; all: string; clean: string }[];
  matrix: { chart: Svg; total: number } | null;
  issues: { tiles: readonly Tile[]; total: number };
  unsure: { tiles: readonly Tile[]; total: number };
}

/** Summary of a run's audit for the run page's link; null when the run has none. */
export interface AuditLink {
  href: string;
  labelIssues: number;
  noConfidentClass: number;
  total: number;
}

export function auditLink(runId: string, audit: readonly AuditResult[], prefix: string): AuditLink | null {
  if (audit.length === 0) return null;
  return {
    href: `${prefix}${auditPagePath(runId)}`,
    labelIssues: audit.filter((a) => a.flag === 'label_issue').length,
    noConfidentClass: audit.filter((a) => a.flag === 'no_confident_class').length,
    total: audit.length,
  };
}

const byRank = (a: AuditResult, b: AuditResult): number => (a.rank ?? Infinity) - (b.rank ?? Infinity) || (a.path < b.path ? -1 : 1);

function plan(audit: readonly AuditResult[]): { issues: AuditResult[]; unsure: AuditResult[]; issueTotal: number; unsureTotal: number } {
  const issues = audit.filter((a) => a.flag === 'label_issue').sort(byRank);
  const unsure = audit.filter((a) => a.flag === 'no_confident_class').sort(byRank);
  return { issues: issues.slice(0, AUDIT_ISSUE_LIMIT), unsure: unsure.slice(0, AUDIT_UNSURE_LIMIT), issueTotal: issues.length, unsureTotal: unsure.length };
}

/** Originals the audit page needs thumbnails of. */
export function auditPageImages(data: RunData, audit: readonly AuditResult[]): ImageSource[] {
  const dataset = data.dataset;
  if (!dataset) return [];
  const members = membersByPath(data.split);
  const { issues, unsure } = plan(audit);
  return [...issues, ...unsure].map((a) => members.get(a.path)).filter((m): m is SplitMember => m !== undefined).map((m) => imageSource(dataset, m));
}

export function buildAuditPage(
  data: RunData,
  audit: readonly AuditResult[],
  thumbs: ThumbnailIndex,
  links: { thumbPrefix: string; indexHref: string; runHref: string },
): AuditPageModel {
  const { run } = data;
  const classes = data.dataset?.classes ?? [];
  const name = (label: number | null): string => (label === null ? MISSING : (classes[label] ?? `#${label}`));
  const members = membersByPath(data.split);
  const { issues, unsure, issueTotal, unsureTotal } = plan(audit);
  const metric = (key: string): number | null => data.final[key] ?? null;
  const top3 = (a: AuditResult): string =>
    a.probabilities
      .map((p, i) => ({ p, i }))
      .sort((x, y) => y.p - x.p)
      .slice(0, 3)
      .map((x) => `${name(x.i)} ${percent(x.p, 1)}`)
      .join(', ');
  const splitOf = (a: AuditResult): string => members.get(a.path)?.split ?? '?';

  const issueTile = (a: AuditResult): Tile => ({
    src: thumbSrc(members.get(a.path), thumbs, links.thumbPrefix),
    alt: `${a.path}: labelled ${name(a.givenLabel)}, suggested ${name(a.suggestedLabel)}`,
    lines: [
      { text: `#${a.rank ?? '?'} given: ${name(a.givenLabel)} (${percent(a.selfConfidence, 0)})`, kind: 'true' },
      { text: `suggested: ${name(a.suggestedLabel)} (${percent(a.suggestedLabel === null ? null : a.probabilities[a.suggestedLabel], 0)})`, kind: 'pred' },
      { text: `score ${fixed(a.score, 3)} · ${splitOf(a)}`, kind: 'note' },
    ],
    wrong: true,
    title: `${a.path} (${splitOf(a)}, fold ${a.fold + 1})\nout-of-fold: ${top3(a)}`,
  });
  const unsureTile = (a: AuditResult): Tile => {
    const best = argMax(a.probabilities);
    return {
      src: thumbSrc(members.get(a.path), thumbs, links.thumbPrefix),
      alt: `${a.path}: labelled ${name(a.givenLabel)}, no confident class`,
      lines: [
        { text: `given: ${name(a.givenLabel)} (${percent(a.selfConfidence, 0)})`, kind: 'true' },
        { text: `best: ${name(best)} (${percent(a.probabilities[best], 0)})`, kind: 'note' },
      ],
      wrong: false,
      title: `${a.path} (${splitOf(a)}, fold ${a.fold + 1})\nout-of-fold: ${top3(a)}`,
    };
  };

  const allIssues = audit.filter((a) => a.flag === 'label_issue');
  const counts = classes.map(() => classes.map(() => 0));
  for (const a of allIssues) if (a.suggestedLabel !== null && counts[a.givenLabel] && a.suggestedLabel in counts[a.givenLabel]) counts[a.givenLabel][a.suggestedLabel]++;
  const maxCount = Math.max(0, maxOf(counts.flat()));
  // Above FULL_MATRIX_CLASS_LIMIT classes: the classes with the most label issues.
  const selection = selectClasses(counts);
  const shown = selection.indices;
  const shownNames = shown.map((i) => classes[i]);
  const count = (r: number, c: number): number => counts[shown[r]][shown[c]];
  const matrix =
    classes.length > 0 && allIssues.length > 0
      ? {
          total: allIssues.length,
          chart: svg(
            heatmap({
              title: `Label issues by given and suggested class (${allIssues.length})${selection.truncated ? `: ${selectionNote(selection)}` : ''}`,
              rowLabels: shownNames,
              columnLabels: shownNames,
              intensities: shown.map((_, r) => shown.map((_, c) => (maxCount > 0 ? count(r, c) / maxCount : 0))),
              cellText: (r, c) => (r === c ? [MISSING] : [String(count(r, c))]),
              cellTitle: (r, c) => (r === c ? `${shownNames[r]}: not a label issue` : `labelled ${shownNames[r]}, suggested ${shownNames[c]}: ${count(r, c)} images`),
              rowAxisLabel: 'given label',
              columnAxisLabel: 'suggested label',
              palette: 'sequential',
              cellClass: (r, c) => (r === c ? 'diagonal' : ''),
            }),
          ),
        }
      : null;

  const folds = new Set(audit.map((a) => a.fold)).size;
  const excluded = metric(METRIC_KEYS.auditExcludedTrain);
  const facts: AuditFact[] = [
    { label: 'images audited', value: String(audit.length) },
    { label: 'folds', value: String(folds), title: 'each image was held out once; its probabilities come from a head trained on the other folds' },
    { label: 'label issues', value: `${issueTotal} (${percent(issueTotal / audit.length, 1)})` },
    { label: 'no confident class', value: `${unsureTotal} (${percent(unsureTotal / audit.length, 1)})`, title: 'no class reaches its threshold: uncertain or off-distribution; shown for review, not excluded' },
    { label: 'out-of-fold accuracy', value: percent(metric(METRIC_KEYS.auditOofAccuracy)) },
    {
      label: 'excluded from training',
      value: excluded === null ? MISSING : excluded > 0 ? `${excluded} train images (audit.excludeFromTraining)` : 'none (audit.excludeFromTraining off)',
    },
  ];
  const evaluation = [
    { label: 'test accuracy', all: percent(metric(METRIC_KEYS.testAccuracy)), clean: percent(metric(METRIC_KEYS.testCleanAccuracy)) },
    { label: 'test macro-F1', all: fixed(metric(METRIC_KEYS.testMacroF1)), clean: fixed(metric(METRIC_KEYS.testCleanMacroF1)) },
    { label: 'test images', all: String(metric(METRIC_KEYS.testCount) ?? MISSING), clean: String(metric(METRIC_KEYS.testCleanCount) ?? MISSING) },
  ];

  return {
    title: `Suspected label issues · ${run.name} · ${shortId(run.id)}`,
    run: { id: run.id, shortId: shortId(run.id), name: run.name },
    runHref: links.runHref,
    indexHref: links.indexHref,
    facts,
    thresholds: classes.map((c) => ({ name: c, value: fixed(metric(`audit.threshold.${c}`), 3) })),
    evaluation,
    matrix,
    issues: { tiles: issues.map(issueTile), total: issueTotal },
    unsure: { tiles: unsure.map(unsureTile), total: unsureTotal },
  };
}
