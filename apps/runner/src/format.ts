import * as path from 'node:path';
import { maxOf } from '@mlbench/common';
import { METRIC_KEYS, type PipelineEvent, type RunSummary, type SeedGroup, type SweepEvent, type SweepProgress, type SweepResult } from '@mlbench/experiment';
import type { SampleSummary } from '@mlbench/metrics';
import { isPostgresUrl, type Run, type RunView, type SkippedFile, type Sweep } from '@mlbench/tracking';

/** Pure formatting of pipeline events and summaries: the CLI prints, it never computes. */

const short = (hash: string): string => hash.slice(0, 12);
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const fixed = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - 60 * m);
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const relative = (p: string): string => {
  if (isPostgresUrl(p)) return p; // a store URL (shown without its password), not a path
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
};

/** One line for an event, or null for events shown as a progress bar. */
export function formatEvent(event: PipelineEvent): string | null {
  switch (event.type) {
    case 'config':
      return `experiment ${event.name}  (${relative(event.file)}, config ${short(event.hash)})`;
    case 'backend': {
      const b = event.backend;
      const hint = b.nodeBindings ? '' : '  (install @tensorflow/tfjs-node for native speed)';
      return `tfjs       ${b.engineVersion}, backend ${b.backend}${hint}`;
    }
    case 'images-checked': {
      // The features line already says that every uncached image was decoded.
      if (event.bad.length === 0) return null;
      const shown = event.bad.slice(0, 20).map((b) => `\n  ${event.policy === 'skip' ? 'skipped' : 'bad'} ${b.path}: ${b.reason}`);
      const more = event.bad.length > 20 ? `\n  ... and ${event.bad.length - 20} more (recorded with the run)` : '';
      return `images     ${event.bad.length} unusable (dataset.onBadImage: ${event.policy})${shown.join('')}${more}`;
    }
    case 'abandoned':
      return `note       run ${event.runId} marked abandoned: its process ${event.pid ?? '?'} on ${event.hostname ?? '?'} is gone`;
    case 'dataset':
      return (
        `dataset    ${relative(event.root)}: ${event.images} images${event.skipped ? ` (${event.skipped} skipped)` : ''}, ${event.classes.length} classes (${event.classes.join(', ')}), fingerprint ${short(event.fingerprint)}\n` +
        `split      train ${event.splitSizes.train}, val ${event.splitSizes.val}, test ${event.splitSizes.test} (stratified, hash ${short(event.splitHash)})`
      );
    case 'extractor': {
      const d = event.description;
      const threads = (d.threads ? `, ${d.threads} thread${d.threads === 1 ? '' : 's'}` : '') + (d.precision === 'int8' ? ', int8' : '');
      return (
        `extractor  ${d.format} ${relative(d.source)} (sha256 ${short(d.sha256)}), ${d.featureDim}-d features from "${d.featureLayer}", input ${d.inputShape.join('x')}\n` +
        `engine     ${d.engine} ${d.engineVersion} (${d.backend}${threads}) extracts the features`
      );
    }
    case 'run-created':
      return `run        ${event.runId} (recording to ${relative(event.store)})`;
    case 'extract-start':
      return event.toExtract === 0
        ? `features   all ${event.total} cached (${relative(event.cacheDir)})`
        : `features   ${event.cached} cached, extracting ${event.toExtract}`;
    case 'extract-end':
      return event.extracted === 0
        ? null
        : `features   extracted ${event.extracted} in ${formatDuration(event.seconds)} (${fixed(event.imagesPerSecond, 1)} images/s)`;
    case 'epoch': {
      const m = event.metrics;
      const width = String(event.epochs).length;
      return (
        `epoch ${String(m.epoch).padStart(width)}/${event.epochs}  loss ${fixed(m.loss)}  acc ${fixed(m.accuracy)}` +
        `  val_loss ${fixed(m.valLoss)}  val_acc ${fixed(m.valAccuracy)}`
      );
    }
    case 'run-failed':
      return `run ${event.runId} ${event.status}: ${event.error}`;
    case 'scan-progress':
    case 'extract-progress':
      return null;
  }
}

export function formatSummary(summary: RunSummary): string {
  const { run, test, val } = summary;
  const width = Math.max(maxOf(summary.classes.map((c) => c.length)), 5);
  const lines = [
    '',
    `run ${run.id} ${run.status} in ${formatDuration((run.durationMs ?? 0) / 1000)}`,
    `  split         train ${summary.splitSizes.train} / val ${summary.splitSizes.val} / test ${summary.splitSizes.test}  (seed ${run.seed}, hash ${short(summary.splitHash)})`,
    `  test accuracy ${pct(test.accuracy)}  (${Math.round(test.accuracy * test.count)}/${test.count})${test.accuracyInterval ? `  95% CI ${pct(test.accuracyInterval[0])}-${pct(test.accuracyInterval[1])}` : ''}`,
    `  test macro-F1 ${fixed(test.macroF1)}${test.macroF1Interval ? `  95% CI ${fixed(test.macroF1Interval[0])}-${fixed(test.macroF1Interval[1])}` : ''}`,
    `  test log loss ${fixed(test.logLoss)}`,
  ];
  if (val) lines.push(`  val accuracy  ${pct(val.accuracy)}`);
  lines.push('  per-class test F1:');
  for (const [name, f1] of Object.entries(test.perClassF1)) lines.push(`    ${name.padEnd(width)}  ${fixed(f1)}`);
  if (summary.audit) {
    const a = summary.audit;
    lines.push(
      `  label audit   ${a.labelIssues} suspected label issues, ${a.noConfidentClass} with no confident class (${a.folds}-fold, ${a.cached ? `from the audit cache, computed in ${a.cached.computedSeconds.toFixed(1)}s` : `${a.seconds.toFixed(1)}s`})` +
        (a.excludedFromTraining > 0 ? `; ${a.excludedFromTraining} left out of training` : '') +
        '; see the run page or `runs show`',
    );
  }
  const e = summary.extraction;
  lines.push(
    `  features      ${e.extracted} extracted, ${e.cached} from cache` + (e.imagesPerSecond ? ` (${e.imagesPerSecond.toFixed(1)} images/s)` : ''),
    `  recorded in   ${relative(summary.store)}`,
  );
  return lines.join('\n');
}

/** `runs list`: one line per run. */
export function formatRunList(runs: readonly Run[]): string {
  if (runs.length === 0) return 'no runs';
  return runs
    .map((r) => {
      const took = r.durationMs === null ? '' : `  ${formatDuration(r.durationMs / 1000)}`;
      return `${r.id}  ${r.status.padEnd(11)}  ${r.startTime}  ${r.name}${took}`;
    })
    .join('\n');
}

/** One line per sweep event. */
export function formatSweepEvent(event: SweepEvent): string {
  switch (event.type) {
    case 'sweep-start':
      return event.resumed
        ? `sweep ${event.sweep.id} resumed: ${event.alreadyDone} of ${event.total} runs already completed`
        : `sweep ${event.sweep.id}: ${event.total} runs over ${Object.keys(event.sweep.definition).join(', ')}`;
    case 'sweep-run-start':
      return `\n── sweep run ${event.index + 1}/${event.total}: ${event.label}`;
    case 'sweep-run-skip':
      return `── sweep run ${event.index + 1}/${event.total}: ${event.label} already completed (${event.runId}), skipped`;
    case 'sweep-run-end':
      return event.status === 'completed'
        ? `── sweep run ${event.index + 1}/${event.total} completed: test accuracy ${pct(event.testAccuracy ?? NaN)}`
        : `── sweep run ${event.index + 1}/${event.total} FAILED (the sweep goes on): ${event.error}`;
  }
}

const mean = (s: SampleSummary): string =>
  `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}` + (s.interval ? ` [${(100 * s.interval.low).toFixed(2)}, ${(100 * s.interval.high).toFixed(2)}]` : '');

/** The sweep's outcome table and its seed groups. */
export function formatSweepSummary(result: SweepResult): string {
  const { sweep, outcomes, groups } = result;
  const keys = Object.keys(sweep.definition);
  const lines = ['', `sweep ${sweep.id} ${sweep.status}: ${outcomes.filter((o) => o.status !== 'failed').length}/${outcomes.length} runs completed`];
  const header = ['#', ...keys, 'status', 'test acc', 'run'];
  const rows = outcomes.map((o) => [
    String(o.index + 1),
    ...keys.map((k) => JSON.stringify(o.point[k])),
    o.status,
    o.testAccuracy === null ? '-' : pct(o.testAccuracy),
    o.runId ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, maxOf(rows.map((r) => r[i].length))));
  for (const row of [header, ...rows]) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd());
  const varying = keys.filter((k) => k !== 'seed');
  if (groups.length > 0) {
    lines.push('', 'across seeds (mean ± std, 95% t-interval, in %):');
    for (const group of groups) {
      const first = outcomes.find((o) => o.runId === group.runIds[0]);
      const label = varying.length > 0 && first ? varying.map((k) => `${k}=${JSON.stringify(first.point[k])}`).join(' ') : 'all runs';
      const acc = group.metrics[METRIC_KEYS.testAccuracy];
      const f1 = group.metrics[METRIC_KEYS.testMacroF1];
      lines.push(`  ${label} (n=${group.runIds.length}): test accuracy ${acc ? mean(acc) : '-'}; macro-F1 ${f1 ? mean(f1) : '-'}`);
    }
  }
  return lines.join('\n');
}

/** `runs sweeps`: each sweep with its run statuses and seed-group means. */
export function formatSweepList(entries: readonly { sweep: Sweep; runs: readonly Run[]; groups: readonly SeedGroup[]; progress?: SweepProgress }[]): string {
  if (entries.length === 0) return 'no sweeps';
  return entries
    .map(({ sweep, runs, groups, progress }) => {
      const completed = runs.filter((r) => r.status === 'completed').length;
      const lines = [
        `${sweep.id}  ${sweep.status.padEnd(11)}  ${sweep.startTime}  ${sweep.name}  ${completed}/${sweep.size} completed  (${Object.keys(sweep.definition).join(' x ')})`,
      ];
      if (progress && sweep.status !== 'completed') {
        lines.push(`    points: ${progress.queued} queued, ${progress.running} running, ${progress.done} done, ${progress.failed} failed`);
      }
      for (const group of groups) {
        const acc = group.metrics[METRIC_KEYS.testAccuracy];
        if (acc) lines.push(`    seeds ${group.seeds.join(',')}: test accuracy ${mean(acc)}`);
      }
      return lines.join('\n');
    })
    .join('\n');
}

/** `runs show <id>`: everything recorded about one run, in reading order. */
export function formatRunDetails(view: RunView, skipped: readonly SkippedFile[]): string {
  const { run, dataset, extractor } = view;
  const final = Object.entries(view.final).map(([key, value]) => ({ key, value }));
  const epochs = Math.max(0, maxOf(Object.values(view.curves).flatMap((points) => points.map((p) => p.x))));
  const lines = [
    `run ${run.id}  ${run.name}  ${run.status}`,
    `  started ${run.startTime}${run.endTime ? `, ended ${run.endTime}` : ''}${run.durationMs !== null ? ` (${formatDuration(run.durationMs / 1000)})` : ''}`,
    `  seed ${run.seed}, config ${short(run.configHash)}${run.sweepId ? `, sweep ${run.sweepId} #${(run.sweepIndex ?? 0) + 1}` : ''}`,
  ];
  if (run.error) lines.push(`  error: ${run.error}`);
  lines.push('environment:', ...Object.entries(run.environment).map(([k, v]) => `  ${k} = ${v}`));
  if (dataset) {
    lines.push(
      'dataset:',
      `  ${dataset.path} (fingerprint ${short(dataset.fingerprint)}, split hash ${short(dataset.splitHash)})`,
      ...dataset.classes.map((c) => `  ${c.padEnd(16)} train ${dataset.splitCounts.train[c] ?? 0}, val ${dataset.splitCounts.val[c] ?? 0}, test ${dataset.splitCounts.test[c] ?? 0}`),
    );
  }
  if (skipped.length > 0) lines.push(`skipped files (${skipped.length}):`, ...skipped.map((f) => `  ${f.path}: ${f.reason}`));
  if (Object.keys(extractor).length > 0) lines.push('extractor:', ...Object.entries(extractor).map(([k, v]) => `  ${k} = ${v}`));
  if (epochs > 0) lines.push(`learning curves: ${epochs} epochs`);
  if (final.length > 0) lines.push('metrics:', ...final.map((m) => `  ${m.key.padEnd(32)} ${Number.isInteger(m.value) ? m.value : m.value.toFixed(6)}`));
  lines.push('config:', ...run.configText.trimEnd().split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}
