/**
 * Classification metrics as pure functions over integer labels 0..k-1.
 * Conventions follow scikit-learn: confusion rows are true classes, columns predicted;
 * precision/recall/F1 are 0 when their denominator is 0 (no NaN reaches a report).
 */

/** Inputs a metric is undefined for (no samples, mismatched lengths, labels out of range): bad input. */
export class MetricsInputError extends Error {
  override name = 'MetricsInputError';
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true instances of the class. */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  /** Mean negative log-likelihood of the true class (natural log). */
  logLoss: number;
  confusion: number[][];
  perClass: ClassMetrics[];
  count: number;
}

function checkLabels(yTrue: readonly number[], yPred: readonly number[], numClasses?: number): void {
  if (yTrue.length !== yPred.length) {
    throw new MetricsInputError(`label arrays differ in length: ${yTrue.length} true vs ${yPred.length} predicted`);
  }
  if (numClasses !== undefined) {
    for (const y of [...yTrue, ...yPred]) {
      if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
        throw new MetricsInputError(`label ${y} is not an integer in [0, ${numClasses})`);
      }
    }
  }
}

/** Fraction of positions where the prediction equals the truth. */
export function accuracy(yTrue: readonly number[], yPred: readonly number[]): number {
  checkLabels(yTrue, yPred);
  if (yTrue.length === 0) throw new MetricsInputError('accuracy of zero samples is undefined');
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/** `numClasses x numClasses` counts; `m[t][p]` = samples of true class t predicted as p. */
export function confusionMatrix(yTrue: readonly number[], yPred: readonly number[], numClasses: number): number[][] {
  checkLabels(yTrue, yPred, numClasses);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

const safeDivide = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Precision, recall, F1 and support of every class, from a confusion matrix. */
export function perClassMetrics(confusion: readonly (readonly number[])[]): ClassMetrics[] {
  const k = confusion.length;
  return confusion.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += confusion[t][c];
    const precision = safeDivide(tp, predicted);
    const recall = safeDivide(tp, support);
    return { precision, recall, f1: safeDivide(2 * precision * recall, precision + recall), support };
  });
}

/** Unweighted mean of the per-class F1 scores. */
export function macroF1(confusion: readonly (readonly number[])[]): number {
  const perClass = perClassMetrics(confusion);
  return perClass.reduce((sum, c) => sum + c.f1, 0) / perClass.length;
}

/**
 * Mean cross-entropy of the true class. Probabilities are clipped to [eps, 1-eps] like
 * scikit-learn so one confident mistake gives a large but finite loss.
 */
export function logLoss(yTrue: readonly number[], probabilities: readonly (readonly number[])[], eps = 1e-15): number {
  if (yTrue.length !== probabilities.length) {
    throw new MetricsInputError(`got ${yTrue.length} labels but ${probabilities.length} probability rows`);
  }
  if (yTrue.length === 0) throw new MetricsInputError('log loss of zero samples is undefined');
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = probabilities[i][yTrue[i]];
    if (p === undefined) throw new MetricsInputError(`label ${yTrue[i]} has no probability in row ${i}`);
    total -= Math.log(Math.min(Math.max(p, eps), 1 - eps));
  }
  return total / yTrue.length;
}

/** Index of the largest value (first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Everything a run records for one split. */
export function classificationReport(
  yTrue: readonly number[],
  probabilities: readonly (readonly number[])[],
  numClasses: number,
): ClassificationReport {
  const yPred = probabilities.map((p) => argmax(p));
  const confusion = confusionMatrix(yTrue, yPred, numClasses);
  return {
    accuracy: accuracy(yTrue, yPred),
    macroF1: macroF1(confusion),
    logLoss: logLoss(yTrue, probabilities),
    confusion,
    perClass: perClassMetrics(confusion),
    count: yTrue.length,
  };
}
