import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import {
  BREAKER_STATES, breakerLevel, breakerStats, DEFAULT_BREAKER_CONFIG, parseBreakerConfig, runBreakers, stepBreaker,
  type BreakerInput, type BreakerState, type BreakerStep,
} from '../../src/calibration/circuit-breakers.ts';

const HOUR = 3_600_000;
const cfg = DEFAULT_BREAKER_CONFIG;
const NaN_ = Number.NaN;
/** A calm, fully known observation at hour h. */
const calm = (h: number, over: Partial<BreakerInput> = {}): BreakerInput => ({
  timeMs: h * HOUR, spikeProb: 0.05, sigmaMoveRatio: 1, divergenceBps: 5, dataAgeMs: 0.5 * HOUR, liquidityRatio: 1, fundingRate8h: 0.0001, priceValid: true, ...over,
});
const states = (steps: readonly BreakerStep[]): BreakerState[] => steps.map((s) => s.state);

describe('stepBreaker drivers', () => {
  it('maps each driver to its state, with the reason naming value and threshold', () => {
    const cases: [Partial<BreakerInput>, BreakerState, string, number][] = [
      [{}, 'NORMAL', '', 0],
      [{ spikeProb: 0.6 }, 'CAUTION', 'spikeProb', 0.5],
      [{ spikeProb: 0.995 }, 'HALT', 'spikeProb', 0.99],
      [{ sigmaMoveRatio: 3 }, 'REDUCE_ONLY', 'sigmaMoveRatio', 2.5],
      [{ divergenceBps: -1500 }, 'HALT', 'divergenceBps', 1000], // sign ignored
      [{ dataAgeMs: 3 * HOUR }, 'CAUTION', 'dataAgeMs', 2 * HOUR],
      [{ dataAgeMs: 7 * HOUR }, 'REDUCE_ONLY', 'dataAgeMs', 6 * HOUR],
      [{ liquidityRatio: 0.05 }, 'REDUCE_ONLY', 'liquidityCollapse', 10], // volume at 1/20 of its median
      [{ liquidityRatio: 0 }, 'HALT', 'liquidityCollapse', 50],
      [{ fundingRate8h: -0.004 }, 'REDUCE_ONLY', 'fundingRate8hAbs', 0.003],
      [{ priceValid: false }, 'HALT', 'priceInvalid', 1],
    ];
    for (const [over, state, driver, threshold] of cases) {
      const s = stepBreaker(undefined, calm(0, over), cfg);
      expect([over, s.state]).toEqual([over, state]);
      if (driver === '') expect(s.reasons).toEqual([]);
      else expect(s.reasons).toContainEqual(expect.objectContaining({ driver, threshold, state, known: true }));
    }
  });

  it('blocks actions by the documented matrix', () => {
    const block = (over: Partial<BreakerInput>) => stepBreaker(undefined, calm(0, over), cfg).blocked;
    const none = { openRisk: false, increaseRisk: false, reduceRisk: false, liquidations: false, withdrawals: false };
    expect(block({})).toEqual(none);
    expect(block({ spikeProb: 0.6 })).toEqual(none); // CAUTION blocks nothing
    expect(block({ sigmaMoveRatio: 3 })).toEqual({ ...none, openRisk: true, increaseRisk: true, withdrawals: true });
    expect(block({ divergenceBps: 2000 })).toEqual({ ...none, openRisk: true, increaseRisk: true, withdrawals: true });
    expect(block({ priceValid: false })).toEqual({ openRisk: true, increaseRisk: true, reduceRisk: true, liquidations: true, withdrawals: true });
  });

  it('never blocks liquidations or risk reduction on stale data alone (DOMAIN §B1)', () => {
    const s = stepBreaker(undefined, calm(0, { dataAgeMs: 10 * 24 * HOUR }), cfg);
    expect(s.state).toBe('HALT');
    expect(s.blocked).toMatchObject({ liquidations: false, reduceRisk: false, openRisk: true });
    fc.assert(fc.property(fc.array(arbInput(), { minLength: 1, maxLength: 40 }), (raw) => {
      const steps = runBreakers(toSeries(raw).map((x) => ({ ...x, priceValid: x.priceValid === false ? undefined : x.priceValid })));
      return steps.every((st) => !st.blocked.liquidations && !st.blocked.reduceRisk);
    }));
  });
});

describe('hysteresis and dwell', () => {
  it('does not flap on a series oscillating around an enter threshold', () => {
    const series = Array.from({ length: 200 }, (_, h) => calm(h, { spikeProb: h % 2 === 0 ? 0.49 : 0.51 }));
    const st = breakerStats(states(runBreakers(series)));
    expect(st).toMatchObject({ transitions: 1, escalations: 1 });
    expect(st.share.CAUTION).toBe(199 / 200);
    // the same series flaps once the exit sits above the low points and the dwell is short: hysteresis is what holds it
    const loose = parseBreakerConfig({ spikeProb: { exit: { caution: 0.495 } }, minDwellMs: { caution: 1 } });
    expect(breakerStats(states(runBreakers(series, loose))).transitions).toBe(199);
  });

  it('waits the dwell time and steps down one level at a time', () => {
    // HALT at hour 0 by an invalid price, calm from hour 1: HALT lasts 12 h, REDUCE_ONLY 6 h, CAUTION 2 h
    const series = [calm(0, { priceValid: false }), ...Array.from({ length: 30 }, (_, i) => calm(i + 1))];
    const s = runBreakers(series);
    const expected: BreakerState[] = series.map((_, h) => (h < 12 ? 'HALT' : h < 18 ? 'REDUCE_ONLY' : h < 20 ? 'CAUTION' : 'NORMAL'));
    expect(states(s)).toEqual(expected);
    expect(s[5]!.reasons).toEqual([expect.objectContaining({ driver: 'dwell', value: 5 * HOUR, threshold: 12 * HOUR, state: 'HALT' })]);
    expect(s[5]!.blocked.liquidations).toBe(false); // the price is valid again; the HALT is only the dwell
    expect(s[12]!.enteredAtMs).toBe(12 * HOUR);
  });

  it('escalates at once and restarts the dwell clock on escalation', () => {
    const s = runBreakers([calm(0, { spikeProb: 0.6 }), calm(1), calm(2, { sigmaMoveRatio: 3 }), calm(3), calm(8), calm(9)]);
    // CAUTION at 0; still CAUTION at 1 (dwell 2 h); REDUCE_ONLY at 2; held until 2 + 6 = 8; CAUTION at 8 and 9
    expect(states(s)).toEqual(['CAUTION', 'CAUTION', 'REDUCE_ONLY', 'REDUCE_ONLY', 'CAUTION', 'CAUTION']);
    expect(s[2]!.enteredAtMs).toBe(2 * HOUR);
  });
});

describe('unknown inputs', () => {
  it('hold their driver at its last level and never relax the state', () => {
    const unknowns: Partial<BreakerInput>[] = [{ spikeProb: undefined }, { spikeProb: NaN_ }, { spikeProb: -1 }];
    for (const u of unknowns) {
      const s = runBreakers([calm(0, { spikeProb: 0.6 }), ...Array.from({ length: 48 }, (_, i) => calm(i + 1, u))]);
      expect(new Set(states(s))).toEqual(new Set(['CAUTION']));
      expect(s.at(-1)!.reasons).toEqual([{ driver: 'spikeProb', value: 0.6, threshold: 0.5, state: 'CAUTION', known: false }]);
    }
    // unknown from the start: NORMAL, nothing escalates
    expect(stepBreaker(undefined, { timeMs: 0 }, cfg)).toMatchObject({ state: 'NORMAL', reasons: [] });
  });

  it('treats a negative data age as unknown, not fresh (DOMAIN §E7)', () => {
    const s = runBreakers([calm(0, { dataAgeMs: 7 * HOUR }), ...Array.from({ length: 24 }, (_, i) => calm(i + 1, { dataAgeMs: -5 * HOUR }))]);
    expect(s.at(-1)!.state).toBe('REDUCE_ONLY');
    expect(s.at(-1)!.drivers.dataAgeMs).toEqual({ level: 2, value: 7 * HOUR, known: false });
  });

  it('keeps HALT after an invalid price while validity is unknown, without blocking liquidations', () => {
    const s = runBreakers([calm(0, { priceValid: false }), ...Array.from({ length: 24 }, (_, i) => calm(i + 1, { priceValid: undefined }))]);
    expect(new Set(states(s))).toEqual(new Set(['HALT']));
    expect(s.at(-1)!.blocked).toMatchObject({ liquidations: false, reduceRisk: false, openRisk: true });
    expect(s.at(-1)!.reasons).toContainEqual(expect.objectContaining({ driver: 'priceInvalid', known: false }));
  });

  it('refuses time going backwards', () => {
    const first = stepBreaker(undefined, calm(2), cfg);
    expect(() => stepBreaker(first, calm(1), cfg)).toThrow(/non-decreasing timeMs/);
    expect(() => stepBreaker(undefined, { timeMs: NaN_ }, cfg)).toThrow(expect.objectContaining({ kind: 'badRequest' }));
  });
});

describe('parseBreakerConfig', () => {
  const fails = (raw: unknown): string => {
    try {
      parseBreakerConfig(raw);
    } catch (e) {
      expect(isAppError(e, 'config')).toBe(true);
      return (e as Error).message;
    }
    throw new Error(`config ${JSON.stringify(raw)} was accepted`);
  };

  it('fills safe defaults and accepts partial overrides', () => {
    expect(parseBreakerConfig().dataAgeMs.enter).toEqual({ caution: 2 * HOUR, reduceOnly: 6 * HOUR, halt: 24 * HOUR });
    const c = parseBreakerConfig({ sigmaMoveRatio: { enter: { caution: 1.6 } } });
    expect(c.sigmaMoveRatio).toEqual({ enter: { caution: 1.6, reduceOnly: 2.5, halt: 4 }, exit: { caution: 1.25, reduceOnly: 2, halt: 3 } });
  });

  it('refuses misconfigured breakers with errors naming the field', () => {
    expect(fails({ spikeProb: { enter: { caution: 0 } } })).toMatch(/spikeProb\.enter\.caution: Too small/);
    expect(fails({ minDwellMs: { halt: -1 } })).toMatch(/minDwellMs\.halt/);
    expect(fails({ divergenceBps: { enter: { reduceOnly: 20 } } })).toMatch(/divergenceBps\.enter\.reduceOnly: must be above enter\.caution \(50\), got 20/);
    expect(fails({ dataAgeMs: { exit: { halt: 24 * HOUR } } })).toMatch(/dataAgeMs\.exit\.halt: must be below enter\.halt/);
    expect(fails({ fundingRate8hAbs: { exit: { caution: 0.0025 } } })).toMatch(/fundingRate8hAbs\.exit\.reduceOnly: must be above exit\.caution/);
    expect(fails({ spikeProb: { enter: { halt: 1.5 } } })).toMatch(/spikeProb\.enter\.halt: Too big/);
    expect(fails({ liquidityCollapse: { enter: { halt: 'big' } } })).toMatch(/liquidityCollapse\.enter\.halt/);
    expect(fails({ spikeProb: { enter: { caution: 0.5, warn: 0.3 } } })).toMatch(/warn/);
    expect(fails({ staleness: {} })).toMatch(/staleness/);
  });
});

describe('breakerStats', () => {
  it('counts shares and transitions', () => {
    const s = breakerStats(['NORMAL', 'CAUTION', 'HALT', 'HALT', 'REDUCE_ONLY']);
    expect(s).toEqual({
      steps: 5, share: { NORMAL: 0.2, CAUTION: 0.2, REDUCE_ONLY: 0.2, HALT: 0.4 }, transitions: 3, escalations: 2, deescalations: 1,
    });
    expect(breakerStats([]).share.NORMAL).toBe(0);
  });
});

/** A random observation with any field possibly unknown, and a time step of 0–5 h. */
function arbInput() {
  const maybe = (a: fc.Arbitrary<number>) => fc.option(fc.oneof(a, fc.constant(NaN_)), { nil: undefined });
  return fc.record({
    dtMs: fc.integer({ min: 0, max: 5 * HOUR }),
    spikeProb: maybe(fc.double({ min: 0, max: 1, noNaN: true })),
    sigmaMoveRatio: maybe(fc.double({ min: 0, max: 6, noNaN: true })),
    divergenceBps: maybe(fc.double({ min: -2000, max: 2000, noNaN: true })),
    dataAgeMs: maybe(fc.integer({ min: -HOUR, max: 30 * HOUR })),
    liquidityRatio: maybe(fc.double({ min: 0, max: 2, noNaN: true })),
    fundingRate8h: maybe(fc.double({ min: -0.02, max: 0.02, noNaN: true })),
    priceValid: fc.option(fc.boolean(), { nil: undefined }),
  });
}

function toSeries(raw: readonly ({ dtMs: number } & Omit<BreakerInput, 'timeMs'>)[]): BreakerInput[] {
  let t = 1_700_000_000_000;
  return raw.map(({ dtMs, ...rest }) => ({ ...rest, timeMs: (t += dtMs) }));
}

describe('state machine properties', () => {
  it('never steps down more than one level per step, nor before the dwell time', () => {
    const dwell = [0, cfg.minDwellMs.caution, cfg.minDwellMs.reduceOnly, cfg.minDwellMs.halt];
    fc.assert(
      fc.property(fc.array(arbInput(), { minLength: 1, maxLength: 80 }), (raw) => {
        const steps = runBreakers(toSeries(raw));
        for (let i = 1; i < steps.length; i++) {
          const a = steps[i - 1]!;
          const b = steps[i]!;
          const drop = breakerLevel(a.state) - breakerLevel(b.state);
          if (drop > 1) return false;
          if (drop === 1 && b.timeMs - a.enteredAtMs < dwell[breakerLevel(a.state)]!) return false;
          if (drop <= 0 && b.state !== a.state && b.enteredAtMs !== b.timeMs) return false;
        }
        return steps.every((s) => BREAKER_STATES.includes(s.state));
      }),
      { numRuns: 300 },
    );
  });
});
