import { holmAdjust } from './holm';

describe('holmAdjust', () => {
  it('multiplies the i-th smallest p by (m - i + 1) and keeps the order monotone', () => {
    // sorted 0.01 x3 = 0.03; 0.03 x2 = 0.06; 0.04 x1 = 0.04 -> raised to 0.06.
    const adjusted = holmAdjust([0.01, 0.04, 0.03]);
    expect(adjusted[0]).toBeCloseTo(0.03, 12);
    expect(adjusted[1]).toBeCloseTo(0.06, 12);
    expect(adjusted[2]).toBeCloseTo(0.06, 12);
  });
  it('caps at 1 and keeps a single p-value as it is', () => {
    expect(holmAdjust([0.6, 0.7])).toEqual([1, 1]);
    expect(holmAdjust([0.02])).toEqual([0.02]);
    expect(holmAdjust([])).toEqual([]);
  });
  it('refuses values outside [0, 1]', () => {
    expect(() => holmAdjust([1.2])).toThrow(/\[0, 1\]/);
  });
});
