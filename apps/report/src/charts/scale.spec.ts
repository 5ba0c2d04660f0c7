import { formatTick, linearScale, niceDomain, niceStep, ticks } from './scale';

describe('scales and ticks', () => {
  it('maps the domain linearly onto the range, also reversed (SVG y grows downwards)', () => {
    const y = linearScale([0, 1], [200, 0]);
    expect(y(0)).toBe(200);
    expect(y(0.25)).toBe(150);
    expect(y(1)).toBe(0);
  });

  it('maps a one-value domain to the middle of the range instead of dividing by zero', () => {
    expect(linearScale([3, 3], [0, 100])(3)).toBe(50);
  });

  it('picks 1-2-5 steps', () => {
    expect(niceStep(0, 1, 5)).toBe(0.2);
    expect(niceStep(0, 735, 5)).toBe(200);
    expect(niceStep(0.7, 1, 5)).toBeCloseTo(0.1);
  });

  it('widens the domain to whole steps', () => {
    expect(niceDomain(0, 0.83)).toEqual([0, 1]);
    expect(niceDomain(-0.023, 0.002)).toEqual([-0.025, 0.005]);
    expect(niceDomain(0, 0)).toEqual([0, 1]);
  });

  it('gives round ticks without floating-point noise', () => {
    expect(ticks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(0.7, 1, 3)).toEqual([0.7, 0.8, 0.9, 1]);
    expect(ticks(1, 10, 9)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('formats ticks compactly', () => {
    expect(formatTick(0.30000000000000004)).toBe('0.3');
    expect(formatTick(200)).toBe('200');
    expect(formatTick(123456)).toBe('1.2e+5');
  });
});
