import { MetricsInputError, accuracy, argmax, classificationReport, confusionMatrix, logLoss, macroF1, perClassMetrics } from './classification';

// Hand-computed case: 3 classes, 8 samples.
//   true: 0 0 0 1 1 1 2 2
//   pred: 0 0 1 1 1 2 2 0
const yTrue = [0, 0, 0, 1, 1, 1, 2, 2];
const yPred = [0, 0, 1, 1, 1, 2, 2, 0];

describe('accuracy', () => {
  it('counts exact matches', () => {
    expect(accuracy(yTrue, yPred)).toBeCloseTo(5 / 8, 12);
  });
  it('rejects mismatched lengths and empty input', () => {
    expect(() => accuracy([0], [0, 1])).toThrow(MetricsInputError);
    expect(() => accuracy([], [])).toThrow(/zero samples/);
  });
});

describe('confusionMatrix', () => {
  it('puts true classes in rows and predictions in columns', () => {
    expect(confusionMatrix(yTrue, yPred, 3)).toEqual([
      [2, 1, 0],
      [0, 2, 1],
      [1, 0, 1],
    ]);
  });
  it('rejects labels outside the class range', () => {
    expect(() => confusionMatrix([0, 3], [0, 0], 3)).toThrow(/label 3/);
  });
});

describe('perClassMetrics and macroF1', () => {
  const m = confusionMatrix(yTrue, yPred, 3);
  it('matches hand-computed precision, recall and F1', () => {
    const [c0, c1, c2] = perClassMetrics(m);
    // class 0: tp 2, predicted 3, support 3 -> p 2/3, r 2/3, f1 2/3
    expect(c0.precision).toBeCloseTo(2 / 3, 12);
    expect(c0.recall).toBeCloseTo(2 / 3, 12);
    expect(c0.f1).toBeCloseTo(2 / 3, 12);
    expect(c0.support).toBe(3);
    // class 1: tp 2, predicted 3, support 3
    expect(c1.f1).toBeCloseTo(2 / 3, 12);
    // class 2: tp 1, predicted 2, support 2 -> p 1/2, r 1/2, f1 1/2
    expect(c2.precision).toBeCloseTo(0.5, 12);
    expect(c2.recall).toBeCloseTo(0.5, 12);
    expect(c2.f1).toBeCloseTo(0.5, 12);
    expect(macroF1(m)).toBeCloseTo((2 / 3 + 2 / 3 + 1 / 2) / 3, 12);
  });
  it('gives 0, not NaN, for a class never predicted nor present', () => {
    const [, absent] = perClassMetrics([
      [3, 0],
      [0, 0],
    ]);
    expect(absent).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
  });
  it('averages unweighted over imbalanced classes', () => {
    // class 0: tp 1 of 2 predicted, 2 true -> F1 0.5; class 1: tp 3 of 4 predicted, 4 true -> F1 0.75
    const cm = confusionMatrix([0, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 0], 2);
    expect(macroF1(cm)).toBeCloseTo(0.625, 12);
  });
});

describe('logLoss', () => {
  it('is the mean negative log-probability of the true class', () => {
    const probs = [
      [0.9, 0.1],
      [0.2, 0.8],
      [0.6, 0.4],
    ];
    const expected = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.4)) / 3;
    expect(logLoss([0, 1, 1], probs)).toBeCloseTo(expected, 12);
  });
  it('clips zero probabilities to a finite loss', () => {
    expect(logLoss([0], [[0, 1]])).toBeCloseTo(-Math.log(1e-15), 6);
  });
});

describe('argmax and classificationReport', () => {
  it('takes the first maximum', () => {
    expect(argmax([0.2, 0.5, 0.5])).toBe(1);
  });
  it('combines the metrics of one split', () => {
    const probs = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.3, 0.3, 0.4],
      [0.5, 0.4, 0.1],
    ];
    const report = classificationReport([0, 1, 2, 1], probs, 3);
    expect(report.accuracy).toBeCloseTo(3 / 4, 12);
    expect(report.confusion).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    expect(report.count).toBe(4);
    // F1: class0 p 1/2 r 1 -> 2/3; class1 p 1 r 1/2 -> 2/3; class2 1
    expect(report.macroF1).toBeCloseTo((2 / 3 + 2 / 3 + 1) / 3, 12);
  });
});
