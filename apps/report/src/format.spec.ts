import { baseName, dateTime, duration, percent, signed } from './format';

describe('format', () => {
  it('prints rates as percentages and missing values as a dash', () => {
    expect(percent(0.88844)).toBe('88.84%');
    expect(percent(null)).toBe('–');
    expect(percent(Number.NaN)).toBe('–');
  });

  it('prints durations at a useful precision', () => {
    expect(duration(950)).toBe('0.95s');
    expect(duration(12_345)).toBe('12.3s');
    expect(duration(83_000)).toBe('1m 23s');
    expect(duration(7_200_000)).toBe('2h 00m');
  });

  it('prints signed deltas, percentage points for rates', () => {
    expect(signed(0.0123, 'pp')).toBe('+1.23 pp');
    expect(signed(-0.0095, 'pp')).toBe('-0.95 pp');
    expect(signed(0, 'plain')).toBe('±0.0000');
    expect(signed(-1e-9, 'plain')).toBe('±0.0000');
    expect(signed(3, 'plain', 0)).toBe('+3');
  });

  it('prints dates in UTC whatever the machine zone', () => {
    expect(dateTime('2026-11-30T03:49:36.083Z')).toBe('2026-11-30 03:49');
  });

  it('shortens paths to their last segment', () => {
    expect(baseName('/work/shared/models/m.tflite')).toBe('m.tflite');
    expect(baseName(undefined)).toBe('–');
  });
});
