import { formatTick, linearScale, niceDomain, ticks } from './scale';
import { escapeXml, legend, px, seriesColor, svgDocument, textWidth, truncate } from './svg';
import { maxOf, minOf } from '@mlbench/common';

export interface BarSeries {
  name: string;
  /** One value per category; null draws no bar (e.g. a class missing from one run). */
  values: readonly (number | null)[];
  color?: string;
}

export interface BarChartOptions {
  title: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  /** Label of the value axis, e.g. "images" or "F1". */
  valueLabel: string;
  /** Label of the category axis, e.g. "class". */
  categoryLabel: string;
  /** Fixed value domain, e.g. [0, 1] for scores; otherwise from the data (always including 0). */
  domain?: readonly [number, number];
  /** Text at the end of each bar. */
  formatValue?: (value: number) => string;
  /** Colour bars by sign (green up, red down) instead of by series: for deltas. */
  colorBySign?: boolean;
  width?: number;
}

const BAR_HEIGHT = 14;
const GROUP_GAP = 10;

/**
 * Horizontal bar chart; several series make grouped bars. Horizontal because class names
 * can be long: they read left of the bars without rotation. Negative values grow left of zero.
 */
export function barChart(options: BarChartOptions): string {
  const { categories, series } = options;
  const width = options.width ?? 560;
  const format = options.formatValue ?? formatTick;
  const labelWidth = Math.min(170, Math.max(40, maxOf(categories.map((c) => textWidth(truncate(c, 26)))))) + 12;
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const [d0, d1] = options.domain ?? niceDomain(Math.min(0, minOf(values)), Math.max(0, maxOf(values)));
  const valueTextWidth = Math.max(0, maxOf(values.map((v) => textWidth(format(v), 11)))) + 8;

  const legendBlock = series.length > 1 ? legend(series.map((s, i) => ({ name: s.name, color: s.color ?? seriesColor(i) })), labelWidth, 30, width - labelWidth - 10) : { svg: '', height: 0 };
  // Room under the title (and legend) for the category-axis label.
  const top = 30 + legendBlock.height + (series.length > 1 ? 6 : 18);
  const groupHeight = Math.max(1, series.length) * BAR_HEIGHT + GROUP_GAP;
  const plotHeight = Math.max(1, categories.length) * groupHeight;
  const left = labelWidth;
  // Room for value labels on both sides when values can be negative.
  const right = width - 10 - valueTextWidth;
  const plotLeft = d0 < 0 ? left + valueTextWidth : left;
  const x = linearScale([d0, d1], [plotLeft, right]);
  const height = top + plotHeight + 46;

  const parts: string[] = [`<text x="${px(8)}" y="18" font-size="14" font-weight="600" fill="#222">${escapeXml(options.title)}</text>`, legendBlock.svg];
  for (const tick of ticks(d0, d1, 5)) {
    const tx = x(tick);
    parts.push(
      `<line x1="${px(tx)}" y1="${px(top)}" x2="${px(tx)}" y2="${px(top + plotHeight)}" stroke="${tick === 0 ? '#888' : '#e5e5e5'}"/>`,
      `<text x="${px(tx)}" y="${px(top + plotHeight + 16)}" text-anchor="middle" fill="#555">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  categories.forEach((category, c) => {
    const gy = top + c * groupHeight + GROUP_GAP / 2;
    const label = truncate(category, 26);
    parts.push(
      `<text class="category" x="${px(left - 8)}" y="${px(gy + (series.length * BAR_HEIGHT) / 2 + 4)}" text-anchor="end" fill="#222"><title>${escapeXml(category)}</title>${escapeXml(label)}</text>`,
    );
    series.forEach((s, i) => {
      const value = s.values[c];
      if (value === null || value === undefined || !Number.isFinite(value)) return;
      const x0 = x(Math.max(d0, Math.min(0, d1)));
      const x1 = x(Math.max(d0, Math.min(d1, value)));
      const color = options.colorBySign ? (value >= 0 ? '#2e8b57' : '#c0392b') : (s.color ?? seriesColor(i));
      const y = gy + i * BAR_HEIGHT;
      const tip = `${series.length > 1 ? `${s.name} · ` : ''}${category}: ${format(value)}`;
      parts.push(
        `<rect class="bar" x="${px(Math.min(x0, x1))}" y="${px(y + 1)}" width="${px(Math.max(0.5, Math.abs(x1 - x0)))}" height="${BAR_HEIGHT - 2}" fill="${color}"><title>${escapeXml(tip)}</title></rect>`,
        `<text x="${px(value < 0 ? Math.min(x0, x1) - 4 : Math.max(x0, x1) + 4)}" y="${px(y + BAR_HEIGHT - 3)}" font-size="11" text-anchor="${value < 0 ? 'end' : 'start'}" fill="#444">${escapeXml(format(value))}</text>`,
      );
    });
  });
  parts.push(
    `<line x1="${px(left)}" y1="${px(top)}" x2="${px(left)}" y2="${px(top + plotHeight)}" stroke="#888"/>`,
    `<text class="axis-label" x="${px((plotLeft + right) / 2)}" y="${px(top + plotHeight + 36)}" text-anchor="middle" fill="#333">${escapeXml(options.valueLabel)}</text>`,
    `<text class="axis-label" x="8" y="${px(top - 4)}" fill="#333" font-style="italic">${escapeXml(options.categoryLabel)}</text>`,
  );
  return svgDocument(width, height, options.title, parts.join(''));
}
