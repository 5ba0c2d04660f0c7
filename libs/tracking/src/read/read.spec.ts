import { AmbiguousRunIdError, RunNotFoundError, StoreClosedError } from '../errors';
import { borrowStore, findRun, finalMetrics, isBadInputStoreError, loadRunDetails, loadRunView, loadStudyArms, loadSweepRuns, openSqliteStore, resolveRun, type Run, type TrackingStore } from '../index';
import { newRun, runRecord, tempDir, type TempDir } from '../testing/fixtures';

let dir: TempDir;
let store: TrackingStore;
let tick = 0;
beforeEach(async () => {
  dir = tempDir('tracking-read-');
  tick = 0;
  store = await openSqliteStore(dir.file('runs.sqlite'), { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) });
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

async function completed(name = 'r', seed = 1, extra?: { sweepId: string; sweepIndex: number }): Promise<Run> {
  const run = await store.createRun({ ...newRun(name, seed), ...extra });
  await store.logBatch(run.id, { metrics: [{ key: 'train.loss', value: 0.5, step: 2 }, { key: 'train.loss', value: 0.9, step: 1 }] });
  return store.completeRun(run.id, runRecord(seed, 40));
}

describe('run view and details', () => {
  it('hold params, final metrics as a map, curves sorted by step, dataset and extractor; details add split and predictions', async () => {
    const run = await completed();
    const view = await loadRunView(store, run);
    expect(view.params).toEqual({ lr: '0.001', epochs: '20' });
    expect(view.final).toEqual({ val_accuracy: 0.9123456789012345, test_accuracy: 1 / 3, test_macro_f1: 0.1 + 0.2 });
    expect(view.curves).toEqual({ 'train.loss': [{ x: 1, y: 0.9 }, { x: 2, y: 0.5 }] });
    expect(view.dataset?.splitHash).toBe('a'.repeat(64));
    expect(view.extractor.featureDim).toBe('1280');
    const details = await loadRunDetails(store, run, view);
    expect(details.split).toHaveLength(40);
    expect(details.predictions).toEqual(await store.getPredictions(run.id));
    expect(details.skippedFiles).toEqual([]);
  });

  it('finalMetrics keeps metrics without a step, the last value of a key logged twice', () => {
    expect(finalMetrics([{ key: 'a', value: 1, step: null }, { key: 'b', value: 2, step: 0 }, { key: 'a', value: 3, step: null }])).toEqual({ a: 3 });
  });
});

describe('resolving a run id', () => {
  it('accepts the full id and any unique prefix of at least 4 digits, in any case and with spaces', async () => {
    const run = await completed();
    expect((await resolveRun(store, run.id)).id).toBe(run.id);
    expect((await resolveRun(store, ` ${run.id.slice(0, 4).toUpperCase()} `)).id).toBe(run.id);
    expect((await resolveRun(store, run.id.slice(0, 9))).id).toBe(run.id);
  });

  it('names the store for an unknown id, a too short prefix or a non-hex one', async () => {
    const run = await completed();
    for (const wanted of ['f'.repeat(32), run.id.slice(0, 3), 'zzzz', `${run.id.slice(0, 4)}%`]) {
      const error = await resolveRun(store, wanted).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunNotFoundError);
      expect((error as Error).message).toBe(`run ${wanted} is not in ${store.location}`);
    }
  });

  it('refuses a prefix shared by several runs and lists them', async () => {
    const runs: Run[] = [];
    // Ids are random: make runs until two share their first 4 digits (bounded; ~300 runs expected).
    const byPrefix = new Map<string, Run>();
    let pair: [Run, Run] | null = null;
    for (let i = 0; i < 3000 && !pair; i++) {
      const run = await store.createRun(newRun('many', i));
      runs.push(run);
      const seen = byPrefix.get(run.id.slice(0, 4));
      if (seen) pair = [seen, run];
      byPrefix.set(run.id.slice(0, 4), run);
    }
    expect(pair).not.toBeNull();
    const [a, b] = pair as [Run, Run];
    const error = await resolveRun(store, a.id.slice(0, 4)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AmbiguousRunIdError);
    expect((error as AmbiguousRunIdError).matches.slice().sort()).toEqual([a.id, b.id].sort());
    expect(() => findRun(runs, a.id.slice(0, 4), 'x')).toThrow(AmbiguousRunIdError);
    expect(findRun(runs, a.id, 'x').id).toBe(a.id);
    expect(isBadInputStoreError(error)).toBe(true);
  });
});

describe('sweeps and studies', () => {
  it('sweep runs come in grid order whatever their status; study arms carry their sweep and its runs', async () => {
    const sweep = await store.createSweep({ name: 's', configHash: 'h', configText: 'x', definition: { seed: [1, 2, 3] }, size: 3 });
    const third = await completed('s', 3, { sweepId: sweep.id, sweepIndex: 2 });
    const first = await completed('s', 1, { sweepId: sweep.id, sweepIndex: 0 });
    const failed = await store.createRun({ ...newRun('s', 2), sweepId: sweep.id, sweepIndex: 1 });
    await store.failRun(failed.id, 'boom');
    expect((await loadSweepRuns(store, sweep.id)).map((r) => r.id)).toEqual([first.id, failed.id, third.id]);

    const study = await store.createStudy({ name: 'st', question: 'q', configHash: 'h', configText: 'x' });
    await store.setStudyArm({ studyId: study.id, position: 0, label: 'A', config: 'a.yaml', sweepId: sweep.id });
    const arms = await loadStudyArms(store, study.id);
    expect(arms.map((a) => [a.arm.label, a.sweep?.id, a.runs.length])).toEqual([['A', sweep.id, 3]]);
  });
});

describe('borrowStore', () => {
  it('leaves a lent store open and closes one it opened', async () => {
    const lent = await borrowStore({ store, dbPath: 'unused' });
    await lent.release();
    expect(await store.searchRuns()).toEqual([]);
    const own = await borrowStore({ dbPath: dir.file('other.sqlite') });
    await own.release();
    await expect(own.store.searchRuns()).rejects.toBeInstanceOf(StoreClosedError);
  });
});
