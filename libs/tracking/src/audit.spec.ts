import { Database } from 'sqlite3';
import type { AuditResult, SplitMember } from './entities';
import { InvalidArgumentError, parseRunExport, serializeRunExport } from './index';
import { newRun, runRecord, tempDir, type TempDir, withStore } from './testing/fixtures';

let dir: TempDir;
beforeEach(() => (dir = tempDir('tracking-audit-')));
afterEach(() => dir.remove());


/** One verdict per split member: every 10th a label issue, every 25th (not 10th) without a confident class. */
function auditFor(split: readonly SplitMember[]): AuditResult[] {
  let issues = 0;
  let unsure = 0;
  return split.map(({ path, label: given }, i) => {
    const flag = i % 10 === 0 ? 'label_issue' : i % 25 === 0 ? 'no_confident_class' : 'ok';
    const rank = flag === 'label_issue' ? ++issues : flag === 'no_confident_class' ? ++unsure : null;
    const probabilities = [0.1, 0.2, 0.3, 0.15, 0.25];
    probabilities[given] = 0.1 + i * 1e-6;
    return {
      path,
      givenLabel: given,
      suggestedLabel: flag === 'label_issue' ? (given + 1) % 5 : null,
      selfConfidence: probabilities[given],
      score: flag === 'ok' ? -0.5 : 1 / (i + 3),
      rank,
      flag,
      fold: i % 5,
      probabilities,
    };
  });
}

describe('label audit results', () => {
  it('are written with the run record in its transaction and read back exactly, all or by flag', async () => {
    await withStore(dir.file('a.sqlite'), async (store) => {
      const run = await store.createRun(newRun());
      const record = runRecord(5, 400);
      const audit = auditFor(record.split);
      await store.completeRun(run.id, { ...record, audit });
      expect(await store.getAuditResults(run.id)).toStrictEqual(audit);
      const issues = await store.getAuditResults(run.id, 'label_issue');
      expect(issues).toHaveLength(40);
      expect(issues.map((a) => a.rank)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect((await store.getAuditResults(run.id, 'no_confident_class')).map((a) => a.path)).toEqual(
        audit.filter((a) => a.flag === 'no_confident_class').map((a) => a.path),
      );
    });
  });

  it('are empty for a run recorded without an audit', async () => {
    await withStore(dir.file('a.sqlite'), async (store) => {
      const run = await store.createRun(newRun());
      await store.completeRun(run.id, runRecord(2, 50));
      expect(await store.getAuditResults(run.id)).toEqual([]);
      expect('audit' in (await store.exportRun(run.id))).toBe(false);
    });
  });

  it('refuse inconsistent verdicts and roll the whole record back', async () => {
    await withStore(dir.file('a.sqlite'), async (store) => {
      const run = await store.createRun(newRun());
      const record = runRecord(5, 30);
      const audit = auditFor(record.split);
      audit[3] = { ...audit[3], suggestedLabel: 2 };
      await expect(store.completeRun(run.id, { ...record, audit })).rejects.toThrow(InvalidArgumentError);
      await expect(store.completeRun(run.id, { ...record, audit: [{ ...audit[0], score: NaN }] })).rejects.toThrow(/must be finite/);
      // Duplicate path: the primary key fails inside the transaction, after the other inserts.
      await expect(store.completeRun(run.id, { ...record, audit: [audit[1], audit[1]] })).rejects.toThrow();
      expect(await store.getRun(run.id)).toMatchObject({ status: 'running' });
      expect(await store.getSplit(run.id)).toEqual([]);
      expect(await store.getAuditResults(run.id)).toEqual([]);
    });
  });

  it('travel with runs export / import, and a second import changes nothing', async () => {
    const source = dir.file('source.sqlite');
    const target = dir.file('target.sqlite');
    const id = await withStore(source, async (store) => {
      const run = await store.createRun(newRun());
      const record = runRecord(5, 120);
      const audit = auditFor(record.split);
      await store.completeRun(run.id, { ...record, audit });
      return run.id;
    });
    const text = serializeRunExport(await withStore(source, (s) => s.exportRun(id)));
    const data = parseRunExport(text, 'export.json');
    expect(data.audit).toHaveLength(120);
    expect(await withStore(target, (s) => s.importRun(data))).toEqual({ runId: id, status: 'imported' });
    expect(await withStore(target, (s) => s.importRun(parseRunExport(text, 'export.json')))).toEqual({ runId: id, status: 'already-present' });
    const [a, b] = await Promise.all([withStore(source, (s) => s.getAuditResults(id)), withStore(target, (s) => s.getAuditResults(id))]);
    expect(b).toStrictEqual(a);
    const rows = await new Promise<{ n: number }[]>((resolve, reject) => {
      const db = new Database(target, (err) => {
        if (err) return reject(err);
        db.all<{ n: number }>(`SELECT count(*) AS n FROM audit_results WHERE run_id = '${id}'`, (e, r) => db.close(() => (e ? reject(e) : resolve(r))));
      });
    });
    expect(rows).toEqual([{ n: 120 }]);
  });
});
