import * as path from 'node:path';
import type { PipelineEvent, RunSummary } from '@mlbench/experiment';

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
      return `engine     ${b.engine} ${b.engineVersion}, backend ${b.backend}${hint}`;
    }
    case 'dataset':
      return (
        `dataset    ${relative(event.root)}: ${event.images} images, ${event.classes.length} classes (${event.classes.join(', ')}), fingerprint ${short(event.fingerprint)}\n` +
        `split      train ${event.splitSizes.train}, val ${event.splitSizes.val}, test ${event.splitSizes.test} (stratified, hash ${short(event.splitHash)})`
      );
    case 'extractor': {
      const d = event.description;
      return `extractor  ${d.format} ${relative(d.source)} (sha256 ${short(d.sha256)}), ${d.featureDim}-d features from "${d.featureLayer}", input ${d.inputShape.join('x')}`;
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
  const width = Math.max(...summary.classes.map((c) => c.length), 5);
  const lines = [
    '',
    `run ${run.id} ${run.status} in ${formatDuration((run.durationMs ?? 0) / 1000)}`,
    `  split         train ${summary.splitSizes.train} / val ${summary.splitSizes.val} / test ${summary.splitSizes.test}  (seed ${run.seed}, hash ${short(summary.splitHash)})`,
    `  test accuracy ${pct(test.accuracy)}  (${Math.round(test.accuracy * test.count)}/${test.count})`,
    `  test macro-F1 ${fixed(test.macroF1)}`,
    `  test log loss ${fixed(test.logLoss)}`,
  ];
  if (val) lines.push(`  val accuracy  ${pct(val.accuracy)}`);
  lines.push('  per-class test F1:');
  for (const [name, f1] of Object.entries(test.perClassF1)) lines.push(`    ${name.padEnd(width)}  ${fixed(f1)}`);
  const e = summary.extraction;
  lines.push(
    `  features      ${e.extracted} extracted, ${e.cached} from cache` + (e.imagesPerSecond ? ` (${e.imagesPerSecond.toFixed(1)} images/s)` : ''),
    `  recorded in   ${relative(summary.store)}`,
  );
  return lines.join('\n');
}
