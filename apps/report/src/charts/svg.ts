/** Small helpers shared by the SVG chart functions. */

/** Escapes text for SVG/HTML text and attribute values; every label passes through here. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => XML_ENTITIES[c]);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
};

/** Categorical colours (Tableau 10, colour-blind friendly and distinct in greyscale print). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export const seriesColor = (index: number): string => PALETTE[index % PALETTE.length];

/** Numbers in SVG coordinates: two decimals are plenty and keep the markup small and stable. */
export const px = (value: number): string => (Math.round(value * 100) / 100).toString();

/** Shortens a label to `max` characters with an ellipsis; the caller keeps the full text in a <title>. */
export function truncate(label: string, max: number): string {
  return label.length <= max ? label : `${label.slice(0, Math.max(1, max - 1))}…`;
}

/** Rough width of a label in the chart font (12px system sans): good enough for layout margins. */
export const textWidth = (label: string, fontSize = 12): number => label.length * fontSize * 0.58;

/** The <svg> element every chart shares: responsive (viewBox), accessible (role, <title>). */
export function svgDocument(width: number, height: number, title: string, body: string): string {
  return (
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" ` +
    `role="img" aria-label="${escapeXml(title)}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">` +
    `<title>${escapeXml(title)}</title>${body}</svg>`
  );
}

/** A legend row of colour swatches; returns the markup and its height. */
export function legend(items: readonly { name: string; color: string; dashed?: boolean }[], x: number, y: number, maxWidth: number): { svg: string; height: number } {
  let cx = x;
  let cy = y;
  const parts: string[] = [];
  for (const item of items) {
    const label = truncate(item.name, 40);
    const w = 22 + textWidth(label) + 14;
    if (cx + w > x + maxWidth && cx > x) {
      cx = x;
      cy += 18;
    }
    const swatch = item.dashed
      ? `<line x1="${px(cx)}" y1="${px(cy + 6)}" x2="${px(cx + 16)}" y2="${px(cy + 6)}" stroke="${item.color}" stroke-width="2.5" stroke-dasharray="4 3"/>`
      : `<rect x="${px(cx)}" y="${px(cy)}" width="16" height="12" rx="2" fill="${item.color}"/>`;
    parts.push(`<g class="legend-item">${swatch}<text x="${px(cx + 22)}" y="${px(cy + 10)}" fill="#333"><title>${escapeXml(item.name)}</title>${escapeXml(label)}</text></g>`);
    cx += w;
  }
  return { svg: parts.join(''), height: items.length === 0 ? 0 : cy - y + 18 };
}
