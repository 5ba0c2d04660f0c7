import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticDataset } from '@mlbench/data';
import { withStore } from '@mlbench/tracking/src/testing';
import { InterruptedError } from './errors';
import { runConfigFile } from './run-file';
import { tinyConfig } from './testing';

jest.setTimeout(180_000);

const MODEL = path.resolve(__dirname, '../../../../shared/models/mobilenet_v1_0.5_160_quant/mobilenet_v1_0.5_160_quant.tflite');
let dir: string;

const config = (sweep: string): string =>
  tinyConfig({ name: 'sweep-test', seed: 1, split: [0.5, 0.2, 0.3], source: MODEL, engine: 'tfjs', train: { learningRate: 0.01, epochs: 3, batchSize: 8 }, extra: `sweep:\n${sweep}\n` });

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sweep-'));
  await writeSyntheticDataset(path.join(dir, 'data'), { classes: ['amber', 'cobalt', 'jade'], imagesPerClass: 10, seed: 'sweep' });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** Writes `<name>.yaml` with this sweep section and runs it to the end, recording into `<name>.sqlite`. */
async function runSweep(name: string, sweep: string) {
  const file = path.join(dir, `${name}.yaml`);
  await fs.writeFile(file, config(sweep));
  const db = path.join(dir, `${name}.sqlite`);
  const outcome = await runConfigFile(file, { dbPath: db, cacheDir: path.join(dir, 'cache') });
  if (outcome.kind !== 'sweep') throw new Error('expected a sweep');
  return { db, result: outcome.result };
}

describe('runConfigFile with a sweep', () => {
  it('runs the grid with one feature extraction, records the sweep and summarises seed groups', async () => {
    const { db, result } = await runSweep('grid', '  train.learningRate: [0.01, 0.001]\n  seed: [1, 2, 3]');
    const { sweep, outcomes, groups } = result;
    expect(sweep.status).toBe('completed');
    expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('completed'));
    expect(groups.map((g) => g.seeds)).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(groups[0].metrics['test.accuracy'].n).toBe(3);

    await withStore(db, async (store) => {
      const runs = await store.searchRuns({ sweepId: sweep.id });
      expect(runs.map((r) => r.sweepIndex).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      // One feature extraction for the whole sweep: only the first run extracted anything.
      const extracted = await Promise.all(
        runs.map(async (r) => (await store.getMetrics(r.id)).find((m) => m.key === 'extraction.extracted')?.value),
      );
      expect(extracted.filter((n) => (n ?? 0) > 0)).toEqual([30]);
    });
  });

  it('records a failing point as failed and goes on', async () => {
    const { db, result } = await runSweep('failing', '  model.extractor.featureLayer: [auto, no_such_layer]');
    expect(result.outcomes.map((o) => o.status)).toEqual(['completed', 'failed']);
    expect(result.outcomes[1].error).toMatch(/no_such_layer/);
    await withStore(db, async (store) => {
      const failed = await store.getRun(result.outcomes[1].runId ?? '');
      expect(failed?.status).toBe('failed');
      expect(failed?.sweepIndex).toBe(1);
    });
  });

  it('resumes an interrupted sweep without redoing finished runs', async () => {
    const file = path.join(dir, 'resume.yaml');
    await fs.writeFile(file, config('  seed: [1, 2, 3, 4]'));
    const db = path.join(dir, 'resume.sqlite');
    const options = { dbPath: db, cacheDir: path.join(dir, 'cache') };
    const controller = new AbortController();
    await expect(
      runConfigFile(file, {
        ...options,
        signal: controller.signal,
        onSweepEvent: (event) => {
          if (event.type === 'sweep-run-end' && event.index === 1) controller.abort('SIGINT');
        },
      }),
    ).rejects.toThrow(InterruptedError);
    await withStore(db, async (afterStop) => {
      expect((await afterStop.searchSweeps()).map((s) => s.status)).toEqual(['interrupted']);
    });

    const skipped: number[] = [];
    const outcome = await runConfigFile(file, { ...options, resume: true, onSweepEvent: (e) => void (e.type === 'sweep-run-skip' && skipped.push(e.index)) });
    if (outcome.kind !== 'sweep') throw new Error('expected a sweep');
    expect(skipped).toEqual([0, 1]);
    expect(outcome.result.outcomes.map((o) => o.status)).toEqual(['skipped', 'skipped', 'completed', 'completed']);
    await withStore(db, async (store) => {
      expect(await store.searchSweeps()).toHaveLength(1);
      const runs = await store.searchRuns({ sweepId: outcome.result.sweep.id });
      expect(runs.filter((r) => r.status === 'completed').map((r) => r.sweepIndex).sort()).toEqual([0, 1, 2, 3]);
      // The stop came between runs, so no third run was started before the resume.
      expect(runs).toHaveLength(4);
    });
  });
});
