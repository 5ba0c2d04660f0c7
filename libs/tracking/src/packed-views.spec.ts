/**
 * Migration 10 packs per-image rows into columns; the views `predictions`, `split_members` and
 * `audit_results` must still show exactly what the store's API returns, on both engines: awkward
 * doubles (-0, subnormal, negative, large), NULLs, ragged probability vectors and images that are
 * not in the run's image list.
 */
import type { AuditResult } from './entities';
import { decodeFloat64 } from './store/rows';
import { newRun, runRecord } from './testing/fixtures';
import { describeEachEngine } from './testing/store-engines';

interface PredictionView { path: string; split: string; true_label: number; predicted_label: number; probabilities: Buffer | null }
interface AuditView { path: string; given_label: number; suggested_label: number | null; self_confidence: number; score: number; rank: number | null; flag: string; fold: number; probabilities: Buffer | null }

describeEachEngine('packed per-image columns, seen through the views', (engine) => {
  it('views give the rows the API gives', async () => {
    const location = await engine().freshLocation();
    const store = await engine().open(location);
    const ids: string[] = [];
    try {
      for (const variant of [0, 1]) {
        const run = await store.createRun(newRun('views', variant));
        const record = runRecord(variant + 3, 60);
        // Variant 1: ragged vectors and a prediction of an image that is not in the split.
        if (variant === 1) {
          record.predictions[0] = { ...record.predictions[0], probabilities: [0.25, -0, 5e-324] };
          record.predictions.push({ path: 'elsewhere/extra.jpg', split: 'test', trueLabel: 12, predictedLabel: 1234567, probabilities: [] });
        }
        const audit = record.split.map((m, i): AuditResult => ({
          path: m.path, givenLabel: m.label, suggestedLabel: i % 9 === 0 ? (m.label + 1) % 5 : null, selfConfidence: [-0, 5e-324, -1.5e300, 1 / 3][i % 4],
          score: i === 2 ? -(2 ** -1030) : i / 7 - 3, rank: i % 9 === 0 ? 1000 + i : null, flag: i % 9 === 0 ? 'label_issue' : i % 5 === 1 ? 'no_confident_class' : 'ok',
          fold: i % 3, probabilities: variant === 1 && i === 4 ? [1] : [0.5, 0.25, i === 5 ? NaN : 0.25, 0, -0],
        }));
        // Variant 1's audit in another order than the split (positions, not identity).
        await store.completeRun(run.id, { ...record, audit: variant === 1 ? [...audit].reverse() : audit });
        ids.push(run.id);
      }
      for (const id of ids) {
        const predictions = await engine().rawQuery<PredictionView>(location, `SELECT path, split, true_label, predicted_label, probabilities FROM predictions WHERE run_id = '${id}'`);
        const fromApi = await store.getPredictions(id);
        expect(predictions.map((p) => ({ path: p.path, split: p.split, trueLabel: Number(p.true_label), predictedLabel: Number(p.predicted_label), probabilities: decodeFloat64(p.probabilities) }))).toEqual(fromApi);
        expect(predictions).toHaveLength(fromApi.length);

        const members = await engine().rawQuery<{ path: string; sha256: string; label: number; split: string }>(location, `SELECT path, sha256, label, split FROM split_members WHERE run_id = '${id}' ORDER BY path`);
        const split = [...(await store.getSplit(id))].sort((a, b) => (a.path < b.path ? -1 : 1));
        expect(members.map((m) => ({ ...m, label: Number(m.label) }))).toEqual(split);

        const verdicts = await engine().rawQuery<AuditView>(location, `SELECT * FROM audit_results WHERE run_id = '${id}'`);
        const audit = await store.getAuditResults(id);
        const viewed = verdicts.map((v): AuditResult => ({
          path: v.path, givenLabel: Number(v.given_label), suggestedLabel: v.suggested_label === null ? null : Number(v.suggested_label),
          selfConfidence: v.self_confidence, score: v.score, rank: v.rank === null ? null : Number(v.rank), flag: v.flag as AuditResult['flag'], fold: Number(v.fold), probabilities: decodeFloat64(v.probabilities),
        }));
        // Exact doubles, -0 and subnormals included.
        expect(viewed).toStrictEqual(audit);
        expect(viewed).toHaveLength(60);
      }
    } finally {
      await store.close();
    }
  }, 60_000);
});
