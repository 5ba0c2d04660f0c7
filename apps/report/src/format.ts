/** Display formatting shared by the page models. Missing values print as an en dash. */

export const MISSING = '–';

export const percent = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? MISSING : `${(100 * x).toFixed(digits)}%`);

export const fixed = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined || !Number.isFinite(x) ? MISSING : x.toFixed(digits));

/** 950 ms -> "0.95s", 83 s -> "1m 23s", 2 h -> "2h 00m". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return MISSING;
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(2)}s`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** ISO timestamp -> "2026-11-30 03:49" in UTC: a fixed zone, so regenerated pages stay identical. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return MISSING;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}`;
}

/** Signed difference for delta columns: "+1.23 pp" for rates, "-0.0123" otherwise. */
export function signed(value: number, unit: 'pp' | 'plain' | 'seconds', digits = unit === 'pp' ? 2 : 4): string {
  if (!Number.isFinite(value)) return MISSING;
  const shown = unit === 'pp' ? 100 * value : value;
  const text = Math.abs(shown) < 0.5 * 10 ** -digits ? (0).toFixed(digits) : shown.toFixed(digits);
  const sign = text.startsWith('-') ? '' : Number(text) === 0 ? '±' : '+';
  return `${sign}${text}${unit === 'pp' ? ' pp' : unit === 'seconds' ? 's' : ''}`;
}

export const shortId = (id: string): string => id.slice(0, 8);

/** Last path segment, for compact table cells (the full path goes into a title attribute). */
export function baseName(p: string | undefined): string {
  if (!p) return MISSING;
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}

/**
 * A confidence interval as text, "95% CI 86.12–91.03%" for rates or "95% CI 0.8512–0.9034",
 * or null when either bound is missing (runs recorded before intervals were).
 */
export function intervalText(low: number | null | undefined, high: number | null | undefined, kind: 'percent' | 'fixed', level = 0.95, prefix = true): string | null {
  if (low === null || low === undefined || high === null || high === undefined || !Number.isFinite(low) || !Number.isFinite(high)) return null;
  const range = kind === 'percent' ? `${(100 * low).toFixed(2)}–${(100 * high).toFixed(2)}%` : `${low.toFixed(4)}–${high.toFixed(4)}`;
  return prefix ? `${Math.round(100 * level)}% CI ${range}` : range;
}

/** A p-value for prose: three significant digits, "< 0.0001" below that. */
export function pValue(p: number): string {
  if (!Number.isFinite(p)) return MISSING;
  if (p < 0.0001) return '< 0.0001';
  return `= ${Number(p.toPrecision(p >= 0.1 ? 2 : 3))}`;
}
