import { differenceInterval, nonInferiority, pairedMeanDifference, sampleVariance, studentTCdf, studentTQuantile, twoSidedPValue, welchDegreesOfFreedom, welchMeanDifference } from './mean-difference';

describe('studentTCdf', () => {
  it('matches the closed forms for 1 and 2 degrees of freedom and a table value', () => {
    // df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/pi.
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 12);
    expect(studentTCdf(-2, 1)).toBeCloseTo(0.5 + Math.atan(-2) / Math.PI, 12);
    // df = 2: F(t) = 1/2 + t / (2 sqrt(t^2 + 2)).
    expect(studentTCdf(3, 2)).toBeCloseTo(0.5 + 3 / (2 * Math.sqrt(11)), 12);
    // Tables: t(0.95, 10) = 1.812461.
    expect(studentTCdf(1.812461, 10)).toBeCloseTo(0.95, 6);
    expect(studentTCdf(Infinity, 3)).toBe(1);
    expect(studentTQuantile(0.95, 2)).toBeCloseTo(2.919986, 6);
  });
  it('refuses non-positive degrees of freedom', () => {
    expect(() => studentTCdf(1, 0)).toThrow(/degrees of freedom/);
  });
});

describe('welchDegreesOfFreedom', () => {
  it('is the Welch-Satterthwaite value', () => {
    // a = [1,2,3,4]: var 5/3; b = [2,4,6]: var 4. se^2 = 5/12 + 4/3 = 1.75;
    // df = 1.75^2 / ((5/12)^2 / 3 + (4/3)^2 / 2) = 3.0625 / (0.0578704 + 0.8888889) = 3.234719.
    expect(sampleVariance([1, 2, 3, 4])).toBeCloseTo(5 / 3, 12);
    expect(welchDegreesOfFreedom(5 / 3, 4, 4, 3)).toBeCloseTo(3.234719, 5);
    // Equal variances and sizes: n1 + n2 - 2.
    expect(welchDegreesOfFreedom(2, 5, 2, 5)).toBeCloseTo(8, 12);
  });
});

describe('pairedMeanDifference + nonInferiority', () => {
  // Differences 0.01, -0.005, 0.01: mean 0.005, sd sqrt(0.000075), se 0.005, df 2.
  const candidate = [0.9, 0.88, 0.91];
  const baseline = [0.89, 0.885, 0.9];

  it('computes the paired difference and its standard error', () => {
    const d = pairedMeanDifference(candidate, baseline);
    expect(d.test).toBe('paired-t');
    expect(d.difference).toBeCloseTo(0.005, 12);
    expect(d.standardError).toBeCloseTo(0.005, 12);
    expect(d.df).toBe(2);
  });

  it('passes a 1-point margin: t = (0.005 + 0.01) / 0.005 = 3, p = 1/2 - 3/(2 sqrt 11)', () => {
    const result = nonInferiority(pairedMeanDifference(candidate, baseline), 0.01, 0.05);
    expect(result.statistic).toBeCloseTo(3, 10);
    expect(result.pValue).toBeCloseTo(0.5 - 3 / (2 * Math.sqrt(11)), 10); // 0.047733
    // Lower bound 0.005 - t(0.95, 2) * 0.005 = 0.005 - 2.919986 * 0.005 = -0.0095999.
    expect(result.lowerBound).toBeCloseTo(-0.0095999, 6);
    expect(result.nonInferior).toBe(true);
  });

  it('fails a half-point margin: t = 2, p = 1/2 - 2/(2 sqrt 6)', () => {
    const result = nonInferiority(pairedMeanDifference(candidate, baseline), 0.005, 0.05);
    expect(result.pValue).toBeCloseTo(0.5 - 1 / Math.sqrt(6), 10); // 0.0918
    expect(result.nonInferior).toBe(false);
    expect(result.lowerBound).toBeLessThan(-0.005);
  });

  it('is degenerate but decided when every paired difference is equal', () => {
    const same = nonInferiority(pairedMeanDifference([0.9, 0.8, 0.85], [0.9, 0.8, 0.85]), 0.01);
    expect(same).toMatchObject({ lowerBound: 0, pValue: 0, nonInferior: true });
    const worse = nonInferiority(pairedMeanDifference([0.85, 0.75, 0.8], [0.9, 0.8, 0.85]), 0.01);
    expect(worse.lowerBound).toBeCloseTo(-0.05, 12);
    expect(worse).toMatchObject({ pValue: 1, nonInferior: false });
  });

  it('refuses mismatched pairs and too few values', () => {
    expect(() => pairedMeanDifference([1, 2], [1])).toThrow(/as many/);
    expect(() => pairedMeanDifference([1], [1])).toThrow(/at least 2 pairs/);
  });
});

describe('welchMeanDifference', () => {
  it('uses both variances and the Welch df', () => {
    const d = welchMeanDifference([1, 2, 3, 4], [2, 4, 6]);
    expect(d.difference).toBeCloseTo(-1.5, 12);
    expect(d.standardError).toBeCloseTo(Math.sqrt(1.75), 12);
    expect(d.df).toBeCloseTo(3.234719, 5);
    // Two-sided p of t = -1.5/sqrt(1.75) = -1.133893 on 3.2347 df lies between the df 3 and df 4 values.
    const p = twoSidedPValue(d);
    expect(p).toBeGreaterThan(2 * (1 - studentTCdf(1.133893, 4)));
    expect(p).toBeLessThan(2 * (1 - studentTCdf(1.133893, 3)));
  });
  it('gives a two-sided interval around the difference', () => {
    const d = pairedMeanDifference([0.9, 0.88, 0.91], [0.89, 0.885, 0.9]);
    const ci = differenceInterval(d, 0.95);
    // t(0.975, 2) = 4.302653
    expect(ci.low).toBeCloseTo(0.005 - 4.302653 * 0.005, 6);
    expect(ci.high).toBeCloseTo(0.005 + 4.302653 * 0.005, 6);
  });
});
