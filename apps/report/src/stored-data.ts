/**
 * Checks of one run's stored data before pages are built from it. A shared database can be edited
 * by anyone, so the labels and arrays a page indexes with are checked here once, and a run that
 * fails is named and skipped (generate.ts) instead of crashing the whole report.
 */

import type { AuditResult } from '@mlbench/tracking';
import { InvalidStoredDataError } from './errors';
import type { RunData } from './run-data';

const isLabel = (value: unknown, classCount: number): boolean => Number.isInteger(value) && (value as number) >= 0 && (value as number) < classCount;

/** Throws InvalidStoredDataError naming the first record whose labels or probabilities do not fit the run's classes. */
export function checkRunData(data: RunData, audit: readonly AuditResult[] = []): void {
  const classes = data.dataset?.classes;
  if (!classes) return;
  const n = classes.length;
  const fail = (what: string): never => {
    throw new InvalidStoredDataError(`run ${data.run.id}: ${what} (the run has ${n} classes)`);
  };
  for (const m of data.split) if (!isLabel(m.label, n)) fail(`split member ${JSON.stringify(m.path)} has label ${m.label}`);
  for (const p of data.predictions) {
    if (!isLabel(p.trueLabel, n)) fail(`prediction for ${JSON.stringify(p.path)} has trueLabel ${p.trueLabel}`);
    if (!isLabel(p.predictedLabel, n)) fail(`prediction for ${JSON.stringify(p.path)} has predictedLabel ${p.predictedLabel}`);
    if (p.probabilities.length !== n) fail(`prediction for ${JSON.stringify(p.path)} has ${p.probabilities.length} probabilities`);
  }
  for (const a of audit) {
    if (!isLabel(a.givenLabel, n)) fail(`audit result for ${JSON.stringify(a.path)} has givenLabel ${a.givenLabel}`);
    if (a.suggestedLabel !== null && !isLabel(a.suggestedLabel, n)) fail(`audit result for ${JSON.stringify(a.path)} has suggestedLabel ${a.suggestedLabel}`);
    if (a.probabilities.length !== n) fail(`audit result for ${JSON.stringify(a.path)} has ${a.probabilities.length} probabilities`);
  }
}
