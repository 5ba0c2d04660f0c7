import { borrowStore } from '@mlbench/tracking';
import { loadConfig } from './config';
import { ConfigError } from './errors';
import { evaluateGate, type GateRule, type GateVerdict } from './gate';
import { runExperiment, type RunExperimentOptions } from './pipeline';
import { snapshotRun } from './reproduce';
import { GateInputError } from './gate-input-error';
import { describeVerificationProblems, verifyRun } from './verify';

export interface GateTarget {
  /** Check this recorded run (id or unique prefix)... */
  runId?: string;
  /** ...or run this config first and check the new run. */
  configFile?: string;
  /** Baseline run for max-drop / max-rise rules. */
  baselineRunId?: string;
}

export interface GateResult {
  runId: string;
  baselineRunId: string | null;
  pass: boolean;
  verdicts: GateVerdict[];
}

/** Checks a run (or a fresh run of a config) against thresholds and/or a baseline run. */
export async function gateRun(target: GateTarget, rules: readonly GateRule[], options: RunExperimentOptions): Promise<GateResult> {
  if (Boolean(target.runId) === Boolean(target.configFile)) {
    throw new ConfigError('gate: give either a run id or --config <file>, not both', '(command line)');
  }
  if (rules.length === 0) throw new ConfigError('gate: no rules; add e.g. --min test.accuracy=0.87', '(command line)');
  const { store, release } = await borrowStore(options);
  try {
    let runId = target.runId ?? '';
    if (target.configFile) runId = (await runExperiment(await loadConfig(target.configFile), { ...options, store })).run.id;
    const run = await snapshotRun(store, runId);
    const baseline = target.baselineRunId ? await snapshotRun(store, target.baselineRunId) : null;
    // Prediction-derived metrics are judged as recomputed from the stored predictions; a run whose
    // logged numbers disagree with them is refused rather than judged.
    const checked = async (id: string, metrics: Readonly<Record<string, number>>): Promise<Record<string, number>> => {
      const verification = await verifyRun(store, id, { intervals: false });
      if (!verification.ok) {
        throw new GateInputError(`run ${id}: its logged numbers do not match its stored predictions, so the gate refuses it:\n  ${describeVerificationProblems(verification).join('\n  ')}\n  (check with: npx nx run runner -- verify ${id})`);
      }
      return { ...metrics, ...verification.recomputed };
    };
    const metrics = await checked(run.runId, run.metrics);
    const baselineMetrics = baseline ? await checked(baseline.runId, baseline.metrics) : null;
    const { pass, verdicts } = evaluateGate(metrics, rules, baselineMetrics);
    return { runId: run.runId, baselineRunId: baseline?.runId ?? null, pass, verdicts };
  } finally {
    await release();
  }
}
