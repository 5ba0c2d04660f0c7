/**
 * Bounded views of class-by-class matrices. A heatmap grows with the square of the class count
 * (1,000 classes: a million cells, a page of almost 200 MB), so above FULL_MATRIX_CLASS_LIMIT
 * classes a page shows the classes involved in the most confusions, plus the largest
 * off-diagonal cells as a list, and says so.
 */

/** Most classes a matrix is drawn in full for. */
export const FULL_MATRIX_CLASS_LIMIT = 30;
/** Largest off-diagonal cells listed for a large class count. */
export const TOP_CONFUSIONS = 25;

export interface ClassSelection {
  /** Class indices shown, ascending. */
  indices: number[];
  /** Classes in the full matrix. */
  total: number;
  truncated: boolean;
}

/**
 * The classes to draw: all of them up to `limit`, otherwise the `limit` with the largest
 * off-diagonal mass (row plus column), i.e. the ones most often mistaken or mistaken for.
 */
export function selectClasses(matrix: readonly (readonly number[])[], limit = FULL_MATRIX_CLASS_LIMIT): ClassSelection {
  const n = matrix.length;
  if (n <= limit) return { indices: Array.from({ length: n }, (_, i) => i), total: n, truncated: false };
  const mass = new Array<number>(n).fill(0);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (r === c) continue;
      const v = Math.abs(matrix[r][c] ?? 0);
      mass[r] += v;
      mass[c] += v;
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => mass[b] - mass[a] || a - b);
  return { indices: order.slice(0, limit).sort((a, b) => a - b), total: n, truncated: true };
}

/** The rows and columns of `indices`. */
export function subMatrix<T>(matrix: readonly (readonly T[])[], indices: readonly number[]): T[][] {
  return indices.map((r) => indices.map((c) => matrix[r][c]));
}

export interface Confusion {
  actual: number;
  predicted: number;
  count: number;
}

/** The `n` largest off-diagonal cells (ties: by row, then column), in one pass without sorting every cell. */
export function topConfusions(matrix: readonly (readonly number[])[], n = TOP_CONFUSIONS): Confusion[] {
  const top: Confusion[] = [];
  for (let r = 0; r < matrix.length; r++) {
    for (let c = 0; c < matrix[r].length; c++) {
      const count = matrix[r][c];
      if (r === c || !(count > 0)) continue;
      if (top.length === n && count <= top[top.length - 1].count) continue;
      let at = top.length;
      while (at > 0 && top[at - 1].count < count) at--;
      top.splice(at, 0, { actual: r, predicted: c, count });
      if (top.length > n) top.pop();
    }
  }
  return top;
}

/** "the 30 most confused of 1000 classes (matrices are drawn in full up to 30 classes)", or ''. */
export function selectionNote(selection: ClassSelection): string {
  return selection.truncated
    ? `the ${selection.indices.length} most confused of ${selection.total} classes (matrices are drawn in full up to ${FULL_MATRIX_CLASS_LIMIT} classes)`
    : '';
}
