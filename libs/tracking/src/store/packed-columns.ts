/**
 * Codecs of the packed per-run columns (schema migration 10): a run's thousands of per-image values
 * are one column each instead of one row each, in forms that SQL can still take apart by position
 * (the views of migration 10 do, with substr only):
 *
 * - integers (labels, ranks, folds, image positions): fixed-width decimal text. The first two
 *   characters give the width w; value k is characters 3 + k*w .. 2 + (k+1)*w, right-aligned;
 *   all spaces is NULL. Labels 0-4 cost one byte each.
 * - enums (split names, audit flags): one letter each.
 * - float vectors (probabilities): their little-endian float64s concatenated, `stride` doubles
 *   per entry; `counts` (fixed-width integers) only when entries have different lengths.
 * - scalar doubles (audit self-confidence and score): little-endian float64s.
 * Every round trip is exact (float64 bytes keep NaN and -0).
 */

import type { AuditFlag, SplitName } from '../entities';
import { InvalidArgumentError } from '../errors';
import { decodeFloat64, encodeFloat64 } from './rows';

export function encodeInts(values: readonly (number | null)[], what: string): string {
  let width = 1;
  for (const v of values) {
    if (v === null) continue;
    if (!Number.isSafeInteger(v)) throw new InvalidArgumentError(`${what} must be an integer, got ${v}`);
    width = Math.max(width, String(v).length);
  }
  const parts = [String(width).padStart(2, '0')];
  for (const v of values) parts.push(v === null ? ' '.repeat(width) : String(v).padStart(width));
  return parts.join('');
}

/**
 * The entry count of a stored packed row: its `size` column, which must equal the number of its
 * letters (split or flag, one per entry, already decoded). Checked before `size` sizes anything, so
 * an edited size (4e9, -1) is a damaged record, not an allocation of that many entries.
 */
export function storedCount(size: unknown, letterCount: number, what: string): number {
  const n = Number(size);
  if (!Number.isSafeInteger(n) || n < 0 || n !== letterCount) throw new InvalidArgumentError(`stored ${what}: size ${String(size)} does not match its ${letterCount} entries`);
  return n;
}

export function decodeInts(text: string, count: number): (number | null)[] {
  const width = Number(text.slice(0, 2));
  if (!Number.isSafeInteger(width) || width < 1 || text.length !== 2 + count * width) throw new InvalidArgumentError(`stored integer column of ${text.length} characters does not hold ${count} entries`);
  const out = new Array<number | null>(count);
  for (let k = 0; k < count; k++) {
    const field = text.slice(2 + k * width, 2 + (k + 1) * width).trim();
    out[k] = field === '' ? null : Number(field);
  }
  return out;
}

/** Integers that are never NULL (a NULL there means a damaged column). */
export function decodeIntegers(text: string, count: number, what: string): number[] {
  return decodeInts(text, count).map((v, k) => {
    if (v === null || !Number.isSafeInteger(v)) throw new InvalidArgumentError(`stored ${what} #${k} is not an integer`);
    return v;
  });
}

const SPLIT_LETTERS: Readonly<Record<SplitName, string>> = { train: 'r', val: 'v', test: 't' };
const FLAG_LETTERS: Readonly<Record<AuditFlag, string>> = { label_issue: 'i', no_confident_class: 'n', ok: 'o' };

function letters<T extends string>(table: Readonly<Record<T, string>>, what: string) {
  const back = new Map(Object.entries<string>(table).map(([name, letter]) => [letter, name as T]));
  return {
    encode(values: readonly T[]): string {
      return values
        .map((v) => {
          const letter = (table as Record<string, string | undefined>)[v];
          if (letter === undefined) throw new InvalidArgumentError(`unknown ${what} ${String(v)}`);
          return letter;
        })
        .join('');
    },
    decode(text: string): T[] {
      return [...text].map((letter) => {
        const v = back.get(letter);
        if (v === undefined) throw new InvalidArgumentError(`stored ${what} letter ${JSON.stringify(letter)} is unknown`);
        return v;
      });
    },
  };
}

export const splitLetters = letters(SPLIT_LETTERS, 'split');
export const flagLetters = letters(FLAG_LETTERS, 'audit flag');

export interface PackedVectors {
  stride: number;
  /** Fixed-width integers, one per entry; null when every entry has `stride` values. */
  counts: string | null;
  data: Buffer;
}

export function packVectors(vectors: readonly (readonly number[])[]): PackedVectors {
  const stride = vectors.reduce((m, v) => Math.max(m, v.length), 0);
  const ragged = vectors.some((v) => v.length !== stride);
  const data = Buffer.alloc(vectors.length * stride * 8);
  vectors.forEach((v, k) => encodeFloat64(v).copy(data, k * stride * 8));
  return { stride, counts: ragged ? encodeInts(vectors.map((v) => v.length), 'vector length') : null, data };
}

export function unpackVectors(packed: { stride: number; counts: string | null; data: Buffer | null }, count: number): number[][] {
  const stride = Number(packed.stride);
  const data = packed.data ?? Buffer.alloc(0);
  // packVectors writes `stride` doubles per entry (a shorter entry is padded), so the blob's length follows from count and stride.
  if (!Number.isSafeInteger(stride) || stride < 0 || data.length !== count * stride * 8) throw new InvalidArgumentError(`stored vectors: ${data.length} bytes for ${count} entries of ${String(packed.stride)} doubles`);
  const lengths = packed.counts === null ? null : decodeIntegers(packed.counts, count, 'vector length');
  if (lengths?.some((length) => length < 0 || length > stride)) throw new InvalidArgumentError(`stored vector lengths exceed their stride ${stride}`);
  const out = new Array<number[]>(count);
  for (let k = 0; k < count; k++) {
    const start = k * stride * 8;
    out[k] = decodeFloat64(data.subarray(start, start + (lengths ? lengths[k] : stride) * 8));
  }
  return out;
}

/**
 * Where each entry's image is, against the run's image list (`list`, the paths in position order):
 * `positions` null and `paths` null: entry k is image k; else `positions` gives each entry's
 * position; `paths` (a JSON array) only when some image is not in the list.
 */
export interface PackedImages {
  positions: string | null;
  paths: string | null;
}

export function packImages(paths: readonly string[], list: readonly string[] | null): PackedImages {
  if (list !== null && paths.length === list.length && paths.every((p, k) => p === list[k])) return { positions: null, paths: null };
  const index = new Map((list ?? []).map((p, k) => [p, k]));
  const positions = paths.map((p) => index.get(p));
  if (list === null || positions.some((k) => k === undefined)) return { positions: null, paths: JSON.stringify(paths) };
  return { positions: encodeInts(positions as number[], 'image position'), paths: null };
}

export function unpackImages(packed: PackedImages, count: number, list: readonly string[] | null): string[] {
  if (packed.paths !== null) {
    let paths: unknown;
    try {
      paths = JSON.parse(packed.paths);
    } catch {
      throw new InvalidArgumentError('stored image paths are not JSON');
    }
    if (!Array.isArray(paths) || paths.length !== count || !paths.every((p) => typeof p === 'string')) throw new InvalidArgumentError(`stored image paths are not an array of ${count} strings`);
    return paths as string[];
  }
  if (list === null) throw new InvalidArgumentError('stored entries refer to an image list that is missing');
  const positions = packed.positions === null ? null : decodeIntegers(packed.positions, count, 'image position');
  return Array.from({ length: count }, (_, k) => {
    const path = list[positions ? positions[k] : k];
    if (path === undefined) throw new InvalidArgumentError(`stored entry #${k} refers to an image outside its list`);
    return path;
  });
}

export function packDoubles(values: readonly number[]): Buffer {
  return encodeFloat64(values);
}

export function unpackDoubles(data: Buffer | null): number[] {
  return decodeFloat64(data);
}
