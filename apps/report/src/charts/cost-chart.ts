import { linearScale, niceDomain, ticks } from './scale';
import { escapeXml, legend, px, seriesColor, svgDocument } from './svg';
import { maxOf, minOf } from '@mlbench/common';

/** One arm: its accuracy (mean ± std over seeds) at its cost. */
export interface CostPoint {
  name: string;
  /** Cost on the log-scaled x axis, e.g. seconds; must be > 0 to be drawn. */
  cost: number;
  mean: number;
  std: number;
  title: string;
  color?: string;
}

export interface CostChartOptions {
  title: string;
  points: readonly CostPoint[];
  xLabel: string;
  yLabel: string;
  formatY: (value: number) => string;
  width?: number;
}

/** Accuracy against cost: log-scaled x (powers of ten as ticks), a dot per arm with a ±std bar. */
export function costChart(options: CostChartOptions): string {
  const width = options.width ?? 640;
  const left = 64;
  const right = width - 20;
  const items = options.points.map((p, i) => ({ ...p, color: p.color ?? seriesColor(i) }));
  const legendBlock = legend(items.map((p) => ({ name: p.name, color: p.color })), left, 28, right - left);
  const top = 28 + legendBlock.height + 14;
  const bottom = top + 240;
  const height = bottom + 46;
  const parts = [`<text x="8" y="18" font-size="14" font-weight="600" fill="#222">${escapeXml(options.title)}</text>`, legendBlock.svg];
  const drawn = items.filter((p) => Number.isFinite(p.cost) && p.cost > 0 && Number.isFinite(p.mean));
  if (drawn.length === 0) {
    parts.push(`<text x="${px(width / 2)}" y="${px((top + bottom) / 2)}" text-anchor="middle" fill="#777">no completed runs to plot</text>`);
    return svgDocument(width, height, options.title, parts.join(''));
  }
  const logs = drawn.map((p) => Math.log10(p.cost));
  const x0 = Math.floor(minOf(logs));
  const x1 = Math.max(x0 + 1, Math.ceil(maxOf(logs)));
  const x = linearScale([x0, x1], [left + 10, right - 10]);
  const [y0, y1] = niceDomain(minOf(drawn.map((p) => p.mean - p.std)), maxOf(drawn.map((p) => p.mean + p.std)));
  const y = linearScale([Math.max(0, y0), Math.min(1, y1)], [bottom, top]);
  for (const tick of ticks(Math.max(0, y0), Math.min(1, y1), 5)) {
    parts.push(
      `<line x1="${px(left)}" y1="${px(y(tick))}" x2="${px(right)}" y2="${px(y(tick))}" stroke="#e5e5e5"/>`,
      `<text x="${px(left - 6)}" y="${px(y(tick) + 4)}" text-anchor="end" fill="#555">${escapeXml(options.formatY(tick))}</text>`,
    );
  }
  for (let e = x0; e <= x1; e++) {
    const label = e >= 0 ? String(10 ** e) : (10 ** e).toFixed(-e);
    parts.push(
      `<line x1="${px(x(e))}" y1="${px(top)}" x2="${px(x(e))}" y2="${px(bottom)}" stroke="#f0f0f0"/>`,
      `<text class="x-tick" x="${px(x(e))}" y="${px(bottom + 16)}" text-anchor="middle" fill="#555">${label}</text>`,
    );
  }
  parts.push(
    `<path d="M${px(left)} ${px(top)}V${px(bottom)}H${px(right)}" fill="none" stroke="#888"/>`,
    `<text x="${px((left + right) / 2)}" y="${px(bottom + 36)}" text-anchor="middle" fill="#333">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(14 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(options.yLabel)}</text>`,
  );
  for (const p of drawn) {
    const cx = x(Math.log10(p.cost));
    const yTop = y(Math.min(1, p.mean + p.std));
    const yBottom = y(Math.max(0, p.mean - p.std));
    parts.push(
      `<g class="cost-point"><title>${escapeXml(p.title)}</title>` +
        `<line x1="${px(cx)}" y1="${px(yTop)}" x2="${px(cx)}" y2="${px(yBottom)}" stroke="${p.color}" stroke-width="2"/>` +
        `<circle cx="${px(cx)}" cy="${px(y(p.mean))}" r="6" fill="${p.color}" stroke="#fff"/></g>`,
    );
  }
  return svgDocument(width, height, options.title, parts.join(''));
}
