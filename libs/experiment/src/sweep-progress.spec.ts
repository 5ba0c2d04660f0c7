import type { Run } from '@mlbench/tracking';
import { sweepProgress } from './sweep-progress';

const run = (sweepIndex: number, status: Run['status'], startTime: string): Run => ({
  id: `${sweepIndex}-${startTime}`, name: 'n', status, startTime, endTime: null, durationMs: null, seed: 1, configHash: 'h', configText: '',
  resolvedConfig: null, error: null, environment: {}, pid: null, hostname: null, sweepId: 's', sweepIndex,
});

describe('sweepProgress', () => {
  it('counts each point by its newest attempt, a completed attempt winning', () => {
    const runs = [
      run(0, 'abandoned', '2026-01-01T00:00:00.000Z'), run(0, 'completed', '2026-01-01T00:01:00.000Z'),
      run(1, 'failed', '2026-01-01T00:00:00.000Z'), run(1, 'running', '2026-01-01T00:02:00.000Z'),
      run(2, 'failed', '2026-01-01T00:00:00.000Z'),
      run(3, 'interrupted', '2026-01-01T00:00:00.000Z'),
      run(4, 'completed', '2026-01-01T00:00:00.000Z'), run(4, 'failed', '2026-01-01T00:03:00.000Z'),
    ];
    expect(sweepProgress(7, runs)).toEqual({ size: 7, done: 2, running: 1, failed: 1, queued: 3, duplicates: 0 });
    expect(sweepProgress(1, [run(0, 'completed', 'a'), run(0, 'completed', 'b')]).duplicates).toBe(1);
  });
});
