import { borrowStore, loadSweepRuns, type Sweep } from '@mlbench/tracking';
import type { ExperimentPlan } from './config';
import { captureEnvironment } from './environment';
import { InterruptedError } from './errors';
import { runExperiment, type RunExperimentOptions, type RunSummary } from './pipeline';
import type { SeedGroup } from './seed-groups';
import { sweepSeedGroups } from './sweep-seed-groups';
import { describePoint, type SweepPoint } from './sweep';

/** Progress of a sweep, for the CLI. */
export type SweepEvent =
  | { type: 'sweep-start'; sweep: Sweep; total: number; alreadyDone: number; resumed: boolean }
  | { type: 'sweep-run-start'; index: number; total: number; point: SweepPoint; label: string }
  | { type: 'sweep-run-skip'; index: number; total: number; runId: string; label: string }
  | { type: 'sweep-run-end'; index: number; total: number; runId: string | null; status: 'completed' | 'failed'; testAccuracy: number | null; error: string | null };

export interface SweepRunOutcome {
  index: number;
  point: SweepPoint;
  runId: string | null;
  status: 'completed' | 'failed' | 'skipped';
  testAccuracy: number | null;
  error: string | null;
}

export interface SweepResult {
  sweep: Sweep;
  outcomes: SweepRunOutcome[];
  /** Completed runs of the sweep grouped by everything but the seed, with mean/std/t-interval per metric. */
  groups: SeedGroup[];
}

export interface RunSweepOptions extends RunExperimentOptions {
  /** Continue the newest unfinished sweep of the same config, skipping its completed runs. */
  resume?: boolean;
  onSweepEvent?: (event: SweepEvent) => void;
}

/**
 * Runs every point of a sweep one after another, recording the sweep and its runs. A run that
 * fails is recorded as failed and the sweep goes on; an interruption stops the sweep (marked
 * interrupted) so `--resume` can continue it. Features are cached, so points that share the
 * extractor and preprocessing cost one extraction.
 */
export async function runSweep(plan: ExperimentPlan, options: RunSweepOptions): Promise<SweepResult> {
  if (!plan.sweep) throw new Error('runSweep needs a plan with a sweep section');
  const { store, release } = await borrowStore(options);
  const emit = (event: SweepEvent): void => options.onSweepEvent?.(event);
  try {
    const name = plan.runs[0].config.name;
    let sweep: Sweep | null = null;
    if (options.resume) {
      const candidates = await store.searchSweeps({ name, configHash: plan.hash });
      sweep = candidates.find((s) => s.status !== 'completed') ?? null;
    }
    const resumed = sweep !== null;
    sweep ??= await store.createSweep({ name, configHash: plan.hash, configText: plan.text, definition: plan.sweep, size: plan.runs.length });
    if (resumed) sweep = await store.updateSweepStatus(sweep.id, 'running');

    const done = new Map<number, string>();
    if (resumed) {
      for (const run of await loadSweepRuns(store, sweep.id)) {
        if (run.status === 'completed' && run.sweepIndex !== null) done.set(run.sweepIndex, run.id);
      }
    }
    emit({ type: 'sweep-start', sweep, total: plan.runs.length, alreadyDone: done.size, resumed });

    const outcomes: SweepRunOutcome[] = [];
    const total = plan.runs.length;
    for (const [index, loaded] of plan.runs.entries()) {
      const point = plan.points[index];
      const label = describePoint(point);
      const previous = done.get(index);
      if (previous) {
        emit({ type: 'sweep-run-skip', index, total, runId: previous, label });
        outcomes.push({ index, point, runId: previous, status: 'skipped', testAccuracy: null, error: null });
        continue;
      }
      emit({ type: 'sweep-run-start', index, total, point, label });
      let runId: string | null = null;
      try {
        const summary: RunSummary = await runExperiment(loaded, {
          ...options,
          store,
          sweep: { id: sweep.id, index },
          onEvent: (event) => {
            if (event.type === 'run-created') runId = event.runId;
            options.onEvent?.(event);
          },
        });
        outcomes.push({ index, point, runId: summary.run.id, status: 'completed', testAccuracy: summary.test.accuracy, error: null });
        emit({ type: 'sweep-run-end', index, total, runId: summary.run.id, status: 'completed', testAccuracy: summary.test.accuracy, error: null });
      } catch (error) {
        if (error instanceof InterruptedError) {
          await store.updateSweepStatus(sweep.id, 'interrupted');
          throw error;
        }
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        if (runId === null) {
          // The point failed its checks before a run row existed: record it anyway, so the sweep shows every point.
          const failed = await store.createRun({
            name, seed: loaded.config.seed, configHash: loaded.hash, configText: loaded.text, resolvedConfig: loaded.resolved,
            environment: captureEnvironment(options.cwd ?? process.cwd(), { 'config.file': loaded.file }), sweepId: sweep.id, sweepIndex: index,
          });
          await store.failRun(failed.id, message);
          runId = failed.id;
        }
        outcomes.push({ index, point, runId, status: 'failed', testAccuracy: null, error: message });
        emit({ type: 'sweep-run-end', index, total, runId, status: 'failed', testAccuracy: null, error: message });
      }
    }
    const finished = await store.updateSweepStatus(sweep.id, 'completed');
    return { sweep: finished, outcomes, groups: await sweepSeedGroups(store, sweep.id) };
  } finally {
    await release();
  }
}
