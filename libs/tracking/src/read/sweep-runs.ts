import type { Run, StudyArm, Sweep } from '../entities';
import type { TrackingStore } from '../store';

const ALL = Number.MAX_SAFE_INTEGER;

/** Every run of a sweep (any status), in grid order; retries of a point by start time. */
export async function loadSweepRuns(store: TrackingStore, sweepId: string): Promise<Run[]> {
  const runs = await store.searchRuns({ sweepId, limit: ALL });
  return runs.sort((a, b) => (a.sweepIndex ?? 0) - (b.sweepIndex ?? 0) || (a.startTime < b.startTime ? -1 : a.startTime > b.startTime ? 1 : 0));
}

/** One arm of a study with its sweep (null when it was not recorded) and that sweep's runs. */
export interface StudyArmRuns {
  arm: StudyArm;
  sweep: Sweep | null;
  runs: Run[];
}

/** The arms of a study, by position, each with its sweep's runs. */
export async function loadStudyArms(store: TrackingStore, studyId: string): Promise<StudyArmRuns[]> {
  const arms = await store.getStudyArms(studyId);
  return Promise.all(arms.map(async (arm) => ({ arm, sweep: await store.getSweep(arm.sweepId), runs: await loadSweepRuns(store, arm.sweepId) })));
}
