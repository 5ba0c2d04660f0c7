import seedrandom from 'seedrandom';
import { shuffleInPlace } from './shuffle';

describe('shuffleInPlace', () => {
  it('gives the recorded order for a seed and leaves the generator where the old copies left it', () => {
    const rng = seedrandom('split:42');
    const items = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(shuffleInPlace(items, rng)).toBe(items);
    expect(items).toEqual([3, 0, 9, 2, 1, 5, 7, 4, 6, 8]);
    // The next draw proves exactly n - 1 numbers were consumed.
    expect(rng()).toBe(0.2573179508612945);
  });

  it('draws one number per position from the last down to the second', () => {
    let draws = 0;
    const items = shuffleInPlace([0, 1, 2, 3, 4], () => (draws++, 0.5));
    expect(draws).toBe(4);
    expect(items).toEqual([0, 3, 1, 4, 2]);
    expect(shuffleInPlace([], () => (draws++, 0.5))).toEqual([]);
    expect(draws).toBe(4);
  });
});
