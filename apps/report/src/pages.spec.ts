import { buildComparePage, differingKeys, flippedPredictions, incomparableReason } from './compare-page';
import { buildIndexPage } from './index-page';
import type { ThumbnailIndex } from './images';
import { confusionFromPredictions } from './page-model';
import { renderComparePage, renderIndexPage, renderRunPage } from './render';
import { buildRunPage, MISCLASSIFIED_LIMIT, planRunImages, TEST_GRID_SIZE } from './run-page';
import { fakeRunData, XSS } from './testing/fixtures';

const links = { thumbPrefix: '../thumbs/', indexHref: '../index.html' };
/** Every image has a thumbnail except the ones listed. */
const thumbsFor = (data: ReturnType<typeof fakeRunData>, missing: string[] = []): ThumbnailIndex =>
  new Map(data.split.filter((m) => !missing.includes(m.path)).map((m) => [m.sha256, `${m.sha256}.webp`]));

describe('run page model', () => {
  const data = fakeRunData({ classes: ['amber', 'cobalt', XSS], perSplit: { test: 12 } });
  const gone = planRunImages(data).overview[0].members[0].path;
  const model = buildRunPage(data, thumbsFor(data, [gone]), links);

  it('shows the recorded test accuracy and a confusion matrix over the whole test set', () => {
    expect(model.headline[0]).toMatchObject({ id: 'test-accuracy', value: `${(100 * data.final['test.accuracy']).toFixed(2)}%` });
    const matrix = confusionFromPredictions(data.predictions.filter((p) => p.split === 'test'), 3);
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(36);
    expect(matrix[0]).toEqual([9, 3, 0]);
    expect(model.confusion?.total).toBe(36);
  });

  it('picks the same seeded test grid every time, a different one for another seed', () => {
    const again = planRunImages(data).testGrid.map((p) => p.path);
    expect(again).toHaveLength(Math.min(TEST_GRID_SIZE, 36));
    expect(planRunImages(data).testGrid.map((p) => p.path)).toEqual(again);
    expect(planRunImages(fakeRunData({ classes: ['amber', 'cobalt', XSS], perSplit: { test: 12 }, seed: 2 })).testGrid.map((p) => p.path)).not.toEqual(again);
  });

  it('lists misclassified images, most confident first, marked wrong', () => {
    const wrong = data.predictions.filter((p) => p.split === 'test' && p.predictedLabel !== p.trueLabel);
    expect(model.misclassified?.total).toBe(wrong.length);
    expect(model.misclassified?.tiles).toHaveLength(Math.min(MISCLASSIFIED_LIMIT, wrong.length));
    const confidences = planRunImages(data).misclassified.map((p) => p.probabilities[p.predictedLabel]);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    expect(model.misclassified?.tiles.every((t) => t.wrong)).toBe(true);
  });

  it('uses a placeholder (null src) for an image without thumbnail', () => {
    const tiles = model.dataset?.overview.flatMap((o) => o.tiles) ?? [];
    const tile = tiles.find((t) => t.alt.endsWith(gone));
    expect(tile).toBeDefined();
    expect(tile?.src).toBeNull();
    expect(renderRunPage(model)).toContain('<div class="placeholder" role="img"');
    expect(tiles.filter((t) => t.src !== null).every((t) => t.src?.startsWith('../thumbs/'))).toBe(true);
  });

  it('renders a class folder named like an HTML tag as text, everywhere', () => {
    const html = renderRunPage(model);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    // Attribute contexts (alt, title) are escaped too: no raw quote can end them early.
    expect(html).not.toMatch(/onerror=alert/);
  });

  it('shows a running run as running, without final results', () => {
    const running = buildRunPage(fakeRunData({ status: 'running' }), new Map(), links);
    expect(running.status).toEqual({ status: 'running', tone: 'running' });
    expect(running.running).toEqual({ epochsDone: 2, epochsTotal: '5' });
    expect(running.confusion).toBeNull();
    expect(running.curves).not.toBeNull();
    expect(renderRunPage(running)).toContain('id="run-running"');
  });

  it("shows a failed run's error, escaped", () => {
    const failed = buildRunPage(fakeRunData({ status: 'failed', error: `DatasetError: ${XSS}` }), new Map(), links);
    const html = renderRunPage(failed);
    expect(html).toContain('id="run-error"');
    expect(html).toContain('DatasetError: &lt;img');
  });
});

describe('index page model', () => {
  const a = fakeRunData({ name: 'flowers', seed: 1 });
  const b = fakeRunData({ name: 'flowers', seed: 2, params: { 'train.learningRate': '0.01' } });
  const c = fakeRunData({ name: XSS, seed: 3, status: 'running' });
  // The completed runs as the report's check passes them (their numbers follow from their predictions).
  const checked = { results: new Map([a, b].map((d) => [d.run.id, { metrics: { 'test.accuracy': d.final['test.accuracy'], 'test.macro_f1': d.final['test.macro_f1'] } }])), excluded: new Map() };
  const model = buildIndexPage([a, b, c], { store: 'runs.sqlite', runHref: (id) => `runs/${id}.html`, comparisons: [], checked });

  it('groups runs by experiment name with key hyperparameters', () => {
    expect(model.groups.map((g) => [g.name, g.runCount])).toEqual([
      ['flowers', 2],
      [XSS, 1],
    ]);
    const lr = model.paramLabels.indexOf('lr');
    expect(model.groups[0].rows.map((r) => r.params[lr].text).sort()).toEqual(['0.001', '0.01']);
    expect(model.groups[1].rows[0].accuracy.text).toBe('–');
    expect(model.groups[1].rows[0].status.tone).toBe('running');
  });

  it('gives numeric sort keys for numeric columns', () => {
    expect(Number(model.groups[0].rows[0].accuracy.sort)).toBeCloseTo(a.final['test.accuracy']);
    expect(model.groups[1].rows[0].accuracy.sort).toBe('');
  });

  it('escapes run names', () => {
    const html = renderIndexPage(model);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
  });
});

describe('comparison page model', () => {
  const base = fakeRunData({ seed: 1, perSplit: { test: 8 }, wrongEvery: 4 });
  // Same split (same seed), another learning rate and other mistakes.
  const otherData = fakeRunData({ seed: 1, perSplit: { test: 8 }, wrongEvery: 3, params: { 'train.learningRate': '0.01' } });
  const other = { ...otherData, run: { ...base.run, id: 'b'.repeat(32) }, final: { ...otherData.final, 'test.accuracy': base.final['test.accuracy'] - 0.05, 'test.log_loss': 0.3 } };

  it('lists exactly the parameters that differ', () => {
    expect(differingKeys([base.params, other.params]).differing).toEqual(['train.learningRate']);
    expect(differingKeys([{ a: '1' }, { a: '1', b: '2' }]).differing).toEqual(['b']);
    const model = buildComparePage([base, other], new Map(), { ...links, runHref: (id) => id });
    expect(model.differingParams.map((r) => r.key)).toEqual(['train.learningRate']);
    expect(model.differingParams[0].values).toEqual([
      { text: '0.001', differs: false },
      { text: '0.01', differs: true },
    ]);
  });

  it('finds the test images whose prediction flipped', () => {
    const flips = flippedPredictions(base.predictions, other.predictions);
    // Per class (8 test images, i = 0..7): wrong in A at i = 3, 7; wrong in B at i = 2, 5.
    expect(flips.fixed.map((p) => p.path).filter((p) => p.startsWith('amber/'))).toEqual(expect.arrayContaining(['amber/test_3.jpg', 'amber/test_7.jpg']));
    expect(flips.broken.map((p) => p.path).filter((p) => p.startsWith('amber/')).sort()).toEqual(['amber/test_2.jpg', 'amber/test_5.jpg']);
  });

  it('computes signed deltas with better/worse tones and a confusion difference that sums to zero', () => {
    // A third run with twice the mistakes (every 2nd test image wrong): 50% against 75%.
    const worse = { ...fakeRunData({ seed: 1, perSplit: { test: 8 }, wrongEvery: 2 }), run: { ...base.run, id: 'c'.repeat(32) } };
    const model = buildComparePage([base, other, worse], thumbsFor(base), { ...links, runHref: (id) => id });
    const accuracy = model.metrics.find((m) => m.label === 'test accuracy');
    // Recomputed from the predictions, not the fixture's logged 5 points less: both runs get 6 of 8 right per class.
    expect(accuracy?.values[1]).toMatchObject({ text: '75.00%', delta: '±0.00 pp', tone: 'same' });
    expect(model.runs[1].unverified).toMatch(/^test\.accuracy: logged 0\.7, recomputed from the predictions 0\.75/);
    expect(accuracy?.values[2]).toMatchObject({ text: '50.00%', delta: '-25.00 pp', tone: 'worse' });
    const logLoss = model.metrics.find((m) => m.label === 'test log loss')?.values[2];
    expect(logLoss?.tone).toBe('worse');
    expect(logLoss?.delta).toMatch(/^\+0\.\d{4}$/);
    const pair = model.pairs[0];
    expect(pair.comparable).toBe(true);
    expect(pair.fixed.total).toBe(6);
    expect(pair.broken.total).toBe(6);
    expect(pair.fixed.tiles[0].src).toMatch(/^\.\.\/thumbs\/[0-9a-f]{64}\.webp$/);
    const cellDeltas = [...(pair.confusionDiff?.svg ?? '').matchAll(/font-weight="600" fill="#[0-9a-f]+">([+-]?\d+)</g)].map((m) => Number(m[1]));
    expect(cellDeltas).toHaveLength(9);
    expect(cellDeltas.reduce((x, y) => x + y, 0)).toBe(0);
  });

  it('compares runs with different test splits on metrics only, and says why', () => {
    const reseeded = { ...fakeRunData({ seed: 9, perSplit: { test: 8 } }), split: base.split.map((m) => ({ ...m, split: m.split === 'test' ? ('train' as const) : m.split })) };
    expect(incomparableReason(base, reseeded)).toMatch(/different test splits .*seed 1 vs 9.*metrics only/);
    const model = buildComparePage([base, reseeded], new Map(), { ...links, runHref: (id) => id });
    expect(model.pairs[0].comparable).toBe(false);
    expect(model.pairs[0].confusionDiff).toBeNull();
    expect(renderComparePage(model)).toContain('class="banner note metrics-only"');
  });
});
