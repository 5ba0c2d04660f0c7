import { InvalidArgumentError } from './errors';
import { MIGRATIONS, openSqliteStore, type TrackingStore } from './index';
import { tempDir, type TempDir } from './testing/fixtures';

describe('studies', () => {
  let dir: TempDir;
  let store: TrackingStore;
  let tick = 0;

  beforeEach(async () => {
    dir = tempDir();
    tick = 0;
    store = await openSqliteStore(dir.file('studies.db'), { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) });
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it('come from their own migration, after the ones before', () => {
    const studies = MIGRATIONS.find((m) => m.name === 'studies');
    expect(studies?.version).toBe(6);
    expect(studies?.sql).toContain('CREATE TABLE study_arms');
  });

  it('are recorded with their arms in order, found by name and hash, and finished', async () => {
    const sweep = (name: string) => store.createSweep({ name, configHash: name, configText: 'x', definition: { seed: [1, 2] }, size: 2 });
    const [a, b] = [await sweep('a'), await sweep('b')];
    const study = await store.createStudy({ name: 'showcase', question: 'Which wins?', configHash: 'h1', configText: 'study: {}' });
    expect(study).toMatchObject({ name: 'showcase', question: 'Which wins?', status: 'running', endTime: null, configHash: 'h1', configText: 'study: {}' });
    await store.setStudyArm({ studyId: study.id, position: 1, label: 'B', config: 'b.yaml', sweepId: b.id });
    await store.setStudyArm({ studyId: study.id, position: 0, label: 'A', config: 'a.yaml', sweepId: b.id });
    // Re-recording a position replaces it (a resumed arm gets its final sweep).
    await store.setStudyArm({ studyId: study.id, position: 0, label: 'A', config: 'a.yaml', sweepId: a.id });
    expect(await store.getStudyArms(study.id)).toEqual([
      { studyId: study.id, position: 0, label: 'A', config: 'a.yaml', sweepId: a.id },
      { studyId: study.id, position: 1, label: 'B', config: 'b.yaml', sweepId: b.id },
    ]);
    const done = await store.updateStudyStatus(study.id, 'completed');
    expect(done.status).toBe('completed');
    expect(done.endTime).not.toBeNull();
    expect((await store.searchStudies({ name: 'showcase', configHash: 'h1' })).map((s) => s.id)).toEqual([study.id]);
    expect(await store.searchStudies({ configHash: 'other' })).toEqual([]);
    await expect(store.updateStudyStatus('nope', 'completed')).rejects.toThrow(InvalidArgumentError);
    await expect(store.setStudyArm({ studyId: study.id, position: -1, label: 'x', config: 'x', sweepId: a.id })).rejects.toThrow(InvalidArgumentError);
  });
});
