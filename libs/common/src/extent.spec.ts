import { argMax, maxOf, minOf } from './extent';

describe('maxOf, minOf, argMax', () => {
  it('take arrays far beyond the argument limit of a spread', () => {
    const big = Float64Array.from({ length: 500_000 }, (_, i) => Math.sin(i));
    expect(() => Math.max(...big)).toThrow(RangeError);
    expect(maxOf(big)).toBe(big.reduce((a, b) => (b > a ? b : a), -Infinity));
    expect(minOf(big)).toBe(big.reduce((a, b) => (b < a ? b : a), Infinity));
    expect(argMax(big)).toBe(big.indexOf(maxOf(big)));
  });

  it('give what Math.max and Math.min give, NaN and no values included', () => {
    expect(maxOf([1, 5, 3])).toBe(5);
    expect(minOf([1, -5, 3])).toBe(-5);
    expect([maxOf([]), minOf([])]).toEqual([-Infinity, Infinity]);
    expect(maxOf([1, NaN])).toBeNaN();
    expect(minOf([NaN, 1])).toBeNaN();
    expect(argMax([0.1, 0.7, 0.7, 0.2])).toBe(1);
    expect(argMax([])).toBe(-1);
  });
});
