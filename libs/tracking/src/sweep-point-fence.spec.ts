/**
 * A sweep point is completed once, whatever number of attempts ran it (two cluster workers that
 * both ran a point, one of them after losing its queue lock): the store refuses the second
 * completion and records that attempt abandoned (superseded), in the same transaction. On both
 * engines, sequentially and with two connections completing at once.
 */
import { PointAlreadyCompletedError } from './errors';
import type { TrackingStore } from './store';
import { newRun, runRecord } from './testing/fixtures';
import { describeEachEngine } from './testing/store-engines';

jest.setTimeout(120_000);

describeEachEngine('one completed run per sweep point', (engine) => {
  let location: string;
  let store: TrackingStore;
  beforeEach(async () => {
    location = await engine().freshLocation();
    store = await engine().open(location);
  });
  afterEach(async () => {
    await store.close();
  });

  const sweepOf = (size: number) => store.createSweep({ name: 'grid', configHash: 'h', configText: 'x', definition: { seed: [1, 2] }, size });

  it('a second attempt of a completed point is recorded abandoned (superseded), not completed, and nothing of its record is written', async () => {
    const sweep = await sweepOf(2);
    const first = await store.createRun({ ...newRun(), sweepId: sweep.id, sweepIndex: 0 });
    const second = await store.createRun({ ...newRun(), sweepId: sweep.id, sweepIndex: 0 });
    const other = await store.createRun({ ...newRun(), sweepId: sweep.id, sweepIndex: 1 });
    await store.completeRun(first.id, runRecord(1, 12));

    const refused = await store.completeRun(second.id, runRecord(2, 12)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PointAlreadyCompletedError);
    expect(refused).toMatchObject({ code: 'POINT_ALREADY_COMPLETED', runId: second.id, completedRunId: first.id, sweepId: sweep.id, sweepIndex: 0 });
    const loser = await store.getRun(second.id);
    expect(loser).toMatchObject({ status: 'abandoned', error: expect.stringMatching(new RegExp(`^abandoned: superseded: point 1 .*completed first by run ${first.id}`)) });
    expect(loser?.endTime).not.toBeNull();
    expect(await store.getSplit(second.id)).toEqual([]);
    expect(await store.getPredictions(second.id)).toEqual([]);
    expect(await store.getDatasetInput(second.id)).toBeNull();

    // Other points, and runs outside sweeps, are not affected; a failed attempt does not count.
    const failed = await store.createRun({ ...newRun(), sweepId: sweep.id, sweepIndex: 1 });
    await store.failRun(failed.id, 'boom');
    await expect(store.completeRun(other.id, runRecord(3, 12))).resolves.toMatchObject({ status: 'completed' });
    const a = await store.createRun(newRun());
    const b = await store.createRun(newRun());
    await store.completeRun(a.id, runRecord(4, 12));
    await expect(store.completeRun(b.id, runRecord(4, 12))).resolves.toMatchObject({ status: 'completed' });
    const statuses = (await store.searchRuns({ sweepId: sweep.id })).map((r) => `${r.sweepIndex}:${r.status}`).sort();
    expect(statuses).toEqual(['0:abandoned', '0:completed', '1:completed', '1:failed']);
  });

  it('two connections completing attempts of the same points at once: exactly one completed run per point', async () => {
    const other = await engine().open(location);
    try {
      const points = 6;
      const sweep = await sweepOf(points);
      const pairs = await Promise.all(
        Array.from({ length: points }, async (_, index) => [
          await store.createRun({ ...newRun(), sweepId: sweep.id, sweepIndex: index }),
          await other.createRun({ ...newRun(), sweepId: sweep.id, sweepIndex: index }),
        ]),
      );
      const outcomes = await Promise.allSettled(pairs.flatMap(([x, y], i) => [store.completeRun(x.id, runRecord(i, 40)), other.completeRun(y.id, runRecord(i + 100, 40))]));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(points);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PointAlreadyCompletedError);
      const runs = await store.searchRuns({ sweepId: sweep.id });
      for (let index = 0; index < points; index++) {
        expect(runs.filter((r) => r.sweepIndex === index).map((r) => r.status).sort()).toEqual(['abandoned', 'completed']);
      }
    } finally {
      await other.close();
    }
  });
});
