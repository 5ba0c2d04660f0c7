import { metricsFromPredictions } from './prediction-metrics';
import { verifyRecord, type VerifiableRun } from './verify';

const classes = ['cat', 'dog'];
// Test: 3 of 4 right; val: 2 of 2 right.
const predictions = [
  { path: 'cat/1.png', split: 'test', trueLabel: 0, predictedLabel: 0, probabilities: [0.9, 0.1] },
  { path: 'cat/2.png', split: 'test', trueLabel: 0, predictedLabel: 1, probabilities: [0.4, 0.6] },
  { path: 'dog/1.png', split: 'test', trueLabel: 1, predictedLabel: 1, probabilities: [0.2, 0.8] },
  { path: 'dog/2.png', split: 'test', trueLabel: 1, predictedLabel: 1, probabilities: [0.3, 0.7] },
  { path: 'cat/3.png', split: 'val', trueLabel: 0, predictedLabel: 0, probabilities: [0.8, 0.2] },
  { path: 'dog/3.png', split: 'val', trueLabel: 1, predictedLabel: 1, probabilities: [0.1, 0.9] },
];
const split = predictions.map((p) => ({ path: p.path, label: p.trueLabel, split: p.split as 'test' | 'val' }));
const dataset = { fingerprint: 'f', classes, splitCounts: { train: { cat: 0, dog: 0 }, val: { cat: 1, dog: 1 }, test: { cat: 2, dog: 2 } } };
const honest = (): VerifiableRun => {
  const recorded = { ...metricsFromPredictions(predictions, { seed: 1, classes, intervals: true }), 'train.accuracy': 0.99, 'time.train_seconds': 3 };
  return { runId: 'r1', seed: 1, recorded, dataset, split, predictions, audit: [] };
};

describe('metricsFromPredictions', () => {
  it('computes the pipeline metrics from predictions (hand-checked values)', () => {
    const m = metricsFromPredictions(predictions, { seed: 1, classes });
    expect(m['test.accuracy']).toBe(0.75);
    expect(m['test.count']).toBe(4);
    // cat: precision 1, recall 0.5, F1 2/3; dog: precision 2/3, recall 1, F1 0.8.
    expect(m['test.f1.cat']).toBeCloseTo(2 / 3, 12);
    expect(m['test.f1.dog']).toBeCloseTo(0.8, 12);
    expect(m['test.macro_f1']).toBeCloseTo((2 / 3 + 0.8) / 2, 12);
    expect(m['test.log_loss']).toBeCloseTo(-(Math.log(0.9) + Math.log(0.4) + Math.log(0.8) + Math.log(0.7)) / 4, 12);
    expect(m['val.accuracy']).toBe(1);
    expect(m['test.accuracy.ci_low']).toBeUndefined();
  });
  it('leaves label issues out of the _clean metrics', () => {
    const m = metricsFromPredictions(predictions, { seed: 1, classes, labelIssues: new Set(['cat/2.png']) });
    expect(m['test_clean.accuracy']).toBe(1);
    expect(m['test_clean.count']).toBe(3);
  });
});

describe('verifyRecord', () => {
  it('accepts a run whose logged metrics follow from its predictions', () => {
    const v = verifyRecord(honest());
    expect(v.ok).toBe(true);
    expect(v.checked).toContain('test.accuracy');
    expect(v.checked).toContain('test.accuracy.ci_low');
    expect(v.notDerivable).toEqual(['train.accuracy']);
  });

  it('flags an edited metric with both numbers', () => {
    const run = honest();
    const v = verifyRecord({ ...run, recorded: { ...run.recorded, 'test.accuracy': 0.95 } });
    expect(v.ok).toBe(false);
    expect(v.mismatches).toEqual([{ key: 'test.accuracy', recorded: 0.95, recomputed: 0.75 }]);
  });

  it('flags predictions inconsistent with their probabilities or the split', () => {
    const run = honest();
    const edited = run.predictions.map((p) => (p.path === 'cat/2.png' ? { ...p, predictedLabel: 0 } : p));
    expect(verifyRecord({ ...run, predictions: edited }).predictionProblems).toEqual([
      '1 prediction(s) whose predicted class is not the most probable one: cat/2.png',
    ]);
    const relabelled = run.split.map((m) => (m.path === 'dog/1.png' ? { ...m, label: 0 } : m));
    expect(verifyRecord({ ...run, split: relabelled }).predictionProblems[0]).toMatch(/true class differs from the recorded split: dog\/1\.png/);
    const truncated = run.predictions.filter((p) => p.path !== 'dog/2.png');
    const v = verifyRecord({ ...run, predictions: truncated });
    expect(v.predictionProblems).toContain('test: 3 stored predictions for 4 test images');
    expect(v.ok).toBe(false);
  });
});
