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
  return checkedFinal(data, audit).verification;
}

/**
 * A run's final metrics as a verdict may use them: every value derivable from the stored
 * predictions is the recomputed one (so an edited logged number is not shown as the result),
 * the rest (train metrics, times) as logged; with the verification, null for unfinished runs.
 */
export function checkedFinal(data: RunData, audit: readonly AuditResult[] = []): { final: Readonly<Record<string, number>>; verification: VerificationView | null } {
  if (data.run.status !== 'completed') return { final: data.final, verification: null };
  const v = verifyRecord({ runId: data.run.id, seed: data.run.seed, recorded: data.final, dataset: data.dataset, split: data.split, predictions: data.predictions, audit }, { intervals: false });
  return { final: { ...data.final, ...v.recomputed }, verification: { ok: v.ok, checked: v.checked.length, problems: describeVerificationProblems(v, 8) } };
}
