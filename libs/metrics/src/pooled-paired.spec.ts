import { pooledPairedNonInferiority } from './pooled-paired';
import { mcnemarExact } from './statistics';

const stratum = (n: number, onlyCandidate: number, onlyBaseline: number) => ({
  candidateCorrect: Array.from({ length: n }, (_, i) => i < onlyCandidate || i >= onlyCandidate + onlyBaseline),
  baselineCorrect: Array.from({ length: n }, (_, i) => i >= onlyCandidate),
});

describe('pooledPairedNonInferiority', () => {
  it('pools the discordant pairs of every stratum', () => {
    // Two seeds of 200 images: 6 and 4 only-candidate, 10 and 20 only-baseline.
    const result = pooledPairedNonInferiority([stratum(200, 6, 10), stratum(200, 4, 20)], { margin: 0.01, resamples: 500, seed: 1 });
    expect(result.count).toBe(400);
    expect(result.onlyCandidateCorrect).toBe(10);
    expect(result.onlyBaselineCorrect).toBe(30);
    expect(result.difference).toBeCloseTo(-20 / 400, 12);
    expect(result.mcnemarP).toBe(mcnemarExact(10, 30));
  });

  it('fails a clearly worse candidate and passes an equal one', () => {
    const worse = pooledPairedNonInferiority([stratum(300, 0, 30), stratum(300, 0, 30)], { margin: 0.01, resamples: 1000, seed: 2 });
    expect(worse.lowerBound).toBeLessThan(-0.01);
    expect(worse.pValue).toBeCloseTo(1, 2);
    expect(worse.nonInferior).toBe(false);
    const equal = pooledPairedNonInferiority([stratum(300, 5, 5), stratum(300, 5, 5)], { margin: 0.02, resamples: 1000, seed: 2 });
    expect(equal.difference).toBe(0);
    // The difference's standard error is sqrt(20/600)/sqrt(600) = 0.0075: a 2-point margin is 2.7 se away.
    expect(equal.lowerBound).toBeGreaterThan(-0.02);
    expect(equal.pValue).toBeLessThan(0.05);
    expect(equal.nonInferior).toBe(true);
  });

  it('is reproducible for a seed', () => {
    const a = pooledPairedNonInferiority([stratum(100, 3, 5)], { margin: 0.01, resamples: 300, seed: 9 });
    expect(pooledPairedNonInferiority([stratum(100, 3, 5)], { margin: 0.01, resamples: 300, seed: 9 })).toEqual(a);
  });
});
