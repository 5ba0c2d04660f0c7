import { ConfigError } from './errors';

/** One point of a sweep grid: dotted config key -> value. */
export type SweepPoint = Record<string, unknown>;

/**
 * Cartesian product of a `sweep` section, in the order keys are written, last key fastest
 * (`{a: [1, 2], b: [x, y]}` -> a1b x, a1 y, a2 x, a2 y), so run order is predictable.
 */
export function expandGrid(grid: Readonly<Record<string, readonly unknown[]>>): SweepPoint[] {
  let points: SweepPoint[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    points = points.flatMap((point) => values.map((value) => ({ ...point, [key]: value })));
  }
  return points;
}

/**
 * Returns a copy of `config` with `dotted.key` set to `value`. Every segment but the last must
 * already exist, so a typo in a sweep key is an error rather than a silently ignored new field.
 */
export function setDotted(config: unknown, dottedKey: string, value: unknown, file: string): unknown {
  const segments = dottedKey.split('.');
  const apply = (node: unknown, depth: number): unknown => {
    const key = segments[depth];
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new ConfigError(`${file}: sweep.${dottedKey}: "${segments.slice(0, depth).join('.')}" is not a section of the config`, file);
    }
    const record = node as Record<string, unknown>;
    if (depth === segments.length - 1) return { ...record, [key]: value };
    if (!(key in record)) {
      throw new ConfigError(
        `${file}: sweep.${dottedKey}: the config has no "${segments.slice(0, depth + 1).join('.')}"; sweep keys are dotted paths such as train.learningRate`,
        file,
      );
    }
    return { ...record, [key]: apply(record[key], depth + 1) };
  };
  return apply(config, 0);
}

/** A short label for a sweep point, e.g. `train.learningRate=0.001 seed=3`. */
export function describePoint(point: SweepPoint): string {
  return Object.entries(point)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
