/**
 * Bounds and consistency checks of an imported run, beyond its JSON schema. An export file comes
 * from someone else: its labels index class lists, its arrays are drawn in pages, its names reach
 * terminals and its nesting reaches recursive code. Everything here is refused before a single
 * row is written, with the field named.
 */

import type { RunExport } from './run-export';

export const RUN_EXPORT_LIMITS = {
  /** Largest export file read (a run of the 3,670-photo canonical experiment exports about 2 MB). */
  fileBytes: 512 * 1024 * 1024,
  /** Deepest nesting of arrays and objects anywhere in the document (resolved configs nest about 5). */
  jsonDepth: 64,
  /** Most classes of an imported run. */
  classes: 2000,
  /** Most split members (images) of an imported run. */
  images: 5_000_000,
  /** Longest class name, run name and image path. */
  nameLength: 1024,
} as const;

/** Same rule as a config's `name`. */
const RUN_NAME = /^[A-Za-z0-9._-]+$/;
// C0 controls, DEL and C1 controls (ESC starts terminal sequences; CSI is U+009B).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SHA256 = /^[0-9a-f]{64}$/;

// Shared with model.json loading; re-exported for this module's callers.
export { jsonDepth } from '@mlbench/common';

/** A recorded relative image path: `/`-separated plain segments, no "..", no control characters. */
function isRelativePath(p: string): boolean {
  if (p.length === 0 || p.length > RUN_EXPORT_LIMITS.nameLength || CONTROL.test(p) || p.startsWith('/') || p.includes('\\')) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** The first problem of a schema-valid export as "field: what is wrong", or null. */
export function runExportProblem(data: RunExport): string | null {
  const { run } = data;
  if (!RUN_NAME.test(run.name) || run.name.length > RUN_EXPORT_LIMITS.nameLength) {
    return `run.name: expected a name of letters, digits, ".", "_" or "-" (as a config's name), got ${JSON.stringify(run.name.slice(0, 80))}`;
  }
  const classes = data.dataset?.classes ?? null;
  if (classes) {
    if (classes.length > RUN_EXPORT_LIMITS.classes) return `dataset.classes: ${classes.length} classes, more than the ${RUN_EXPORT_LIMITS.classes} an imported run may have`;
    const seen = new Set<string>();
    for (const [i, name] of classes.entries()) {
      if (name.length === 0 || name.length > RUN_EXPORT_LIMITS.nameLength || CONTROL.test(name)) {
        return `dataset.classes.${i}: a class name must be 1-${RUN_EXPORT_LIMITS.nameLength} characters without control characters, got ${JSON.stringify(name.slice(0, 80))}`;
      }
      if (seen.has(name)) return `dataset.classes.${i}: class ${JSON.stringify(name)} is listed twice`;
      seen.add(name);
    }
  }
  if (data.split.length > RUN_EXPORT_LIMITS.images) return `split: ${data.split.length} images, more than the ${RUN_EXPORT_LIMITS.images} an imported run may have`;
  const n = classes?.length ?? 0;
  const label = (field: string, value: number | null): string | null =>
    value === null || (value >= 0 && value < n) ? null : `${field}: label ${value} is outside the run's ${n} classes (0 to ${n - 1})`;
  const inSplit = new Set<string>();
  for (const [i, m] of data.split.entries()) {
    if (!isRelativePath(m.path)) return `split.${i}.path: expected a relative path inside the dataset, got ${JSON.stringify(m.path.slice(0, 120))}`;
    if (!SHA256.test(m.sha256)) return `split.${i}.sha256: expected 64 lowercase hex digits`;
    const problem = label(`split.${i}.label`, m.label);
    if (problem) return problem;
    inSplit.add(m.path);
  }
  if (data.predictions.length > data.split.length) return `predictions: ${data.predictions.length} predictions for ${data.split.length} images`;
  for (const [i, p] of data.predictions.entries()) {
    if (!inSplit.has(p.path)) return `predictions.${i}.path: ${JSON.stringify(p.path.slice(0, 120))} is not an image of the split`;
    const problem = label(`predictions.${i}.trueLabel`, p.trueLabel) ?? label(`predictions.${i}.predictedLabel`, p.predictedLabel);
    if (problem) return problem;
    if (p.probabilities.length !== n) return `predictions.${i}.probabilities: ${p.probabilities.length} values for ${n} classes`;
  }
  const audit = data.audit ?? [];
  if (audit.length > data.split.length) return `audit: ${audit.length} entries for ${data.split.length} images`;
  for (const [i, a] of audit.entries()) {
    if (!inSplit.has(a.path)) return `audit.${i}.path: ${JSON.stringify(a.path.slice(0, 120))} is not an image of the split`;
    const problem = label(`audit.${i}.givenLabel`, a.givenLabel) ?? label(`audit.${i}.suggestedLabel`, a.suggestedLabel);
    if (problem) return problem;
    if (a.probabilities.length !== n) return `audit.${i}.probabilities: ${a.probabilities.length} values for ${n} classes`;
  }
  for (const [i, f] of data.skippedFiles.entries()) {
    if (!isRelativePath(f.path)) return `skippedFiles.${i}.path: expected a relative path inside the dataset, got ${JSON.stringify(f.path.slice(0, 120))}`;
  }
  return null;
}
