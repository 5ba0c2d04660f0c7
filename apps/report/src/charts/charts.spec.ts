import { barChart } from './bar-chart';
import { divergingColor, heatmap, sequentialColor } from './heatmap';
import { lineChart } from './line-chart';
import { escapeXml } from './svg';

const XSS = '<img src=x onerror=alert(1)>';

/** Attribute values of every match of `element` in the markup. */
function attributes(svg: string, element: string, attribute: string): string[] {
  return [...svg.matchAll(new RegExp(`<${element}[^>]*\\s${attribute}="([^"]*)"`, 'g'))].map((m) => m[1]);
}

describe('escapeXml', () => {
  it('escapes markup and attribute delimiters', () => {
    expect(escapeXml(`<a href="x" onclick='y'>&`)).toBe('&lt;a href&#61;&quot;x&quot; onclick&#61;&#39;y&#39;&gt;&amp;');
  });
});

describe('barChart', () => {
  const chart = barChart({
    title: 'Images per class',
    categories: ['daisy', 'roses', XSS],
    series: [
      { name: 'train', values: [100, 50, 25] },
      { name: 'test', values: [20, null, 5] },
    ],
    valueLabel: 'images',
    categoryLabel: 'class',
    domain: [0, 100],
  });

  it('draws one bar per non-null value, widths proportional to the value', () => {
    const widths = attributes(chart, 'rect class="bar"', 'width').map(Number);
    expect(widths).toHaveLength(5);
    // Bars in order: daisy train, daisy test, roses train, xss train, xss test.
    expect(widths[0] / widths[2]).toBeCloseTo(2, 1);
    expect(widths[0] / widths[1]).toBeCloseTo(5, 1);
  });

  it('labels both axes, shows a legend for several series and escapes every label', () => {
    expect(chart).toContain('>images</text>');
    expect(chart).toContain('>class</text>');
    expect(chart).toContain('>train</text>');
    expect(chart).not.toContain('<img');
    expect(chart).toContain('&lt;img src&#61;x onerror&#61;alert(1)&gt;');
  });

  it('grows negative values left of the zero line and colours deltas by sign', () => {
    const deltas = barChart({ title: 'F1 change', categories: ['a', 'b'], series: [{ name: 'B - A', values: [-0.02, 0.01] }], valueLabel: 'F1 difference', categoryLabel: 'class', colorBySign: true });
    const xs = attributes(deltas, 'rect class="bar"', 'x').map(Number);
    const widths = attributes(deltas, 'rect class="bar"', 'width').map(Number);
    const fills = attributes(deltas, 'rect class="bar"', 'fill');
    // The negative bar ends where the positive one starts: at zero.
    expect(xs[0] + widths[0]).toBeCloseTo(xs[1], 1);
    expect(widths[0] / widths[1]).toBeCloseTo(2, 1);
    expect(fills).toEqual(['#c0392b', '#2e8b57']);
  });
});

describe('lineChart', () => {
  const chart = lineChart({
    title: 'Loss',
    series: [
      { name: 'val', points: [{ x: 1, y: 0.5 }, { x: 2, y: 0.4 }, { x: 3, y: 0.35 }] },
      { name: 'train', points: [{ x: 1, y: 0.8 }, { x: 2, y: 0.3 }, { x: 3, y: 0.2 }], dashed: true },
    ],
    xLabel: 'epoch',
    yLabel: 'loss',
    integerX: true,
  });

  it('draws one path per series with a marker per point, the second dashed', () => {
    const paths = [...chart.matchAll(/<path class="line"[^>]*>/g)].map((m) => m[0]);
    expect(paths).toHaveLength(2);
    expect(paths[0]).not.toContain('stroke-dasharray');
    expect(paths[1]).toContain('stroke-dasharray');
    expect(chart.match(/<circle /g)).toHaveLength(6);
  });

  it('puts lower values lower on the page (larger SVG y)', () => {
    const ys = attributes(chart, 'circle', 'cy').map(Number);
    // val: 0.5, 0.4, 0.35 -> increasing y.
    expect(ys[0]).toBeLessThan(ys[1]);
    expect(ys[1]).toBeLessThan(ys[2]);
  });

  it('labels the axes with integer epochs and hover values', () => {
    expect(chart).toContain('>epoch</text>');
    expect(chart).toContain('>loss</text>');
    expect(chart).toContain('<title>val · epoch 2: 0.4</title>');
    expect(chart).not.toMatch(/>1\.5<\/text>/);
  });

  it('says so when there is nothing to draw', () => {
    expect(lineChart({ title: 'Loss', series: [], xLabel: 'epoch', yLabel: 'loss' })).toContain('no data recorded yet');
  });
});

describe('heatmap', () => {
  const matrix = [
    [8, 2],
    [1, 9],
  ];
  const chart = heatmap({
    title: 'Confusion',
    rowLabels: ['daisy', XSS],
    columnLabels: ['daisy', XSS],
    intensities: matrix.map((row) => row.map((v) => v / 10)),
    cellText: (r, c) => [String(matrix[r][c])],
    cellTitle: (r, c) => `${r},${c}`,
    rowAxisLabel: 'actual class',
    columnAxisLabel: 'predicted class',
    palette: 'sequential',
    cellClass: (r, c) => (r === c ? 'diagonal' : ''),
  });

  it('draws every cell with its text and shading', () => {
    expect(chart.match(/<g class="cell/g)).toHaveLength(4);
    expect(chart.match(/<g class="cell diagonal"/g)).toHaveLength(2);
    expect(chart).toContain(`fill="${sequentialColor(0.9)}"`);
    expect(chart).toMatch(/>9<\/text>/);
  });

  it('labels rows and columns (escaped) and both axes', () => {
    expect(chart).toContain('>actual class</text>');
    expect(chart).toContain('>predicted class</text>');
    expect(chart).not.toContain('<img');
    expect(chart.match(/&lt;img src&#61;x onerror&#61;alert\(1\)&gt;/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('maps intensities to white, blue, green and red', () => {
    expect(sequentialColor(0)).toBe('#f7fbff');
    expect(sequentialColor(1)).toBe('#084594');
    expect(divergingColor(0)).toBe('#ffffff');
    expect(divergingColor(1)).toBe('#1a8048');
    expect(divergingColor(-1)).toBe('#c02828');
  });
});
