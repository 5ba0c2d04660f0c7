/**
 * A packed per-run row edited by hand (a shared store is anyone's file): a size that does not match
 * its letters, image paths that are not a list of that many strings, a probability blob of the
 * wrong length. Each is the store's damaged-record error (InvalidArgumentError, "stored ..."), which
 * the report names and skips, read before anything is allocated by the edited size.
 */
import { InvalidArgumentError } from './errors';
import { newRun, runRecord } from './testing/fixtures';
import { describeEachEngine } from './testing/store-engines';

describeEachEngine('damaged packed rows', (engine) => {
  /** A store with one finished run of 20 images (predictions and audit), and a way to edit its rows. */
  async function storeWithRun() {
    const location = await engine().freshLocation();
    const store = await engine().open(location);
    const run = await store.createRun(newRun('damaged', 0));
    const record = runRecord(3, 20);
    await store.completeRun(run.id, {
      ...record,
      audit: record.split.map((m, i) => ({ path: m.path, givenLabel: m.label, suggestedLabel: null, selfConfidence: 0.5, score: i, rank: null, flag: 'ok' as const, fold: i % 2, probabilities: [0.5, 0.5] })),
    });
    const edit = (sql: string): Promise<unknown> => engine().rawQuery(location, sql.replaceAll('$run', `'${run.id}'`));
    return { store, id: run.id, edit };
  }

  it.each([
    ['size 2e9', `UPDATE run_predictions SET size = 2000000000 WHERE run_id = $run`, /size 2000000000 does not match its \d+ entries/],
    ['size -1', `UPDATE run_predictions SET size = -1 WHERE run_id = $run`, /size -1 does not match/],
    ['paths not an array', `UPDATE run_predictions SET paths = '{"a": 1}' WHERE run_id = $run`, /image paths are not an array of \d+ strings/],
    ['paths of numbers', `UPDATE run_predictions SET paths = '[1, 2]' WHERE run_id = $run`, /image paths are not an array of \d+ strings/],
    ['paths not JSON', `UPDATE run_predictions SET paths = 'nope' WHERE run_id = $run`, /image paths are not JSON/],
  ])('predictions with %s: the damaged-record error', async (_, sql, message) => {
    const { store, id, edit } = await storeWithRun();
    try {
      expect((await store.getPredictions(id)).length).toBeGreaterThan(0);
      await edit(sql);
      const error = await store.getPredictions(id).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
    } finally {
      await store.close();
    }
  });

  it('predictions whose probability blob lost bytes, and an audit of size 2e9 or -1: the damaged-record error', async () => {
    const { store, id, edit } = await storeWithRun();
    try {
      expect(await store.getAuditResults(id)).toHaveLength(20);
      await edit(`UPDATE audit_sets SET size = 2000000000 WHERE id = (SELECT audit_set_id FROM runs WHERE id = $run)`);
      await expect(store.getAuditResults(id)).rejects.toThrow(/stored audit: size 2000000000 does not match its 20 entries/);
      await edit(`UPDATE audit_sets SET size = -1 WHERE id = (SELECT audit_set_id FROM runs WHERE id = $run)`);
      await expect(store.getAuditResults(id)).rejects.toBeInstanceOf(InvalidArgumentError);
      await edit(`UPDATE run_predictions SET probabilities = substr(probabilities, 9) WHERE run_id = $run`);
      await expect(store.getPredictions(id)).rejects.toThrow(/stored vectors: \d+ bytes for \d+ entries/);
    } finally {
      await store.close();
    }
  });
});
