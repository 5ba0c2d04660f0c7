import { groupByClass } from './group-by-class';

describe('groupByClass', () => {
  it('lists members in input order, classes in ascending label order', () => {
    expect(groupByClass([2, 0, 2, 1, 0, 2])).toEqual([
      [0, [1, 4]],
      [1, [3]],
      [2, [0, 2, 5]],
    ]);
    expect(groupByClass([10, 9])).toEqual([
      [9, [1]],
      [10, [0]],
    ]);
    expect(groupByClass([])).toEqual([]);
  });
});
