import { startPostgres } from './src/testing';
import { newRun, runRecord } from './src/testing/fixtures';
import { openTrackingStore, canonicalRunJson } from './src/index';
import { canonicalRunJson as c2 } from './src/transfer';
(async () => {
  const pg = await startPostgres();
  try {
    const url = await pg.createDatabase();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openTrackingStore(url)));
    const store = stores[0];
    const run = await store.createRun(newRun());
    await store.logBatch(run.id, { params: [{ key: 'a', value: 'b' }], metrics: [{ key: 'loss', value: NaN, step: 1 }, { key: 'x', value: Infinity, step: null }] });
    const rec = runRecord(1, 3670);
    const t = Date.now();
    const done = await store.completeRun(run.id, rec);
    console.log('complete ms', Date.now() - t, done.status, done.durationMs);
    console.log(JSON.stringify(await store.getMetrics(run.id)));
    const preds = await store.getPredictions(run.id);
    console.log('preds equal', JSON.stringify(preds) === JSON.stringify(rec.predictions), (await store.getSplit(run.id)).length);
    const ex = await store.exportRun(run.id);
    const url2 = await pg.createDatabase();
    const other = await openTrackingStore(url2);
    console.log(await other.importRun(ex), await other.importRun(ex));
    console.log('same', c2(await other.exportRun(run.id)) === c2(ex));
    console.log((await store.searchRuns({ idPrefix: run.id.slice(0, 5) })).length, store.location, await store.checkIntegrity());
    const sw = await store.createSweep({ name: 's', configHash: 'h', configText: 't', definition: { a: [1] }, size: 1 });
    const st = await store.createStudy({ name: 's', question: 'q', configHash: 'h', configText: 't' });
    await store.setStudyArm({ studyId: st.id, position: 0, label: 'A', config: 'c', sweepId: sw.id });
    await store.setStudyArm({ studyId: st.id, position: 0, label: 'B', config: 'c', sweepId: sw.id });
    console.log(await store.getStudyArms(st.id), (await store.updateSweepStatus(sw.id, 'completed')).status);
    for (const s of [...stores, other]) await s.close();
  } finally { await pg.stop(); }
})().catch((e) => { console.error(e); process.exit(1); });
