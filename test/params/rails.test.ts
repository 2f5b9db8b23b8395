import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { checkInvariants, checkMaxChange, checkTiers, checkTiersChange, DEFAULT_RAILS, parseRailsConfig } from '../../src/params/rails.ts';
import type { LeverageTier, ProposalDraft } from '../../src/params/record.ts';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore } from '../../src/params/store.ts';
import { tempDir } from '../helpers/tmp.ts';
import { storeWithRails, testClock } from './store-contract.ts';

const tmp = tempDir('liqcal-rails-');
afterAll(() => tmp.cleanup());
const H = 3_600_000;
let n = 0;
const stores: ParameterStore[] = [];
afterEach(async () => { await Promise.all(stores.splice(0).map((s) => s.backend.close())); });

async function setup(rails: unknown = {}) {
  const clock = testClock();
  const store = await storeWithRails(openSqliteBackend(tmp.path(`r${n++}.db`)), rails, { clock });
  stores.push(store);
  return { store, clock };
}

const d = (updateType: string, newValue: unknown, extra: Record<string, unknown> = {}): ProposalDraft => ({ market: 'BTC-PERP', updateType, newValue, ...extra } as ProposalDraft);

/** Proposes, approves and publishes one draft; returns the published record. */
async function publishNow(store: ParameterStore, draft: ProposalDraft) {
  const [r] = await store.propose([draft]);
  expect(r!.state, JSON.stringify(r!.rejection)).toBe('proposed');
  await store.approve(r!.updateId, 'tester');
  return store.publish(r!.updateId);
}

async function refusedRule(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { expect(isAppError(e, 'guardRail')).toBe(true); return String((e as { context: Record<string, unknown> }).context['rule']); }
  throw new Error('expected a guard-rail refusal');
}

describe('guard rails', () => {
  it('minDelay: a second publish of one (market, type) waits for the debounce, then succeeds', async () => {
    const { store, clock } = await setup();
    await publishNow(store, d('maintenanceMarginRatio', 0.05));
    const [r] = await store.propose([d('maintenanceMarginRatio', 0.052)]);
    await store.approve(r!.updateId, 'x');
    clock.t += H - 1;
    expect(await refusedRule(store.publish(r!.updateId))).toBe('minDelay');
    expect((await store.get(r!.updateId))!.state).toBe('approved');
    clock.t += 1;
    expect((await store.publish(r!.updateId)).version).toBe(2);
  });

  it('maxChange absolute: a step larger than the limit is stored as rejected with the numbers', async () => {
    const { store, clock } = await setup();
    await publishNow(store, d('maintenanceMarginRatio', 0.05));
    clock.t += H;
    const [r] = await store.propose([d('maintenanceMarginRatio', 0.0701)]);
    expect(r).toMatchObject({ state: 'rejected', rejection: { rule: 'maxChange', values: { from: 0.05, to: 0.0701, maxDiff: 0.01, mode: 'absolute', against: 'published head' } } });
    expect(checkMaxChange('x', 0.05, 0.06, { mode: 'absolute', limit: 0.01 })).toBeNull();
  });

  it('maxChange relative: |to − from| ≤ limit·|from|, and a relative change from 0 is impossible', async () => {
    const { store, clock } = await setup();
    await publishNow(store, d('maxLeverage', 20));
    clock.t += H;
    const [tooFar, ok] = await store.propose([d('maxLeverage', 26), d('maxLeverage', 25)]);
    expect(tooFar).toMatchObject({ state: 'rejected', rejection: { rule: 'maxChange', values: { maxDiff: 5 } } });
    expect(ok!.state).toBe('proposed');
    expect(checkMaxChange('x', 0, 1, { mode: 'relative', limit: 0.5 })).toMatchObject({ rule: 'maxChange', values: { from: 0 } });
  });

  it('maxChange also binds against the venue value the caller read', async () => {
    const { store } = await setup();
    const [r] = await store.propose([d('maintenanceMarginRatio', 0.05, { previousValue: 0.03 })]);
    expect(r).toMatchObject({ state: 'rejected', rejection: { rule: 'maxChange', values: { against: 'venue value', from: 0.03 } } });
  });

  it('bounds: values outside [min, max] are refused', async () => {
    const { store } = await setup();
    const [lo, hi, ok] = await store.propose([d('closeFactor', 0.01), d('closeFactor', 1.5), d('closeFactor', 1)]);
    expect(lo).toMatchObject({ state: 'rejected', rejection: { rule: 'bounds', values: { value: 0.01, min: 0.05, max: 1 } } });
    expect(hi).toMatchObject({ state: 'rejected', rejection: { rule: 'bounds' } });
    expect(ok!.state).toBe('proposed');
  });

  it('nonZero: zero is refused where unsafe and allowed for the latency buffer', async () => {
    const { store } = await setup({ types: { liquidationPenalty: { min: 0 } } });
    const [pen, buf] = await store.propose([d('liquidationPenalty', 0), d('oracleLatencyBufferBps', 0)]);
    expect(pen).toMatchObject({ state: 'rejected', rejection: { rule: 'nonZero' } });
    expect(buf!.state).toBe('proposed');
  });

  it('invariants: maintenance < initial ≤ 1, penalty < maintenance, maxLeverage ≤ 1/initial, against live values', async () => {
    expect(checkInvariants({ maintenanceMarginRatio: 0.1, initialMarginRatio: 0.1 })).toMatchObject({ rule: 'invariant' });
    expect(checkInvariants({ initialMarginRatio: 1.01 })).toMatchObject({ rule: 'invariant' });
    expect(checkInvariants({ liquidationPenalty: 0.05, maintenanceMarginRatio: 0.05 })).toMatchObject({ rule: 'invariant' });
    expect(checkInvariants({ maxLeverage: 11, initialMarginRatio: 0.1 })).toMatchObject({ rule: 'invariant' });
    expect(checkInvariants({ maintenanceMarginRatio: 0.05, initialMarginRatio: 0.1, liquidationPenalty: 0.01, maxLeverage: 10 })).toBeNull();
    const { store, clock } = await setup();
    await publishNow(store, d('initialMarginRatio', 0.06));
    clock.t += H;
    const [r] = await store.propose([d('maintenanceMarginRatio', 0.06)]);
    expect(r).toMatchObject({ state: 'rejected', rejection: { rule: 'invariant', values: { maintenanceMarginRatio: 0.06, initialMarginRatio: 0.06 } } });
  });

  it('invariants are re-checked at publish time against values published since the proposal', async () => {
    const { store, clock } = await setup();
    await publishNow(store, d('maintenanceMarginRatio', 0.05));
    await publishNow(store, d('initialMarginRatio', 0.07));
    clock.t += H;
    const [mm, im] = await store.propose([d('maintenanceMarginRatio', 0.06)]).then(async (a) => [...a, ...(await store.propose([d('initialMarginRatio', 0.06)]))]);
    await store.approve(mm!.updateId, 'x');
    await store.approve(im!.updateId, 'x');
    await store.publish(im!.updateId);
    expect(await refusedRule(store.publish(mm!.updateId))).toBe('invariant');
    expect((await store.get(mm!.updateId))!.state).toBe('rejected');
  });

  it('leverage tiers: monotone, bounded, unbounded only last, and the margin change is bounded at every notional', () => {
    const r = DEFAULT_RAILS.types.leverageTiers;
    const good: LeverageTier[] = [
      { maxNotionalUsd: 1e6, maintenanceMarginRatio: 0.005, initialMarginRatio: 0.01, maxLeverage: 100 },
      { maxNotionalUsd: null, maintenanceMarginRatio: 0.01, initialMarginRatio: 0.02, maxLeverage: 50 },
    ];
    expect(checkTiers(good, r)).toBeNull();
    expect(checkTiers([good[1]!, good[0]!], r)).toMatchObject({ rule: 'invariant' });
    expect(checkTiers([good[0]!, { ...good[1]!, maintenanceMarginRatio: 0.004 }], r)).toMatchObject({ rule: 'invariant' });
    expect(checkTiers([{ ...good[0]!, maxLeverage: 200 }], r)).toMatchObject({ rule: 'bounds' });
    expect(checkTiers([{ ...good[0]!, initialMarginRatio: 0.004 }], r)).toMatchObject({ rule: 'invariant' });
    // Moving the first boundary down to 1e5 moves notionals in (1e5, 1e6] from 0.5% to 1% maintenance: within 1 pp.
    const shifted = [{ ...good[0]!, maxNotionalUsd: 1e5 }, good[1]!];
    expect(checkTiersChange(good, shifted, { mode: 'absolute', limit: 0.01 })).toBeNull();
    expect(checkTiersChange(good, shifted, { mode: 'absolute', limit: 0.004 })).toMatchObject({ rule: 'maxChange', values: { from: 0.005, to: 0.01 } });
  });

  it('allowlist: the rails config and the store settings each restrict markets', async () => {
    const { store } = await setup({ markets: ['ETH-PERP'] });
    const [r] = await store.propose([d('closeFactor', 0.5)]);
    expect(r).toMatchObject({ state: 'rejected', rejection: { rule: 'allowlist', values: { market: 'BTC-PERP' } } });
    const s2 = (await setup()).store;
    const [ok] = await s2.propose([d('closeFactor', 0.5)]);
    await s2.approve(ok!.updateId, 'x');
    await s2.setAllowedMarkets(['ETH-PERP'], 'ops');
    expect(await refusedRule(s2.publish(ok!.updateId))).toBe('allowlist');
  });

  it('expiry: a proposal already past its expiry is refused, and one that expires before publication is marked expired', async () => {
    const { store, clock } = await setup();
    const [past] = await store.propose([d('closeFactor', 0.5, { expiresAt: clock.t })]);
    expect(past).toMatchObject({ state: 'rejected', rejection: { rule: 'expiry' } });
    const [r] = await store.propose([d('closeFactor', 0.6)]);
    await store.approve(r!.updateId, 'x');
    clock.t += 6 * H;
    expect(await refusedRule(store.publish(r!.updateId))).toBe('expiry');
    expect((await store.get(r!.updateId))!.state).toBe('expired');
  });

  it('pause: the global kill switch holds every publication until resumed', async () => {
    const { store } = await setup();
    const [r] = await store.propose([d('closeFactor', 0.5)]);
    await store.approve(r!.updateId, 'x');
    await store.pause('guardian');
    expect(await refusedRule(store.publish(r!.updateId))).toBe('pause');
    await store.resume('guardian');
    expect((await store.publish(r!.updateId)).state).toBe('published');
  });

  it('disable: a disabled update never publishes', async () => {
    const { store } = await setup();
    const [r] = await store.propose([d('closeFactor', 0.5)]);
    await store.approve(r!.updateId, 'x');
    await store.disable(r!.updateId, 'guardian');
    expect(await refusedRule(store.publish(r!.updateId))).toBe('state');
  });

  it('auto-approval: approves within the rails; manual types and breaker de-escalation wait for a person', async () => {
    const { store, clock } = await setup({ types: { liquidationPenalty: { autoApprove: false } } });
    await publishNow(store, d('circuitBreaker', { state: 'HALT', reasons: ['oracle stale'] }));
    clock.t += 1;
    const [cb, pen, cf] = await store.propose([d('circuitBreaker', { state: 'NORMAL', reasons: [] }), d('liquidationPenalty', 0.01), d('closeFactor', 0.5)]);
    const res = await store.autoApprove();
    expect(res.approved.map((r) => r.updateId)).toEqual([cf!.updateId]);
    expect(res.waiting.map((w) => w.updateId)).toEqual([cb!.updateId, pen!.updateId]);
    expect(res.waiting[0]!.reason).toMatch(/de-escalation HALT → NORMAL/);
    expect((await store.approve(cb!.updateId, 'committee')).state).toBe('approved');
  });

  it('config: partial files merge over safe defaults; bad fields and min > max are config errors', () => {
    const c = parseRailsConfig({ types: { maxLeverage: { max: 50 } } });
    expect(c.types.maxLeverage).toMatchObject({ max: 50, min: 1, maxChange: { mode: 'relative', limit: 0.25 } });
    expect(c.ttlMs).toBe(6 * H);
    for (const bad of [{ types: { maxLeverage: { max: 'x' } } }, { types: { closeFactor: { min: 2 } } }, { nope: 1 }]) {
      try { parseRailsConfig(bad); expect.unreachable(); } catch (e) { expect(isAppError(e, 'config')).toBe(true); }
    }
  });
});
