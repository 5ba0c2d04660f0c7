import { isResultMetric } from './metric-keys';

/** What `reproduce` compares between a recorded run and a fresh run of the same config. */
export interface RunSnapshot {
  splitHash: string | null;
  datasetFingerprint: string | null;
  /** Final metrics (step null), key -> value. */
  metrics: Readonly<Record<string, number>>;
  predictions: readonly { path: string; split: string; predictedLabel: number; probabilities: readonly number[] }[];
  environment: Readonly<Record<string, string>>;
}

export interface RunDiff {
  identical: boolean;
  /** Result differences: any of these makes the reproduction fail. */
  differences: string[];
  /** Context differences (code, data, backend) that explain or qualify the result. */
  warnings: string[];
}


export function diffRuns(recorded: RunSnapshot, fresh: RunSnapshot, tolerance = 1e-6): RunDiff {
  const differences: string[] = [];
  const warnings: string[] = [];
  const context: [string, string | null | undefined, string | null | undefined][] = [
    ['git commit', recorded.environment['git.commit'], fresh.environment['git.commit']],
    ['git dirty', recorded.environment['git.dirty'], fresh.environment['git.dirty']],
    ['data fingerprint', recorded.datasetFingerprint, fresh.datasetFingerprint],
    ['backend', recorded.environment['tfjs.backend'], fresh.environment['tfjs.backend']],
    ['tfjs version', recorded.environment['tfjs.version'], fresh.environment['tfjs.version']],
  ];
  for (const [what, was, now] of context) if (was !== now) warnings.push(`${what} differs: recorded ${was ?? '-'}, now ${now ?? '-'}`);

  if (recorded.splitHash !== fresh.splitHash) differences.push(`split hash: recorded ${recorded.splitHash}, now ${fresh.splitHash}`);
  const keys = new Set([...Object.keys(recorded.metrics), ...Object.keys(fresh.metrics)].filter(isResultMetric));
  for (const key of [...keys].sort()) {
    const was = recorded.metrics[key];
    const now = fresh.metrics[key];
    if (was === undefined || now === undefined) differences.push(`${key}: recorded ${was ?? 'missing'}, now ${now ?? 'missing'}`);
    else if (!(Math.abs(was - now) <= tolerance)) differences.push(`${key}: recorded ${was}, now ${now} (diff ${(now - was).toExponential(2)})`);
  }

  const freshByKey = new Map(fresh.predictions.map((p) => [`${p.split}\0${p.path}`, p]));
  let changedPredictions = 0;
  let changedProbabilities = 0;
  const examples: string[] = [];
  for (const p of recorded.predictions) {
    const q = freshByKey.get(`${p.split}\0${p.path}`);
    if (!q) {
      changedPredictions++;
      if (examples.length < 5) examples.push(`${p.split} ${p.path}: missing in the new run`);
      continue;
    }
    freshByKey.delete(`${p.split}\0${p.path}`);
    if (p.predictedLabel !== q.predictedLabel) {
      changedPredictions++;
      if (examples.length < 5) examples.push(`${p.split} ${p.path}: predicted ${p.predictedLabel}, now ${q.predictedLabel}`);
    } else if (p.probabilities.some((v, i) => !(Math.abs(v - (q.probabilities[i] ?? NaN)) <= tolerance))) {
      changedProbabilities++;
    }
  }
  changedPredictions += freshByKey.size;
  if (changedPredictions > 0) differences.push(`${changedPredictions} per-image prediction(s) differ, e.g. ${examples.join('; ')}`);
  if (changedProbabilities > 0) differences.push(`${changedProbabilities} image(s) with the same prediction but probabilities off by more than ${tolerance}`);
  return { identical: differences.length === 0, differences, warnings };
}
