import { describeVerificationProblems, verifyRecord } from '@mlbench/experiment/results';
import type { AuditResult } from '@mlbench/tracking';
import type { RunData } from './run-data';

/** What the run page says about a run's numbers against its predictions. */
export interface VerificationView {
  ok: boolean;
  checked: number;
  /** One line per mismatch or problem. */
  problems: readonly string[];
}

/** Recomputes a completed run's prediction-derived metrics (without bootstrap intervals: cheap). */
export function verificationView(data: RunData, audit: readonly AuditResult[]): VerificationView | null {
  if (data.run.status !== 'completed') return null;
  const v = verifyRecord({ runId: data.run.id, seed: data.run.seed, recorded: data.final, dataset: data.dataset, split: data.split, predictions: data.predictions, audit }, { intervals: false });
  return { ok: v.ok, checked: v.checked.length, problems: describeVerificationProblems(v, 8) };
}
