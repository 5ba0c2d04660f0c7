import { summarizeSeedGroups, verdictMetrics } from '@mlbench/experiment/results';
import type { Sweep } from '@mlbench/tracking';
import { errorBarChart } from './charts/error-bar-chart';
import { buildIndexPage } from './index-page';
import { renderIndexPage, renderSweepPage } from './render';
import type { RunData } from './run-data';
import { bestGroup, buildSweepPage, getDotted, type SweepData } from './sweep-page';
import { fakeRunData, XSS } from './testing/fixtures';

const SWEEP_ID = 'ab12cd34ef56ab12cd34ef56ab12cd34';
const links = { indexHref: '../index.html', runHref: (id: string) => `../runs/${id}.html` };

function sweep(definition: Record<string, unknown[]>, size: number): Sweep {
  return {
    id: SWEEP_ID,
    name: 'lr-sweep',
    status: 'completed',
    startTime: '2026-01-02T03:00:00.000Z',
    endTime: '2026-01-02T03:10:00.000Z',
    configHash: 'cd'.repeat(32),
    configText: `name: lr-sweep\nsweep:\n  train.learningRate: [0.01, 0.003]\n  seed: [1, 2, 3]\n# ${XSS}\n`,
    definition,
    size,
  };
}

/**
 * A run of the sweep. 12 test images (3 classes x 4); `wrongEvery` 5 gives accuracy 1,
 * 4 gives 0.75 (one wrong per class), 2 gives 0.5.
 */
function sweepRun(index: number, learningRate: number, seed: number, wrongEvery: number, error: string | null = null): RunData {
  const data = fakeRunData({ name: 'lr-sweep', seed, wrongEvery, status: error ? 'failed' : 'completed', error, id: `run${index}`.padEnd(32, '0'), params: { 'train.learningRate': String(learningRate) } });
  const final = error ? {} : { ...data.final, 'test.accuracy.ci_low': 0.5, 'test.accuracy.ci_high': 1 };
  return { ...data, final, run: { ...data.run, sweepId: SWEEP_ID, sweepIndex: index, resolvedConfig: { name: 'lr-sweep', seed, train: { learningRate, epochs: 5 } } } };
}

function sweepData(runs: RunData[], definition: Record<string, unknown[]>): SweepData {
  const completed = runs.filter((r) => r.run.status === 'completed');
  // As the report does: the verdict metrics recomputed from each run's test predictions.
  const verdicts = new Map(completed.map((r) => [r.run.id, verdictMetrics(r.predictions.filter((p) => p.split === 'test'), r.dataset?.classes.length ?? 0)]));
  const groups = summarizeSeedGroups(completed.map((r) => ({ id: r.run.id, seed: r.run.seed, resolvedConfig: r.run.resolvedConfig, metrics: verdicts.get(r.run.id) ?? {} })));
  return { sweep: sweep(definition, runs.length), runs, groups, verdicts, unverified: [] };
}

describe('sweep page model', () => {
  // lr 0.01: accuracies 1, 1, 0.75 over seeds 1-3; lr 0.003: 0.5 and 0.75, seed 3 failed.
  const runs = [
    sweepRun(0, 0.01, 1, 5),
    sweepRun(1, 0.01, 2, 5),
    sweepRun(2, 0.01, 3, 4),
    sweepRun(3, 0.003, 1, 2),
    sweepRun(4, 0.003, 2, 4),
    sweepRun(5, 0.003, 3, 4, `Error: cannot decode ${XSS}`),
  ];
  const data = sweepData(runs, { 'train.learningRate': [0.01, 0.003], seed: [1, 2, 3] });
  const model = buildSweepPage(data, links);

  it('lists every run with its swept values, status, metrics and link', () => {
    expect(model.keys).toEqual(['train.learningRate', 'seed']);
    expect(model.rows.map((r) => r.values)).toEqual([
      ['0.01', '1'],
      ['0.01', '2'],
      ['0.01', '3'],
      ['0.003', '1'],
      ['0.003', '2'],
      ['0.003', '3'],
    ]);
    expect(model.rows.map((r) => r.accuracy.text)).toEqual(['100.00%', '100.00%', '75.00%', '50.00%', '75.00%', '–']);
    expect(model.rows[0].accuracy.ci).toBe('95% CI 50.00–100.00%');
    expect(model.rows[5]).toMatchObject({ index: '6', status: { status: 'failed', tone: 'failed' }, accuracy: { ci: null } });
    expect(model.rows[0].href).toBe(`../runs/${runs[0].run.id}.html`);
    expect(model.counts).toBe('6 of 6 runs recorded: 5 completed, 1 failed');
  });

  it('names the best configuration by mean test accuracy with its t-interval and seed count', () => {
    // mean (1 + 1 + 0.75) / 3 = 0.91667, std 0.14434, t(0.975, 2) = 4.3027: 0.5581 to 1.2752.
    expect(model.best).toMatchObject({ label: 'train.learningRate = 0.01', seeds: 3, accuracy: '91.67% ± 14.43 pp', interval: '95% CI 55.81–127.52%' });
    expect(model.best?.runs.map((r) => r.shortId)).toEqual(['run00000', 'run10000', 'run20000']);
    expect(model.rows.map((r) => r.best)).toEqual([true, true, true, false, false, false]);
    expect(model.groups.map((g) => [g.label, g.n, g.accuracy.meanStd, g.accuracy.ci])).toEqual([
      ['train.learningRate = 0.01', 3, '91.67% ± 14.43 pp', '55.81–127.52%'],
      // 0.5 and 0.75: std 0.17678, t(0.975, 1) = 12.706: -0.9633 to 2.2133.
      ['train.learningRate = 0.003', 2, '62.50% ± 17.68 pp', '-96.33–221.33%'],
    ]);
  });

  it('lists failed runs with their point and error', () => {
    expect(model.failed).toEqual([expect.objectContaining({ index: '6', point: 'train.learningRate = 0.003, seed = 3', error: `Error: cannot decode ${XSS}` })]);
  });

  it('plots test accuracy and macro-F1 against the learning rate only (not the seed), with error bars per seed group', () => {
    expect(model.plots.map((p) => p.key)).toEqual(['train.learningRate']);
    const chart = model.plots[0].accuracy.svg;
    expect(chart.match(/<g class="errorbar"/g)).toHaveLength(2);
    // Both groups have two or more seeds: a t-interval (whiskers) and a std bar each; one hollow dot per run.
    expect(chart.match(/<line class="ci"/g)).toHaveLength(2);
    expect(chart.match(/<rect class="std"/g)).toHaveLength(2);
    expect(chart.match(/<circle class="value"/g)).toHaveLength(5);
    expect(chart).toContain('train.learningRate &#61; 0.01: test accuracy mean 91.7% ± 14.4 pp (std, 3 seeds), 95% t-interval 55.8% to 127.5%');
    // The intervals leave [0, 1]: the axis stays within it and the whiskers are cut with an arrow.
    expect(chart.match(/class="ci-cut"/g)?.length).toBeGreaterThanOrEqual(2);
    expect(model.plots[0].macroF1?.svg).toContain('test macro-F1 by train.learningRate');
  });

  it('renders escaped: error and config text never become markup', () => {
    const html = renderSweepPage(model);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('cannot decode &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(html.match(/<tr class="run /g)).toHaveLength(6);
    expect(html).toContain('id="best-config"');
  });

  it('without a seed key every configuration is its own group: no interval, said so', () => {
    const single = buildSweepPage(sweepData([sweepRun(0, 0.01, 1, 5), sweepRun(1, 0.003, 1, 2)], { 'train.learningRate': [0.01, 0.003] }), links);
    expect(single.best).toMatchObject({ label: 'train.learningRate = 0.01', seeds: 1, accuracy: '100.00% ± – pp', interval: 'one seed: no interval' });
    expect(single.plots[0].accuracy.svg.match(/<line class="ci"/g)).toBeNull();
    expect(single.plots[0].accuracy.svg.match(/<circle class="mean"/g)).toHaveLength(2);
  });

  it('has no best configuration before any run completed', () => {
    const none = buildSweepPage(sweepData([sweepRun(0, 0.01, 1, 5, 'Error: boom')], { 'train.learningRate': [0.01] }), links);
    expect(none.best).toBeNull();
    expect(bestGroup([])).toBeNull();
    expect(none.plots[0].accuracy.svg).toContain('no completed runs to plot');
  });

  it('reads dotted keys from nested configs', () => {
    expect(getDotted({ train: { learningRate: 0.01 } }, 'train.learningRate')).toBe(0.01);
    expect(getDotted({ train: { learningRate: 0.01 } }, 'train.epochs')).toBeUndefined();
    expect(getDotted({ train: 3 }, 'train.learningRate')).toBeUndefined();
  });

  it('the index links every sweep with its grid and run counts', () => {
    const index = buildIndexPage(runs, { store: 'runs.sqlite', runHref: (id) => `runs/${id}.html`, comparisons: [], sweeps: [{ sweep: data.sweep, href: `sweeps/${SWEEP_ID}.html`, runs }], checked: { results: new Map(), excluded: new Map() } });
    expect(index.sweeps).toEqual([expect.objectContaining({ name: 'lr-sweep', grid: 'train.learningRate × 2, seed × 3', runs: '6 of 6 runs: 5 completed, 1 failed', href: `sweeps/${SWEEP_ID}.html` })]);
    expect(renderIndexPage(index)).toContain(`<a href="sweeps/${SWEEP_ID}.html">lr-sweep</a>`);
  });
});

describe('errorBarChart', () => {
  const chart = errorBarChart({
    title: 'Accuracy',
    categories: ['0.01', XSS],
    series: [{ name: 'mean', points: [{ category: 0, mean: 0.8, std: 0.05, low: 0.7, high: 0.9, values: [0.75, 0.85], title: 'a' }, { category: 1, mean: 0.6, title: XSS }] }],
    xLabel: 'lr',
    yLabel: 'accuracy',
  });
  const attr = (name: string, cls: string): number[] => [...chart.matchAll(new RegExp(`<[a-z]+ class="${cls}"[^>]*\\s${name}="([^"]*)"`, 'g'))].map((m) => Number(m[1]));

  it('draws the interval around the mean, the std bar inside it, higher values higher', () => {
    const [meanY, otherY] = attr('cy', 'mean');
    const [y1] = attr('y1', 'ci');
    const [y2] = attr('y2', 'ci');
    expect(otherY).toBeGreaterThan(meanY);
    // y1 is the low end (larger SVG y), y2 the high end; the mean sits halfway for a symmetric interval.
    expect(y1).toBeGreaterThan(meanY);
    expect(y2).toBeLessThan(meanY);
    expect((y1 + y2) / 2).toBeCloseTo(meanY, 1);
    const [stdTop] = attr('y', 'std');
    const [stdHeight] = attr('height', 'std');
    expect(stdTop).toBeGreaterThan(y2);
    expect(stdHeight).toBeCloseTo((y1 - y2) / 2, 0);
    expect(chart.match(/<circle class="value"/g)).toHaveLength(2);
  });

  it('escapes labels and hover text', () => {
    expect(chart).not.toContain('<img');
    expect(chart).toContain('&lt;img src&#61;x onerror&#61;alert(1)&gt;');
  });
});
