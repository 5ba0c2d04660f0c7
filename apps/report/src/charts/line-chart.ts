import { formatTick, linearScale, niceDomain, ticks } from './scale';
import { escapeXml, legend, px, seriesColor, svgDocument } from './svg';
import { maxOf, minOf } from '@mlbench/common';

export interface LinePoint {
  x: number;
  y: number;
}

export interface LineSeries {
  name: string;
  points: readonly LinePoint[];
  color?: string;
  /** Dashed lines mark the secondary curve of a pair, e.g. train next to val. */
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  series: readonly LineSeries[];
  xLabel: string;
  yLabel: string;
  /** Fixed y domain, e.g. [0, 1] for accuracy; otherwise from the data. */
  yDomain?: readonly [number, number];
  /** x ticks on whole numbers only (epochs). */
  integerX?: boolean;
  formatY?: (value: number) => string;
  width?: number;
  height?: number;
}

/** Line chart with several series, markers with hover values, labelled axes and a legend. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 520;
  const plotHeightTarget = options.height ?? 240;
  const format = options.formatY ?? formatTick;
  const points = options.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const left = 58;
  const right = width - 14;
  const legendBlock = legend(options.series.map((s, i) => ({ name: s.name, color: s.color ?? seriesColor(i), dashed: s.dashed })), left, 28, right - left);
  const top = 28 + legendBlock.height + 8;
  const bottom = top + plotHeightTarget;
  const height = bottom + 44;

  const parts: string[] = [`<text x="8" y="18" font-size="14" font-weight="600" fill="#222">${escapeXml(options.title)}</text>`, legendBlock.svg];
  if (points.length === 0) {
    parts.push(`<text x="${px(width / 2)}" y="${px((top + bottom) / 2)}" text-anchor="middle" fill="#777">no data recorded yet</text>`);
    return svgDocument(width, height, options.title, parts.join(''));
  }
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const xMin = minOf(xs);
  const xMax = maxOf(xs);
  const [y0, y1] = options.yDomain ?? niceDomain(minOf(ys), maxOf(ys));
  const x = linearScale([xMin, xMax === xMin ? xMin + 1 : xMax], [left + 6, right - 6]);
  const y = linearScale([y0, y1], [bottom, top]);

  for (const tick of ticks(y0, y1, 5)) {
    parts.push(
      `<line x1="${px(left)}" y1="${px(y(tick))}" x2="${px(right)}" y2="${px(y(tick))}" stroke="#e5e5e5"/>`,
      `<text x="${px(left - 6)}" y="${px(y(tick) + 4)}" text-anchor="end" fill="#555">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  const xTicks = ticks(xMin, xMax === xMin ? xMin + 1 : xMax, Math.min(10, Math.max(1, xMax - xMin))).filter((t) => !options.integerX || Number.isInteger(t));
  for (const tick of xTicks) {
    parts.push(
      `<line x1="${px(x(tick))}" y1="${px(bottom)}" x2="${px(x(tick))}" y2="${px(bottom + 4)}" stroke="#888"/>`,
      `<text x="${px(x(tick))}" y="${px(bottom + 17)}" text-anchor="middle" fill="#555">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  parts.push(`<path d="M${px(left)} ${px(top)}V${px(bottom)}H${px(right)}" fill="none" stroke="#888"/>`);
  options.series.forEach((s, i) => {
    const color = s.color ?? seriesColor(i);
    const valid = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).slice().sort((a, b) => a.x - b.x);
    if (valid.length === 0) return;
    const d = valid.map((p, k) => `${k === 0 ? 'M' : 'L'}${px(x(p.x))} ${px(y(p.y))}`).join('');
    parts.push(`<path class="line" d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    for (const p of valid) {
      parts.push(
        `<circle cx="${px(x(p.x))}" cy="${px(y(p.y))}" r="${s.dashed ? 2 : 3}" fill="${s.dashed ? '#fff' : color}" stroke="${color}"><title>${escapeXml(`${s.name} · ${options.xLabel} ${formatTick(p.x)}: ${format(p.y)}`)}</title></circle>`,
      );
    }
  });
  parts.push(
    `<text class="axis-label" x="${px((left + right) / 2)}" y="${px(bottom + 36)}" text-anchor="middle" fill="#333">${escapeXml(options.xLabel)}</text>`,
    `<text class="axis-label" transform="translate(14 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(options.yLabel)}</text>`,
  );
  return svgDocument(width, height, options.title, parts.join(''));
}
