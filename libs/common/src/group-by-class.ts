/**
 * The indices of every class's members, in input order, per class in ascending label order: the
 * order stratified splits and folds walk the classes in.
 */
export function groupByClass(labels: readonly number[]): [label: number, members: number[]][] {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, index) => {
    const members = byClass.get(label) ?? [];
    members.push(index);
    byClass.set(label, members);
  });
  return [...byClass.entries()].sort(([a], [b]) => a - b);
}
