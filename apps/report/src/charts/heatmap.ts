import { escapeXml, px, svgDocument, textWidth, truncate } from './svg';
import { maxOf } from '@mlbench/common';

export interface HeatmapOptions {
  title: string;
  rowLabels: readonly string[];
  columnLabels: readonly string[];
  /** Cell shading in [0, 1] (sequential) or [-1, 1] (diverging: + good/green, - bad/red). */
  intensities: readonly (readonly number[])[];
  /** One or two text lines per cell, e.g. a count and a row percentage. */
  cellText: (row: number, column: number) => readonly string[];
  /** Hover text per cell. */
  cellTitle: (row: number, column: number) => string;
  rowAxisLabel: string;
  columnAxisLabel: string;
  palette: 'sequential' | 'diverging';
  /** Extra class names per cell for tests and styling, e.g. "diagonal". */
  cellClass?: (row: number, column: number) => string;
}

/** A matrix of shaded, labelled cells (confusion matrices and their differences). */
export function heatmap(options: HeatmapOptions): string {
  const { rowLabels, columnLabels } = options;
  const n = columnLabels.length;
  const cell = n <= 6 ? 72 : n <= 10 ? 56 : Math.max(26, Math.floor(560 / n));
  const showText = cell >= 40;
  const rowLabelWidth = Math.min(160, Math.max(30, maxOf(rowLabels.map((l) => textWidth(truncate(l, 22)))))) + 10;
  const columnLabelHeight = Math.min(140, Math.max(20, maxOf(columnLabels.map((l) => textWidth(truncate(l, 22)))))) * 0.72 + 14;
  const left = 30 + rowLabelWidth;
  const top = 52 + columnLabelHeight;
  const gridWidth = n * cell;
  const gridHeight = rowLabels.length * cell;
  const width = Math.max(left + gridWidth + 20, 320);
  const height = top + gridHeight + 16;

  const parts: string[] = [
    `<text x="8" y="18" font-size="14" font-weight="600" fill="#222">${escapeXml(options.title)}</text>`,
    `<text class="axis-label" x="${px(left + gridWidth / 2)}" y="40" text-anchor="middle" fill="#333">${escapeXml(options.columnAxisLabel)}</text>`,
    `<text class="axis-label" transform="translate(14 ${px(top + gridHeight / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(options.rowAxisLabel)}</text>`,
  ];
  columnLabels.forEach((label, c) => {
    const cx = left + c * cell + cell / 2;
    parts.push(
      `<text class="column-label" transform="translate(${px(cx)} ${px(top - 6)}) rotate(-35)" fill="#222"><title>${escapeXml(label)}</title>${escapeXml(truncate(label, 22))}</text>`,
    );
  });
  rowLabels.forEach((label, r) => {
    parts.push(
      `<text class="row-label" x="${px(left - 8)}" y="${px(top + r * cell + cell / 2 + 4)}" text-anchor="end" fill="#222"><title>${escapeXml(label)}</title>${escapeXml(truncate(label, 22))}</text>`,
    );
    for (let c = 0; c < n; c++) {
      const intensity = options.intensities[r]?.[c] ?? 0;
      const fill = options.palette === 'sequential' ? sequentialColor(intensity) : divergingColor(intensity);
      const dark = Math.abs(intensity) > 0.55;
      const x = left + c * cell;
      const y = top + r * cell;
      const lines = showText ? options.cellText(r, c) : [];
      const extra = options.cellClass?.(r, c) ?? '';
      const texts = lines
        .map((line, k) => {
          const ty = y + cell / 2 + (k - (lines.length - 1) / 2) * 15 + 4;
          return `<text x="${px(x + cell / 2)}" y="${px(ty)}" text-anchor="middle" font-size="${k === 0 ? 13 : 10.5}" ${k === 0 ? 'font-weight="600" ' : ''}fill="${dark ? '#fff' : '#222'}">${escapeXml(line)}</text>`;
        })
        .join('');
      parts.push(
        `<g class="cell${extra ? ` ${escapeXml(extra)}` : ''}" data-row="${r}" data-column="${c}"><rect x="${px(x)}" y="${px(y)}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"><title>${escapeXml(options.cellTitle(r, c))}</title></rect>${texts}</g>`,
      );
    }
  });
  return svgDocument(width, height, options.title, parts.join(''));
}

/** White to dark blue. */
export function sequentialColor(intensity: number): string {
  const t = Math.max(0, Math.min(1, intensity));
  return mix([247, 251, 255], [8, 69, 148], t);
}

/** Red (negative) through white to green (positive). */
export function divergingColor(intensity: number): string {
  const t = Math.max(-1, Math.min(1, intensity));
  return t >= 0 ? mix([255, 255, 255], [26, 128, 72], t) : mix([255, 255, 255], [192, 40, 40], -t);
}

function mix(from: readonly number[], to: readonly number[], t: number): string {
  const channel = (i: number): string => Math.round(from[i] + (to[i] - from[i]) * t).toString(16).padStart(2, '0');
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}
