import { diffRuns, type RunSnapshot } from './run-diff';

const base: RunSnapshot = {
  splitHash: 'abc',
  datasetFingerprint: 'fp',
  metrics: { 'test.accuracy': 0.9, 'val.accuracy': 0.88, 'time.train_seconds': 1.2 },
  predictions: [
    { path: 'a.jpg', split: 'test', predictedLabel: 1, probabilities: [0.2, 0.8] },
    { path: 'b.jpg', split: 'test', predictedLabel: 0, probabilities: [0.6, 0.4] },
  ],
  environment: { 'git.commit': 'c1', 'tfjs.backend': 'wasm' },
};

describe('diffRuns', () => {
  it('treats timings as noise and equal results as identical', () => {
    const diff = diffRuns(base, { ...base, metrics: { ...base.metrics, 'time.train_seconds': 9 } });
    expect(diff).toEqual({ identical: true, differences: [], warnings: [] });
  });

  it('reports metric, split and prediction differences beyond the tolerance', () => {
    const fresh: RunSnapshot = {
      ...base,
      splitHash: 'xyz',
      metrics: { ...base.metrics, 'test.accuracy': 0.9 + 1e-7, 'val.accuracy': 0.87 },
      predictions: [base.predictions[0], { ...base.predictions[1], predictedLabel: 1, probabilities: [0.4, 0.6] }],
    };
    const diff = diffRuns(base, fresh);
    expect(diff.identical).toBe(false);
    expect(diff.differences).toEqual([
      'split hash: recorded abc, now xyz',
      'val.accuracy: recorded 0.88, now 0.87 (diff -1.00e-2)',
      '1 per-image prediction(s) differ, e.g. test b.jpg: predicted 0, now 1',
    ]);
  });

  it('warns when code, data or backend changed', () => {
    const diff = diffRuns(base, { ...base, datasetFingerprint: 'fp2', environment: { 'git.commit': 'c2', 'tfjs.backend': 'wasm' } });
    expect(diff.identical).toBe(true);
    expect(diff.warnings).toEqual(['git commit differs: recorded c1, now c2', 'data fingerprint differs: recorded fp, now fp2']);
  });
});
