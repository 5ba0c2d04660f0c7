import { formatTick, linearScale, niceDomain, ticks } from './scale';
import { escapeXml, legend, px, seriesColor, svgDocument, textWidth, truncate } from './svg';
import { maxOf, minOf } from '@mlbench/common';

/** One summarised point: a mean with its spread, and the raw values it summarises. */
export interface ErrorBarPoint {
  /** Index into the chart's categories. */
  category: number;
  mean: number;
  /** Standard deviation: drawn as a thick bar, mean ± std; omitted (or 0) draws none. */
  std?: number;
  /** Interval of the mean (e.g. a 95% t-interval): drawn as thin whiskers with caps. */
  low?: number | null;
  high?: number | null;
  /** The individual measurements (e.g. one per seed), drawn as small hollow dots. */
  values?: readonly number[];
  /** Hover text of the point. */
  title: string;
}

export interface ErrorBarSeries {
  name: string;
  points: readonly ErrorBarPoint[];
  color?: string;
}

export interface ErrorBarChartOptions {
  title: string;
  /** Positions on the x axis, in order (e.g. the values of a swept key). */
  categories: readonly string[];
  series: readonly ErrorBarSeries[];
  xLabel: string;
  yLabel: string;
  formatY?: (value: number) => string;
  /** The y axis never leaves these bounds (e.g. [0, 1] for accuracy); whiskers beyond are cut, with an arrow. */
  clamp?: readonly [number, number];
  /** A horizontal reference line, e.g. 0 for differences. */
  referenceLine?: number;
  width?: number;
  height?: number;
}

/**
 * Means with error bars over categorical x positions: the thick bar is mean ± std, the thin
 * whiskers the interval of the mean, hollow dots the individual measurements. Several series
 * sit side by side within a category.
 */
export function errorBarChart(options: ErrorBarChartOptions): string {
  const { categories, series } = options;
  const width = options.width ?? Math.max(440, Math.min(640, 160 + categories.length * Math.max(80, series.length * 40)));
  const format = options.formatY ?? formatTick;
  const left = 64;
  const right = width - 14;
  const legendBlock = series.length > 1 ? legend(series.map((s, i) => ({ name: s.name, color: s.color ?? seriesColor(i) })), left, 28, right - left) : { svg: '', height: 0 };
  const top = 28 + legendBlock.height + 10;
  const bottom = top + (options.height ?? 220);
  const categoryLabels = categories.map((c) => truncate(c, 18));
  const rotate = categoryLabels.some((c) => textWidth(c) > (right - left) / Math.max(1, categories.length) - 6);
  const labelDepth = rotate ? maxOf(categoryLabels.map((c) => textWidth(c))) * 0.6 + 10 : 0;
  const height = bottom + 44 + labelDepth;

  const parts: string[] = [`<text x="8" y="18" font-size="14" font-weight="600" fill="#222">${escapeXml(options.title)}</text>`, legendBlock.svg];
  const finite = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);
  const extent = series.flatMap((s) => s.points.flatMap((p) => [p.mean, p.mean - (p.std ?? 0), p.mean + (p.std ?? 0), p.low, p.high, ...(p.values ?? [])])).filter(finite);
  if (options.referenceLine !== undefined) extent.push(options.referenceLine);
  if (extent.length === 0 || categories.length === 0) {
    parts.push(`<text x="${px(width / 2)}" y="${px((top + bottom) / 2)}" text-anchor="middle" fill="#777">no completed runs to plot</text>`);
    return svgDocument(width, height, options.title, parts.join(''));
  }
  let [y0, y1] = niceDomain(minOf(extent), maxOf(extent));
  if (options.clamp) {
    y0 = Math.max(options.clamp[0], y0);
    y1 = Math.min(options.clamp[1], y1);
  }
  const y = linearScale([y0, y1], [bottom, top]);
  const clampY = (v: number): number => y(Math.max(y0, Math.min(y1, v)));
  const band = (right - left) / categories.length;
  const slot = Math.min(34, (band * 0.8) / Math.max(1, series.length));
  const centre = (category: number, s: number): number => left + band * (category + 0.5) + (s - (series.length - 1) / 2) * slot;

  for (const tick of ticks(y0, y1, 5)) {
    parts.push(
      `<line x1="${px(left)}" y1="${px(y(tick))}" x2="${px(right)}" y2="${px(y(tick))}" stroke="#e5e5e5"/>`,
      `<text x="${px(left - 6)}" y="${px(y(tick) + 4)}" text-anchor="end" fill="#555">${escapeXml(format(tick))}</text>`,
    );
  }
  if (options.referenceLine !== undefined && options.referenceLine >= y0 && options.referenceLine <= y1) {
    parts.push(`<line class="reference" x1="${px(left)}" y1="${px(y(options.referenceLine))}" x2="${px(right)}" y2="${px(y(options.referenceLine))}" stroke="#666" stroke-dasharray="4 3"/>`);
  }
  categories.forEach((category, c) => {
    const cx = left + band * (c + 0.5);
    const label = categoryLabels[c];
    parts.push(
      `<line x1="${px(cx)}" y1="${px(bottom)}" x2="${px(cx)}" y2="${px(bottom + 4)}" stroke="#888"/>`,
      rotate
        ? `<text class="category" transform="translate(${px(cx)} ${px(bottom + 14)}) rotate(30)" fill="#333"><title>${escapeXml(category)}</title>${escapeXml(label)}</text>`
        : `<text class="category" x="${px(cx)}" y="${px(bottom + 17)}" text-anchor="middle" fill="#333"><title>${escapeXml(category)}</title>${escapeXml(label)}</text>`,
    );
  });
  parts.push(`<path d="M${px(left)} ${px(top)}V${px(bottom)}H${px(right)}" fill="none" stroke="#888"/>`);

  series.forEach((s, i) => {
    const color = s.color ?? seriesColor(i);
    // A faint line through the means shows the trend across the categories.
    const means = s.points.filter((p) => finite(p.mean) && p.category >= 0 && p.category < categories.length).sort((a, b) => a.category - b.category);
    if (means.length > 1) {
      parts.push(`<path class="trend" d="${means.map((p, k) => `${k === 0 ? 'M' : 'L'}${px(centre(p.category, i))} ${px(clampY(p.mean))}`).join('')}" fill="none" stroke="${color}" stroke-opacity="0.45" stroke-width="1.5"/>`);
    }
    for (const p of s.points) {
      if (!finite(p.mean) || p.category < 0 || p.category >= categories.length) continue;
      const x = centre(p.category, i);
      const title = `<title>${escapeXml(p.title)}</title>`;
      const pieces: string[] = [];
      if (finite(p.low) && finite(p.high)) {
        const cap = 6;
        const ends = [
          { v: p.low, cut: p.low < y0 },
          { v: p.high, cut: p.high > y1 },
        ];
        pieces.push(`<line class="ci" x1="${px(x)}" y1="${px(clampY(p.low))}" x2="${px(x)}" y2="${px(clampY(p.high))}" stroke="${color}" stroke-width="1.5"/>`);
        for (const end of ends) {
          const ey = clampY(end.v);
          pieces.push(
            end.cut
              ? `<path class="ci-cut" d="M${px(x - cap)} ${px(ey + (end.v > y1 ? 6 : -6))}L${px(x)} ${px(ey)}L${px(x + cap)} ${px(ey + (end.v > y1 ? 6 : -6))}" fill="none" stroke="${color}" stroke-width="1.5"/>`
              : `<line class="ci-cap" x1="${px(x - cap)}" y1="${px(ey)}" x2="${px(x + cap)}" y2="${px(ey)}" stroke="${color}" stroke-width="1.5"/>`,
          );
        }
      }
      if (finite(p.std) && p.std > 0) {
        const yTop = clampY(p.mean + p.std);
        const yBottom = clampY(p.mean - p.std);
        pieces.push(`<rect class="std" x="${px(x - 4)}" y="${px(yTop)}" width="8" height="${px(Math.max(0.5, yBottom - yTop))}" fill="${color}" fill-opacity="0.35" stroke="${color}"/>`);
      }
      for (const [k, v] of (p.values ?? []).filter(finite).entries()) {
        pieces.push(`<circle class="value" cx="${px(x + 10 + (k % 3) * 4)}" cy="${px(clampY(v))}" r="2.5" fill="#fff" stroke="${color}" stroke-opacity="0.8"/>`);
      }
      pieces.push(`<circle class="mean" cx="${px(x)}" cy="${px(clampY(p.mean))}" r="4.5" fill="${color}" stroke="#fff"/>`);
      parts.push(`<g class="errorbar" data-category="${p.category}" data-series="${i}">${title}${pieces.join('')}</g>`);
    }
  });
  parts.push(
    `<text class="axis-label" x="${px((left + right) / 2)}" y="${px(bottom + 36 + labelDepth)}" text-anchor="middle" fill="#333">${escapeXml(options.xLabel)}</text>`,
    `<text class="axis-label" transform="translate(14 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(options.yLabel)}</text>`,
  );
  return svgDocument(width, height, options.title, parts.join(''));
}
