import { seedGroupKey } from '../seed-groups';
import type { SeedResult } from '../seed-results';
import { verdictMetrics } from '../seed-results';
import { makeTask, SPLIT_PROCEDURE, type BenchmarkTask } from '../task';

/** Test fixture: a seed result with `correct` of `count` test images right (4 classes). */
export function fakeSeedResult(options: {
  seed: number;
  correct: number;
  count?: number;
  config?: Record<string, unknown>;
  task?: Partial<Omit<BenchmarkTask, 'key'>>;
  splitHash?: string;
  name?: string;
}): SeedResult {
  const count = options.count ?? 200;
  const config = options.config ?? { name: options.name ?? 'fake', train: { learningRate: 0.001 } };
  const task = makeTask({
    datasetFingerprint: 'ab'.repeat(32),
    split: { train: 0.7, val: 0.1, test: 0.2 },
    splitProcedure: SPLIT_PROCEDURE,
    classes: ['a', 'b', 'c', 'd'],
    metric: 'test.accuracy',
    ...options.task,
  });
  // Image i of seed s has class i % 4; the first `correct` images are right, the rest one class off.
  const test = Array.from({ length: count }, (_, i) => ({ path: `img-${i}.png`, trueLabel: i % 4, predictedLabel: i < options.correct ? i % 4 : (i + 1) % 4 }));
  return {
    seed: options.seed,
    runId: null,
    source: `fake seed ${options.seed}`,
    name: options.name ?? 'fake',
    configKey: seedGroupKey({ ...config, seed: 0 }),
    config,
    task,
    splitHash: options.splitHash ?? `split-${options.seed}`,
    metrics: verdictMetrics(test, 4),
    test,
    cost: { headParameters: 100, extractionSeconds: 1, extractedImages: 0, trainSeconds: 1 },
  };
}
