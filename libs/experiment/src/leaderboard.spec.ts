import { holmAdjust, pairedMeanDifference, twoSidedPValue, welchMeanDifference } from '@mlbench/metrics';
import { buildLeaderboards } from './leaderboard';
import { fakeSeedResult } from './testing/fake-seed-result';

const cfg = (learningRate: number) => ({ name: 'fake', train: { learningRate } });
const group = (learningRate: number, correct: number[], seeds = [1, 2, 3], extra = {}) =>
  seeds.map((seed, i) => fakeSeedResult({ seed, correct: correct[i], config: cfg(learningRate), ...extra }));

describe('buildLeaderboards', () => {
  const a = group(0.001, [180, 178, 182]);
  const b = group(0.01, [170, 169, 171]);
  const c = group(0.1, [190], [1]);
  const d = group(0.003, [179, 181, 176], [7, 8, 9]);
  const otherTask = group(0.001, [100, 100, 100], [1, 2, 3], { task: { datasetFingerprint: 'cd'.repeat(32) } });
  const [board, other] = buildLeaderboards([...b, ...a, ...c, ...d, ...otherTask]);

  it('groups by task, never ranking other data together', () => {
    expect(board.entries).toHaveLength(4);
    expect(other.entries).toHaveLength(1);
    expect(other.task.datasetFingerprint).toBe('cd'.repeat(32));
  });

  it('ranks seed groups by mean accuracy with n, interval and a marked single-seed entry', () => {
    expect(board.entries.map((e) => [e.rank, e.configKey === c[0].configKey ? 'c' : e.configKey === a[0].configKey ? 'a' : e.configKey === d[0].configKey ? 'd' : 'b', e.n])).toEqual([
      [1, 'c', 1],
      [2, 'a', 3],
      [3, 'd', 3],
      [4, 'b', 3],
    ]);
    expect(board.entries[0].singleSeed).toBe(true);
    expect(board.entries[0].interval).toBeNull();
    expect(board.entries[1].mean).toBeCloseTo(0.9, 12);
  });

  it('never tests against a single-seed leader', () => {
    for (const e of board.entries.slice(1)) expect(e.versusLeader).toMatchObject({ test: null, significant: false, note: 'the leader has a single seed: no test' });
  });

  it('tests against a multi-seed leader: paired over shared seeds, Welch otherwise, Holm-adjusted', () => {
    const [board2] = buildLeaderboards([...a, ...b, ...d, ...group(0.1, [160], [5])]);
    const [leader, second, third, single] = board2.entries;
    expect(leader.configKey).toBe(a[0].configKey);
    const pD = twoSidedPValue(welchMeanDifference(d.map((r) => r.metrics['test.accuracy']), a.map((r) => r.metrics['test.accuracy'])));
    const pB = twoSidedPValue(pairedMeanDifference(b.map((r) => r.metrics['test.accuracy']), a.map((r) => r.metrics['test.accuracy'])));
    expect(second.versusLeader).toMatchObject({ test: 'welch-t', pValue: pD });
    expect(third.versusLeader).toMatchObject({ test: 'paired-t', pairedSeeds: 3, pValue: pB });
    const [adjD, adjB] = holmAdjust([pD, pB]);
    expect(second.versusLeader?.adjustedP).toBe(adjD);
    expect(third.versusLeader?.adjustedP).toBe(adjB);
    // b's paired differences are -5, -4.5 and -5.5 points: clearly below the leader.
    expect(third.versusLeader?.significant).toBe(adjB < 0.05);
    expect(adjB).toBeLessThan(0.05);
    expect(single.singleSeed).toBe(true);
    expect(single.versusLeader).toMatchObject({ test: null, significant: false, note: 'single seed: no test, never significant' });
    expect(third.differencesFromLeader).toEqual(['train.learningRate: 0.001 vs 0.01']);
  });

  it('counts a repeated seed once, and says so', () => {
    const [board3] = buildLeaderboards([...a, fakeSeedResult({ seed: 1, correct: 100, config: cfg(0.001) })]);
    expect(board3.entries[0].n).toBe(3);
    expect(board3.entries[0].notes[0]).toMatch(/seed 1 recorded again by fake seed 1: only fake seed 1 counts/);
  });
});
