import { buildComparePage, pairedComparison, significanceView } from './compare-page';
import { intervalText, pValue } from './format';
import type { ThumbnailIndex } from './images';
import { renderComparePage, renderRunPage } from './render';
import { buildRunPage } from './run-page';
import { fakeRunData, XSS } from './testing/fixtures';

const noThumbs: ThumbnailIndex = new Map();
const compareLinks = { thumbPrefix: '../thumbs/', indexHref: '../index.html', runHref: (id: string) => `../runs/${id}.html` };

// 3 classes x 20 test images, same seed (same split). wrongEvery 2: images 1, 3, ..., 19 of each
// class wrong (accuracy 0.5); 4: images 3, 7, 11, 15, 19 (0.75); 5: images 4, 9, 14, 19 (0.8).
const run = (id: string, wrongEvery: number) => fakeRunData({ id: id.padEnd(32, '0'), wrongEvery, perSplit: { test: 20 } });

describe('paired significance on the comparison page', () => {
  it('a clear improvement: difference, interval, exact McNemar p, significant', () => {
    const comparison = pairedComparison(run('a', 2).predictions, run('b', 4).predictions);
    // B fixes images 1, 5, 9, 13, 17 of each class (15) and breaks none: p = 2 * 0.5^15.
    expect(comparison).toMatchObject({ paired: 60, onlyACorrect: 15, onlyBCorrect: 0 });
    expect(comparison?.mcnemarP).toBeCloseTo(6.103515625e-5, 12);
    expect(comparison?.accuracyDifference.estimate).toBeCloseTo(0.25, 12);
    const view = significanceView(comparison!, ['A', 'B']);
    const { low, high } = comparison!.accuracyDifference;
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0.25);
    expect(view.significant).toBe(true);
    expect(view.sentence).toBe(`B is more accurate than A by 25.0 points (95% CI ${(100 * low).toFixed(1)} to ${(100 * high).toFixed(1)}), McNemar p < 0.0001: significant at the 0.05 level.`);
  });

  it('a small difference: not significant, p from the binomial', () => {
    // B (wrongEvery 5) vs A (wrongEvery 4): 12 images only B right, 9 only A right; p = 2 P(X <= 9), X ~ Bin(21, 1/2) = 0.6636.
    const comparison = pairedComparison(run('a', 4).predictions, run('b', 5).predictions);
    expect(comparison).toMatchObject({ onlyACorrect: 12, onlyBCorrect: 9 });
    expect(comparison?.mcnemarP).toBeCloseTo(0.6636238098144531, 10);
    const view = significanceView(comparison!, ['A', 'B']);
    expect(view.significant).toBe(false);
    expect(view.sentence).toMatch(/^B is more accurate than A by 5\.0 points \(95% CI -?\d+\.\d to \d+\.\d\), McNemar p = 0\.66: not significant at the 0\.05 level\.$/);
  });

  it('a worse run is "less accurate", with the interval of the amount stated', () => {
    const comparison = pairedComparison(run('a', 4).predictions, run('b', 2).predictions);
    const view = significanceView(comparison!, ['A', 'C']);
    const { low, high } = comparison!.accuracyDifference;
    expect(view.sentence).toBe(`C is less accurate than A by 25.0 points (95% CI ${(-100 * high).toFixed(1)} to ${(-100 * low).toFixed(1)}), McNemar p < 0.0001: significant at the 0.05 level.`);
  });

  it('identical predictions: equally accurate, p = 1', () => {
    const view = significanceView(pairedComparison(run('a', 4).predictions, run('b', 4).predictions)!, ['A', 'B']);
    expect(view.sentence).toBe('B and A are equally accurate (difference 0.0 points, 95% CI 0.0 to 0.0), McNemar p = 1: not significant at the 0.05 level.');
  });

  it('the page: one sentence per run against A, none across different test splits', () => {
    const a = run('a', 2);
    const b = run('b', 4);
    // One test image fewer per class: another test split.
    const other = fakeRunData({ id: 'c'.padEnd(32, '0'), seed: 2, wrongEvery: 4, perSplit: { test: 19 } });
    const model = buildComparePage([a, b, other], noThumbs, compareLinks);
    expect(model.pairs[0].significance?.sentence).toMatch(/^B is more accurate than A by 25\.0 points/);
    expect(model.pairs[1].significance).toBeNull();
    expect(model.differenceChart?.svg.match(/<g class="errorbar"/g)).toHaveLength(1);
    const html = renderComparePage(model);
    expect(html).toContain('significant at the 0.05 level.');
    expect(html).toContain('no paired test: the runs have different test splits');
  });
});

describe('intervals on the run page', () => {
  it('shows the recorded bootstrap intervals next to test accuracy and macro-F1', () => {
    const data = fakeRunData();
    const final = { ...data.final, 'test.accuracy.ci_low': 0.864, 'test.accuracy.ci_high': 0.912, 'test.macro_f1.ci_low': 0.85, 'test.macro_f1.ci_high': 0.9, 'val.accuracy.ci_low': 0.8, 'val.accuracy.ci_high': 0.95 };
    const model = buildRunPage({ ...data, final }, noThumbs, { thumbPrefix: '', indexHref: '' });
    expect(model.headline.map((h) => [h.id, h.ci])).toEqual([
      ['test-accuracy', '95% CI 86.40–91.20%'],
      ['test-macro-f1', '95% CI 0.8500–0.9000'],
      ['test-log-loss', null],
      ['val-accuracy', '95% CI 80.00–95.00%'],
      ['train-time', null],
    ]);
    expect(renderRunPage(model)).toContain('<div class="ci">95% CI 86.40–91.20%</div>');
  });

  it('shows nothing for older runs without intervals', () => {
    const model = buildRunPage(fakeRunData(), noThumbs, { thumbPrefix: '', indexHref: '' });
    expect(model.headline.every((h) => h.ci === null)).toBe(true);
    expect(renderRunPage(model)).not.toContain('class="ci"');
  });

  it('formats intervals and p-values', () => {
    expect(intervalText(0.1, null, 'percent')).toBeNull();
    expect(intervalText(0.12345, 0.5, 'fixed')).toBe('95% CI 0.1235–0.5000');
    expect(pValue(0.01)).toBe('= 0.01');
    expect(pValue(0.04567)).toBe('= 0.0457');
    expect(pValue(0.5)).toBe('= 0.5');
    expect(pValue(0.00001)).toBe('< 0.0001');
  });
});

describe('skipped files on the run page', () => {
  const data = { ...fakeRunData(), skippedFiles: [{ path: `roses/${XSS}.jpg`, sha256: 'e'.repeat(64), reason: 'corrupt JPEG: premature end of data' }, { path: 'daisy/empty.jpg', sha256: null, reason: 'empty file (0 bytes)' }] };
  const model = buildRunPage(data, noThumbs, { thumbPrefix: '', indexHref: '' });

  it('counts them in the header facts and lists path and reason, sorted by path', () => {
    expect(model.facts.find((f) => f.label === 'skipped files')).toMatchObject({ value: '2 unreadable, left out', warn: true });
    expect(model.skipped).toEqual({
      count: 2,
      rows: [
        { path: 'daisy/empty.jpg', reason: 'empty file (0 bytes)', sha256: '–' },
        { path: `roses/${XSS}.jpg`, reason: 'corrupt JPEG: premature end of data', sha256: 'eeeeeeeeeeee' },
      ],
    });
  });

  it('renders them escaped, and no section without skipped files', () => {
    const html = renderRunPage(model);
    expect(html).toContain('<code>roses/&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;.jpg</code>');
    expect(html).not.toContain('<img src=x');
    expect(renderRunPage(buildRunPage(fakeRunData(), noThumbs, { thumbPrefix: '', indexHref: '' }))).not.toContain('id="skipped-files"');
  });
});
