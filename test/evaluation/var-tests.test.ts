import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { lnGamma } from '../../src/evaluation/stats.ts';
import { baselZone, binomialCdf, christoffersen, expectedShortfallOfExcess, hitSequence, kupiecPof } from '../../src/evaluation/var-tests.ts';

const f64 = (xs: readonly number[]): Float64Array => Float64Array.from(xs);
const NaN_ = Number.NaN;
/** 5% critical value of χ²(1). */
const CHI2_1_95 = 3.841458820694124;

/** Kupiec LR in its textbook product form, for small n where the powers do not underflow. */
function naiveKupiec(x: number, n: number, alpha: number): number {
  const phat = x / n;
  const lNull = (1 - alpha) ** (n - x) * alpha ** x;
  const lAlt = (1 - phat) ** (n - x) * phat ** x; // JS: 0 ** 0 = 1, which is the 0·ln 0 = 0 convention
  return -2 * Math.log(lNull / lAlt);
}

describe('kupiecPof', () => {
  it('matches the textbook product form and χ²(1) p-values', () => {
    for (const [x, n, c] of [[3, 20, 0.95], [0, 30, 0.9], [7, 40, 0.9], [1, 10, 0.99], [10, 10, 0.95]] as const) {
      const r = kupiecPof(x, n, c);
      expect(r.lr).toBeCloseTo(naiveKupiec(x, n, 1 - c), 10);
      expect(r).toMatchObject({ breaches: x, observations: n, rate: x / n });
      expect(r.expected).toBeCloseTo((1 - c) * n, 12);
    }
    // x = 0 exactly: LR = −2·n·ln(1 − α); 250 days at 99% → 5.0252…, rejected at 5%
    expect(kupiecPof(0, 250, 0.99).lr).toBeCloseTo(-500 * Math.log(0.99), 12);
    // x = n: LR = −2·n·ln α
    expect(kupiecPof(4, 4, 0.99).lr).toBeCloseTo(-8 * Math.log(0.01), 12);
    // p-values: LR = 3.8415 is the 5% point of χ²(1); 2 of 100 at 1% gives LR = −2·[98·ln(0.99/0.98) + 2·ln ½] = 0.7827,
    // p = 2·(1 − Φ(√0.7827)) = 0.3763
    expect(kupiecPof(2, 100, 0.99).lr).toBeCloseTo(0.78272, 4);
    expect(kupiecPof(2, 100, 0.99).p).toBeCloseTo(0.3763, 3);
    expect(kupiecPof(0, 250, 0.99).p).toBeCloseTo(0.02498, 4);
    expect(kupiecPof(5, 500, 0.99)).toMatchObject({ lr: 0, p: 1 });
  });

  it("reproduces Kupiec's (1995) non-rejection regions at a 5% test size (Jorion, Value at Risk, Table 6-3)", () => {
    // [α, T, lowest and highest x not rejected]; the table prints 'N < 7' for T = 255 at 1%: its upper bound
    // matches, and the LR test does reject x = 0 there (LR = −510·ln 0.99 = 5.13 > 3.84).
    const table = [
      [0.01, 255, 1, 6], [0.01, 510, 2, 10], [0.01, 1000, 5, 16],
      [0.025, 255, 3, 11], [0.025, 510, 7, 20], [0.025, 1000, 16, 35],
      [0.05, 255, 7, 20], [0.05, 510, 17, 35], [0.05, 1000, 38, 64],
    ] as const;
    for (const [alpha, t, lo, hi] of table) {
      const accepted: number[] = [];
      for (let x = 0; x <= t; x++) if (kupiecPof(x, t, 1 - alpha).lr < CHI2_1_95) accepted.push(x);
      expect([alpha, t, accepted[0], accepted.at(-1), accepted.length]).toEqual([alpha, t, lo, hi, hi - lo + 1]);
    }
  });

  it('refuses bad counts and coverage with badRequest', () => {
    for (const [x, n, c] of [[3, 2, 0.99], [-1, 10, 0.99], [1.5, 10, 0.99], [1, 10, 1], [1, 10, 0]] as const) {
      expect(() => kupiecPof(x, n, c)).toThrow(expect.objectContaining({ kind: 'badRequest' }));
    }
    expect(kupiecPof(0, 0, 0.99)).toMatchObject({ lr: 0, p: 1, rate: NaN_ });
  });
});

describe('christoffersen', () => {
  it('matches a hand-computed transition example', () => {
    // 0 0 1 1 0 0 0 1 0 0 → pairs 00 01 11 10 00 00 01 10 00: n00 = 4, n01 = 2, n10 = 2, n11 = 1
    const hits = f64([0, 0, 1, 1, 0, 0, 0, 1, 0, 0]);
    const r = christoffersen(hits, 0.9);
    expect(r).toMatchObject({ n00: 4, n01: 2, n10: 2, n11: 1, observations: 10, breaches: 3 });
    // π = 3/9, π01 = 2/6, π11 = 1/3: all three equal, so the Markov alternative fits no better → LR_ind = 0
    expect(r.lrInd).toBeCloseTo(0, 12);
    // LR_cc = LR_uc(3 of 10 at α = 0.1) + 0
    expect(r.lrCc).toBeCloseTo(naiveKupiec(3, 10, 0.1), 10);

    // clustered: 0 0 0 0 1 1 1 0 0 0 → n00 = 5, n01 = 1, n10 = 1, n11 = 2
    const c = christoffersen(f64([0, 0, 0, 0, 1, 1, 1, 0, 0, 0]), 0.9);
    expect([c.n00, c.n01, c.n10, c.n11]).toEqual([5, 1, 1, 2]);
    const lNull = (6 / 9) ** 6 * (3 / 9) ** 3; // (1 − π)^(n00+n10)·π^(n01+n11), π = 3/9
    const lAlt = (5 / 6) ** 5 * (1 / 6) ** 1 * (1 / 3) ** 1 * (2 / 3) ** 2;
    const lrInd = -2 * Math.log(lNull / lAlt); // = −2·(−5.72863 + 4.61291) = 2.2314
    expect(c.lrInd).toBeCloseTo(lrInd, 10);
    expect(c.lrInd).toBeCloseTo(2.2314, 3);
    expect(c.pInd).toBeCloseTo(0.1352, 3); // P(χ²(1) ≥ 2.2314) = 2·(1 − Φ(1.4938))
    expect(c.lrCc).toBeCloseTo(naiveKupiec(3, 10, 0.1) + lrInd, 10);
    expect(c.pCc).toBeCloseTo(Math.exp(-c.lrCc / 2), 12); // χ²(2) survival is exp(−x/2)
  });

  it('skips NaN entries and breaks the chain at them', () => {
    // 1 NaN 1 → no transition 1→1 across the gap
    const r = christoffersen(f64([0, 1, NaN_, 1, 0]), 0.99);
    expect([r.n00, r.n01, r.n10, r.n11]).toEqual([0, 1, 1, 0]);
    expect(r).toMatchObject({ observations: 4, breaches: 2 });
  });

  it('gives finite, documented values on degenerate samples', () => {
    const none = christoffersen(new Float64Array(300), 0.99); // no breaches: π11 undefined
    expect(none).toMatchObject({ lrInd: 0, pInd: 1, n00: 299 });
    expect(none.lrCc).toBeCloseTo(-600 * Math.log(0.99), 10);
    const all = christoffersen(f64([1, 1, 1]), 0.99);
    expect(all.lrInd).toBe(0);
    expect(Number.isFinite(all.lrCc)).toBe(true);
    const lone = christoffersen(f64([0, 0, 0, 1]), 0.99); // a breach at the end: n10 + n11 = 0
    expect(lone).toMatchObject({ lrInd: 0, n01: 1 });
    expect(christoffersen(f64([NaN_, 1, NaN_]), 0.99)).toMatchObject({ lrInd: 0, pInd: 1, observations: 1 });
    expect(christoffersen(new Float64Array(0), 0.99)).toMatchObject({ lrCc: 0, pCc: 1 });
  });

  it('is finite on random sequences and rejects non-0/1 hits', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(0, 1, NaN_), { maxLength: 60 }), (xs) => {
      const r = christoffersen(f64(xs), 0.95);
      return [r.lrInd, r.pInd, r.lrCc, r.pCc].every(Number.isFinite) && r.lrInd >= 0 && r.n00 + r.n01 + r.n10 + r.n11 < Math.max(1, r.observations);
    }));
    expect(() => christoffersen(f64([0, 0.5]), 0.99)).toThrow(/0, 1 or NaN, got 0.5 at index 1/);
  });
});

describe('baselZone', () => {
  it('reproduces the Basel (1996) 250-day table at 99%: cumulative probabilities, zones and plus factors', () => {
    // BCBS 1996, Table 1 (coverage 99%): cumulative probability of x or fewer exceptions, in %
    const cum = [8.11, 28.58, 54.32, 75.81, 89.22, 95.88, 98.63, 99.6, 99.89, 99.97, 99.99];
    const plus = [0, 0, 0, 0, 0, 0.4, 0.5, 0.65, 0.75, 0.85, 1, 1, 1];
    for (let x = 0; x <= 12; x++) {
      const r = baselZone(x, 250, 0.99);
      if (x < cum.length) expect(Math.round(r.cdf * 10000) / 100).toBe(cum[x]);
      expect(r.zone).toBe(x <= 4 ? 'green' : x <= 9 ? 'yellow' : 'red');
      expect(r.plusFactor).toBe(plus[x]);
      expect(r.scaledTo250).toBe(x);
    }
  });

  it('extends to other N and p by the binomial CDF: N = 750 at 99.5% is yellow from 7 and red from 13', () => {
    const zones = Array.from({ length: 16 }, (_, x) => baselZone(x, 750, 0.995).zone);
    expect(zones.indexOf('yellow')).toBe(7);
    expect(zones.indexOf('red')).toBe(13);
    // plus factor by the equivalent 250-day count, consistent with the zone
    expect(baselZone(6, 750, 0.995)).toMatchObject({ plusFactor: 0 });
    const y = baselZone(7, 750, 0.995); // F = 0.9628 → between F250(5) = 0.9588 and F250(6) = 0.9863 → 6
    expect(y).toMatchObject({ zone: 'yellow', scaledTo250: 6, plusFactor: 0.5 });
    expect(baselZone(13, 750, 0.995).plusFactor).toBe(1);
    // 500 days at 99% (expected 5): F(8) = 0.9329 green, F(9) = 0.9689 yellow, F(14) = 0.99979 yellow, F(15) = 0.99994 red
    expect([8, 9, 14, 15].map((x) => baselZone(x, 500, 0.99).zone)).toEqual(['green', 'yellow', 'yellow', 'red']);
  });

  it('computes the exact binomial CDF stably for large N', () => {
    const direct = (x: number, n: number, p: number): number => {
      let s = 0;
      for (let k = 0; k <= x; k++) s += Math.exp(lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p));
      return s;
    };
    for (const [x, n, p] of [[3, 10, 0.3], [450, 50_000, 0.01], [500, 50_000, 0.01], [560, 50_000, 0.01], [40, 20_000, 0.001]] as const) {
      expect(binomialCdf(x, n, p)).toBeCloseTo(direct(x, n, p), 9);
    }
    expect(binomialCdf(0, 10, 0.5)).toBeCloseTo(1 / 1024, 15);
    expect(binomialCdf(10, 10, 0.5)).toBe(1);
    expect(binomialCdf(-1, 10, 0.5)).toBe(0);
    expect(baselZone(0, 50_000, 0.99).zone).toBe('green'); // 0.99^50000 underflows in linear space
    expect(baselZone(600, 50_000, 0.99).zone).toBe('red');
  });
});

describe('expectedShortfallOfExcess', () => {
  it('averages the worst ⌈(1 − level)·n⌉ excesses and the excess given a breach', () => {
    // excess = loss − margin: 40 pairs with excesses −39…0 plus one NaN pair; level 0.95 → worst 2: 0 and −1
    const loss = new Float64Array(41);
    const margin = new Float64Array(41).fill(39);
    for (let i = 0; i < 40; i++) loss[i] = i;
    loss[40] = NaN_;
    const r = expectedShortfallOfExcess(loss, margin, 0.95);
    expect(r).toMatchObject({ es: -0.5, breaches: 0, n: 40, skipped: 1 });
    expect(r.meanExcessGivenBreach).toBeNaN();
    // two breaches of 3 and 1 among 400 pairs: level 0.975 → worst 10 = 3, 1 and eight zeros
    const l2 = new Float64Array(400);
    const m2 = new Float64Array(400);
    l2[7] = 3;
    l2[300] = 1;
    const r2 = expectedShortfallOfExcess(l2, m2);
    expect(r2).toMatchObject({ es: 0.4, meanExcessGivenBreach: 2, breaches: 2, n: 400, level: 0.975 });
  });

  it('refuses misaligned arrays and bad levels', () => {
    expect(() => expectedShortfallOfExcess(f64([1]), f64([1, 2]))).toThrow(/equal length/);
    expect(() => expectedShortfallOfExcess(f64([1]), f64([1]), 1)).toThrow(expect.objectContaining({ kind: 'badRequest' }));
  });
});

describe('hitSequence', () => {
  it('samples every k-th origin from the offset, strict breaches, NaN kept', () => {
    const loss = f64([1, 5, 2, NaN_, 4, 3, 9]);
    const margin = f64([2, 4, 2, 1, 1, 3, 1]);
    expect([...hitSequence(loss, margin)]).toEqual([0, 1, 0, NaN_, 1, 0, 1]);
    expect([...hitSequence(loss, margin, 3)]).toEqual([0, NaN_, 1]); // origins 0, 3, 6
    expect([...hitSequence(loss, margin, 3, 1)]).toEqual([1, 1]); // origins 1, 4
    expect(hitSequence(loss, margin, 2, 9).length).toBe(0);
    try {
      hitSequence(loss, margin, 0);
      expect.unreachable();
    } catch (e) {
      expect(isAppError(e, 'badRequest')).toBe(true);
    }
  });
});
