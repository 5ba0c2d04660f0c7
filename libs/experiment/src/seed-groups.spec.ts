import { seedGroupKey, summarizeSeedGroups, type RunForGrouping } from './seed-groups';

const config = (seed: number, learningRate: number) => ({ name: 'x', seed, train: { learningRate, epochs: 5 } });

describe('summarizeSeedGroups', () => {
  const runs: RunForGrouping[] = [
    { id: 'a', seed: 1, resolvedConfig: config(1, 0.001), metrics: { 'test.accuracy': 0.88 } },
    { id: 'b', seed: 2, resolvedConfig: config(2, 0.001), metrics: { 'test.accuracy': 0.9 } },
    { id: 'c', seed: 3, resolvedConfig: config(3, 0.001), metrics: { 'test.accuracy': 0.89 } },
    { id: 'd', seed: 1, resolvedConfig: config(1, 0.01), metrics: { 'test.accuracy': 0.85, 'val.accuracy': 0.8 } },
  ];

  it('groups runs that differ only by seed', () => {
    expect(seedGroupKey(config(1, 0.001))).toBe(seedGroupKey(config(9, 0.001)));
    expect(seedGroupKey(config(1, 0.001))).not.toBe(seedGroupKey(config(1, 0.01)));
    const groups = summarizeSeedGroups(runs);
    expect(groups.map((g) => g.runIds)).toEqual([['a', 'b', 'c'], ['d']]);
    expect(groups[0].seeds).toEqual([1, 2, 3]);
  });

  it('gives mean, std and the t-interval per metric', () => {
    const [group] = summarizeSeedGroups(runs);
    const accuracy = group.metrics['test.accuracy'];
    expect(accuracy.mean).toBeCloseTo(0.89, 12);
    expect(accuracy.std).toBeCloseTo(0.01, 12);
    // t(0.975, 2) = 4.302653; half width = 4.302653 * 0.01 / sqrt(3)
    expect(accuracy.interval?.high).toBeCloseTo(0.89 + (4.302653 * 0.01) / Math.sqrt(3), 6);
  });

  it('summarises only metrics every run of the group has', () => {
    const groups = summarizeSeedGroups([runs[3], { ...runs[3], id: 'e', seed: 2, metrics: { 'test.accuracy': 0.86 } }]);
    expect(Object.keys(groups[0].metrics)).toEqual(['test.accuracy']);
  });
});
