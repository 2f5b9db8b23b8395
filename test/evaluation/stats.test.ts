import { describe, expect, it } from 'vitest';
import { chiSquareCdf, lnGamma, normalCdf, studentTCdf, studentTTwoSidedP } from '../../src/evaluation/stats.ts';

// Reference values: closed forms where they exist, otherwise scipy.stats 1.17.1 (printed with repr).
describe('distribution functions', () => {
  it('lnGamma matches factorials and Γ(½) = √π', () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(lnGamma(30)).toBeCloseTo(71.257038967168, 10); // ln 29!
  });

  it('normalCdf matches quantiles and scipy', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 13);
    expect(normalCdf(-2.5)).toBeCloseTo(0.006209665325776132, 14);
    expect(normalCdf(0.3)).toBeCloseTo(0.6179114221889526, 13);
    expect(normalCdf(-8)).toBeCloseTo(6.220960574271784e-16, 25);
  });

  it('studentTCdf matches closed forms (ν = 1, 2) and scipy', () => {
    for (const t of [-3, -0.7, 0, 0.7, 4]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 13); // Cauchy
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 13);
    }
    expect(studentTCdf(2.228138851986274, 10)).toBeCloseTo(0.975, 13);
    expect(studentTCdf(-1.5, 3)).toBeCloseTo(0.11529193262241147, 13);
    expect(studentTCdf(2.5, 7)).toBeCloseTo(0.9795038907071235, 13);
    expect(studentTCdf(1.3, Infinity)).toBeCloseTo(normalCdf(1.3), 15);
  });

  it('studentTTwoSidedP matches scipy 2·t.sf', () => {
    expect(studentTTwoSidedP(3, 25)).toBeCloseTo(0.006038179565143495, 13);
    expect(studentTTwoSidedP(-3, 25)).toBeCloseTo(0.006038179565143495, 13);
    expect(studentTTwoSidedP(0, 5)).toBe(1);
    expect(studentTTwoSidedP(1.959963984540054, Infinity)).toBeCloseTo(0.05, 13);
  });

  it('chiSquareCdf matches the Kupiec / Christoffersen critical values and scipy', () => {
    expect(chiSquareCdf(3.841458820694124, 1)).toBeCloseTo(0.95, 13);
    expect(chiSquareCdf(5.991464547107979, 2)).toBeCloseTo(0.95, 13);
    expect(chiSquareCdf(10.5, 4)).toBeCloseTo(0.9672030100051163, 13);
    expect(chiSquareCdf(0, 3)).toBe(0);
  });
});
