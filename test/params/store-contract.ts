/**
 * The store test suite every parameter-store backend must pass (SQLite in sqlite-backend.test.ts, PostgreSQL in
 * postgres-backend.test.ts). `makeBackend` returns a fresh, empty, migrated backend; the suite closes it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../../src/core/errors.ts';
import type { EpochMs } from '../../src/core/time.ts';
import type { NewRecord, ParamBackend } from '../../src/params/backend.ts';
import { parseRailsConfig } from '../../src/params/rails.ts';
import type { ProposalDraft } from '../../src/params/record.ts';
import { ParameterStore, proposeApprovePublish } from '../../src/params/store.ts';

const T0 = Date.UTC(2025, 0, 1);
const H = 3_600_000;

/**
 * A ParameterStore over `backend` whose store rails are `override` merged over the defaults, set the audited way
 * (`setRails`, by "test"): what tests use to lift e.g. the minimum delay, since a caller's own rails may only tighten.
 */
export async function storeWithRails(backend: ParamBackend, override: unknown, opts: { clock?: { now(): EpochMs } } = {}): Promise<ParameterStore> {
  const store = new ParameterStore(backend, opts.clock ? { clock: opts.clock } : {});
  await store.setRails(parseRailsConfig(override), 'test', 'test setup');
  return store;
}

/** A settable clock (epoch ms). */
export function testClock(t = T0): { t: number; now(): EpochMs } {
  return { t, now() { return this.t as EpochMs; } };
}

const mmr = (v: number, extra: Partial<ProposalDraft> = {}): ProposalDraft => ({ market: 'BTC-PERP', updateType: 'maintenanceMarginRatio', newValue: v, referenceId: `run-${v}`, ...extra } as ProposalDraft);
const imr = (v: number, extra: Partial<ProposalDraft> = {}): ProposalDraft => ({ market: 'BTC-PERP', updateType: 'initialMarginRatio', newValue: v, referenceId: `run-${v}`, ...extra } as ProposalDraft);

async function rejectsWith(p: Promise<unknown>, kind: string, rule?: string): Promise<AppError> {
  try { await p; } catch (e) {
    expect(isAppError(e), String(e)).toBe(true);
    const err = e as AppError;
    expect(err.kind).toBe(kind);
    if (rule !== undefined) expect(err.context['rule']).toBe(rule);
    return err;
  }
  throw new Error('expected a rejection');
}

/** Registers the contract suite for one backend. */
export function describeStoreContract(name: string, makeBackend: () => Promise<ParamBackend>): void {
  describe(`parameter store contract: ${name}`, () => {
    const open: ParamBackend[] = [];
    afterEach(async () => { await Promise.all(open.splice(0).map((b) => b.close())); });
    async function setup(railsOverride: unknown = { types: { maintenanceMarginRatio: { minDelayMs: 0 }, initialMarginRatio: { minDelayMs: 0 } } }) {
      const backend = await makeBackend();
      open.push(backend);
      const clock = testClock();
      const store = await storeWithRails(backend, railsOverride, { clock });
      return { backend, clock, store };
    }

    it('stores a proposal with a monotonic id, default expiry, base version and an insert event', async () => {
      const { store, backend } = await setup();
      const [a, b] = await store.propose([mmr(0.05), imr(0.1)]);
      expect(a).toMatchObject({ state: 'proposed', market: 'BTC-PERP', newValue: 0.05, previousValue: null, baseVersion: 0, version: null, timestamp: T0, expiresAt: T0 + 6 * H, referenceId: 'run-0.05' });
      expect(b!.updateId).toBeGreaterThan(a!.updateId);
      expect(await backend.events(a!.updateId)).toMatchObject([{ fromState: null, toState: 'proposed', atMs: T0 }]);
    });

    it('returns the same record for the same idempotency key and refuses the key for other content', async () => {
      const { store } = await setup();
      const [a] = await store.propose([mmr(0.05)]);
      const [again] = await store.propose([mmr(0.05)]);
      expect(again!.updateId).toBe(a!.updateId);
      expect(await store.history({})).toHaveLength(1);
      await rejectsWith(store.propose([mmr(0.06, { idempotencyKey: a!.idempotencyKey })]), 'badRequest');
      expect(await store.history({})).toHaveLength(1);
    });

    it('records who approved and when, and publishes version 1 then supersedes it with version 2', async () => {
      const { store, clock } = await setup();
      const [a] = await store.propose([mmr(0.05)]);
      clock.t += 1000;
      const ap = await store.approve(a!.updateId, 'alice');
      expect(ap).toMatchObject({ state: 'approved', approvedBy: 'alice', approvedAt: T0 + 1000 });
      const p1 = await store.publish(a!.updateId);
      expect(p1).toMatchObject({ state: 'published', version: 1, publishSeq: 1, publishedAt: T0 + 1000 });
      const [b] = await store.propose([mmr(0.055)]);
      expect(b!.previousValue).toBe(0.05);
      expect(b!.baseVersion).toBe(1);
      await store.approve(b!.updateId, 'bob');
      expect(await store.publish(b!.updateId)).toMatchObject({ version: 2, publishSeq: 2 });
      expect((await store.get(a!.updateId))!.state).toBe('superseded');
      const latest = await store.latest('BTC-PERP', 'maintenanceMarginRatio');
      expect(latest).toMatchObject({ usable: true, expired: false, record: { updateId: b!.updateId, newValue: 0.055 } });
      expect((await store.backend.events(a!.updateId)).map((e) => e.toState)).toEqual(['proposed', 'approved', 'published', 'superseded']);
      expect(await store.verify()).toEqual([]);
    });

    it('takes previousValue from the published head, never from an unpublished proposal', async () => {
      const { store } = await setup();
      await store.propose([mmr(0.05)]);
      const [b] = await store.propose([mmr(0.051)]);
      expect(b!.previousValue).toBeNull();
      const [c] = await store.propose([mmr(0.052, { previousValue: 0.049 })]);
      expect(c!.previousValue).toBe(0.049);
    });

    it('lets only one of two updates on the same version publish; the loser is refused and stored as rejected', async () => {
      const { store } = await setup();
      const [a, b] = await store.propose([mmr(0.05), mmr(0.051)]);
      await store.approve(a!.updateId, 'x');
      await store.approve(b!.updateId, 'y');
      await store.publish(a!.updateId);
      const err = await rejectsWith(store.publish(b!.updateId), 'guardRail', 'versionConflict');
      expect(err.message).toMatch(/version 1.*version 0/);
      expect(await store.get(b!.updateId)).toMatchObject({ state: 'rejected', rejection: { rule: 'versionConflict', values: { baseVersion: 0, currentVersion: 1 } } });
      expect(await store.verify()).toEqual([]);
    });

    it('refuses to publish an unapproved update and publishes an already published one idempotently', async () => {
      const { store } = await setup();
      const [a] = await store.propose([mmr(0.05)]);
      await rejectsWith(store.publish(a!.updateId), 'guardRail', 'state');
      expect((await store.get(a!.updateId))!.state).toBe('proposed');
      await store.approve(a!.updateId, 'x');
      const p = await store.publish(a!.updateId);
      expect(await store.publish(a!.updateId)).toEqual(p);
      await rejectsWith(store.publish(999_999), 'badRequest');
    });

    it('holds publication while paused and records the settings changes', async () => {
      const { store } = await setup();
      const [a] = await store.propose([mmr(0.05)]);
      await store.approve(a!.updateId, 'x');
      await store.pause('ops', 'incident');
      expect(await store.settings()).toMatchObject({ paused: true, changedBy: 'ops', changedAtMs: T0 });
      await rejectsWith(store.publish(a!.updateId), 'guardRail', 'pause');
      expect((await store.get(a!.updateId))!.state).toBe('approved');
      await store.resume('ops');
      expect((await store.publish(a!.updateId)).state).toBe('published');
    });

    it('disables an update so it never publishes, and a disabled head is not usable', async () => {
      const { store } = await setup();
      const [a, b] = await store.propose([mmr(0.05), imr(0.1)]);
      await store.approve(a!.updateId, 'x');
      await store.disable(a!.updateId, 'guardian');
      await rejectsWith(store.publish(a!.updateId), 'guardRail', 'state');
      await store.approve(b!.updateId, 'x');
      await store.publish(b!.updateId);
      await store.disable(b!.updateId, 'guardian');
      expect(await store.latest('BTC-PERP', 'initialMarginRatio')).toMatchObject({ usable: false, record: { state: 'disabled' } });
      await rejectsWith(store.disable(999_999, 'g'), 'badRequest');
    });

    it('reports expiry on latest, marks due updates expired, and refuses to publish an expired one', async () => {
      const { store, clock } = await setup();
      const [a, b] = await store.propose([mmr(0.05), imr(0.1)]);
      await store.approve(a!.updateId, 'x');
      await store.approve(b!.updateId, 'x');
      await store.publish(a!.updateId);
      clock.t += 6 * H;
      expect(await store.latest('BTC-PERP', 'maintenanceMarginRatio')).toMatchObject({ expired: true, usable: false, record: { state: 'published' } });
      await rejectsWith(store.publish(b!.updateId), 'guardRail', 'expiry');
      expect((await store.get(b!.updateId))!.state).toBe('expired');
      const expired = await store.expireDue();
      expect(expired.map((r) => r.updateId)).toEqual([a!.updateId]);
      expect(await store.latest('BTC-PERP', 'maintenanceMarginRatio')).toMatchObject({ expired: true, record: { state: 'expired' } });
      expect(await store.verify()).toEqual([]);
    });

    it('filters history and streams newly published records in publish order', async () => {
      const { store } = await setup();
      const ac = new AbortController();
      const seen: number[] = [];
      const watching = (async () => { for await (const r of store.watch({ afterSeq: 0, pollMs: 5, signal: ac.signal })) { seen.push(r.updateId); if (seen.length === 2) ac.abort(); } })();
      const [a, b] = await store.propose([mmr(0.05), imr(0.1)]);
      await store.approve(a!.updateId, 'x');
      await store.approve(b!.updateId, 'x');
      await store.publish(b!.updateId);
      await store.publish(a!.updateId);
      await watching;
      expect(seen).toEqual([b!.updateId, a!.updateId]);
      expect((await store.history({ updateType: 'initialMarginRatio' })).map((r) => r.updateId)).toEqual([b!.updateId]);
      expect(await store.history({ market: 'ETH-PERP' })).toEqual([]);
      expect((await store.history({ fromId: b!.updateId, limit: 1 })).map((r) => r.updateId)).toEqual([b!.updateId]);
    });

    it('publishes a batch in one commit, each update checked on its own', async () => {
      const { store } = await setup();
      expect((await proposeApprovePublish(store, [mmr(0.05), imr(0.06)], { by: 'auto', auto: true })).published).toHaveLength(2);
      // Raising maintenance to the old initial only works if initial moves first: the pipeline orders them.
      const res = await proposeApprovePublish(store, [mmr(0.06), imr(0.07)], { by: 'auto', auto: true });
      expect(res.refused).toEqual([]);
      expect(res.published.map((r) => r.updateType)).toEqual(['initialMarginRatio', 'maintenanceMarginRatio']);
      const [bad] = await store.propose([mmr(0.061)]);
      await store.approve(bad!.updateId, 'x');
      const [good] = await store.propose([imr(0.075)]);
      await store.approve(good!.updateId, 'x');
      await store.disable(bad!.updateId, 'g');
      const out = await store.publishMany([bad!.updateId, good!.updateId]);
      expect(out.map((o) => o.ok)).toEqual([false, true]);
      expect(await store.verify()).toEqual([]);
    });

    it('rolls back a failed atomic section entirely, and outside reads never see its uncommitted writes', async () => {
      const { backend } = await setup();
      const rec = { market: 'M', updateType: 'closeFactor', newValue: 0.5, previousValue: null, referenceId: null, timestamp: T0, expiresAt: T0 + H, additionalData: {}, state: 'proposed', idempotencyKey: 'k1', baseVersion: 0, rejection: null } as NewRecord;
      let outside: Promise<unknown> | undefined;
      await expect(backend.atomic(async (tx) => {
        await tx.insert(rec, 't');
        outside = backend.getByIdempotencyKey('k1');
        throw new Error('boom');
      })).rejects.toThrow('boom');
      expect(await outside).toBeNull();
      expect(await backend.history({})).toEqual([]);
      const ins = await backend.atomic((tx) => tx.insert(rec, 't'));
      await expect(backend.atomic((tx) => tx.insert(rec, 't'))).rejects.toBeInstanceOf(Error);
      expect(await backend.getByIdempotencyKey('k1')).toMatchObject({ updateId: ins.updateId, state: 'proposed' });
    });

    it('guards transitions and the head compare-and-set at the backend', async () => {
      const { backend } = await setup();
      const rec = { market: 'M', updateType: 'closeFactor', newValue: 0.5, previousValue: null, referenceId: null, timestamp: T0, expiresAt: T0 + H, additionalData: {}, state: 'proposed', idempotencyKey: 'k2', baseVersion: 0, rejection: null } as NewRecord;
      const r = await backend.atomic((tx) => tx.insert(rec, 't'));
      expect(await backend.atomic((tx) => tx.transition(r.updateId, { from: 'approved', to: 'published', atMs: T0, actor: 'x' }))).toBeNull();
      await expect(backend.atomic((tx) => tx.transition(r.updateId, { from: 'proposed', to: 'superseded', atMs: T0, actor: 'x' }))).rejects.toBeInstanceOf(Error);
      expect((await backend.get(r.updateId))!.state).toBe('proposed');
      expect(await backend.atomic((tx) => tx.casHead('M', 'closeFactor', 0, r.updateId))).toBe(1);
      expect(await backend.atomic((tx) => tx.casHead('M', 'closeFactor', 0, r.updateId))).toBeNull();
      expect(await backend.atomic((tx) => tx.casHead('M', 'closeFactor', 2, r.updateId))).toBeNull();
      expect(await backend.atomic((tx) => tx.casHead('M', 'closeFactor', 1, r.updateId))).toBe(2);
      expect(await backend.head('M', 'closeFactor')).toEqual({ market: 'M', updateType: 'closeFactor', updateId: r.updateId, version: 2 });
      expect(await backend.atomic(async (tx) => [await tx.nextPublishSeq(), await tx.maxPublishSeq()])).toEqual([1, 0]);
      expect(await backend.settings()).toEqual({ paused: false, allowedMarkets: null, changedAtMs: null, changedBy: null });
      expect(await backend.atomic((tx) => tx.changeSettings({ allowedMarkets: ['M'], atMs: T0, actor: 'ops' }))).toEqual({ paused: false, allowedMarkets: ['M'], changedAtMs: T0, changedBy: 'ops' });
    });

    it('keeps the store\'s rails as an append-only, versioned log with who, when and why; the defaults apply before any', async () => {
      const backend = await makeBackend();
      open.push(backend);
      const clock = testClock();
      const store = new ParameterStore(backend, { clock });
      expect(await backend.rails()).toBeNull();
      expect(await backend.railsHistory()).toEqual([]);
      expect(await store.effectiveRails()).toMatchObject({ stored: null, overridden: false, rails: parseRailsConfig({}) });
      const loose = parseRailsConfig({ types: { closeFactor: { minDelayMs: 0, max: 0.9 } } });
      const v1 = await store.setRails(loose, 'alice', 'hourly recalibration');
      expect(v1.stored).toEqual({ version: 1, rails: loose, atMs: T0, actor: 'alice', reason: 'hourly recalibration' });
      expect(v1.changes).toEqual([
        { field: 'types.closeFactor.minDelayMs', from: H, to: 0, loosens: true, why: 'a smaller minDelayMs' },
        { field: 'types.closeFactor.max', from: 1, to: 0.9, loosens: false, why: '' },
      ]);
      clock.t += 1000;
      const tight = parseRailsConfig({ ttlMs: H, types: { closeFactor: { maxTtlMs: 2 * H } } });
      const v2 = await store.setRails(tight, 'bob', 'incident: shorter lifetimes');
      expect(v2.stored).toMatchObject({ version: 2, actor: 'bob', atMs: T0 + 1000 });
      expect(await backend.rails()).toEqual(v2.stored);
      expect((await backend.railsHistory()).map((v) => [v.version, v.actor, v.reason])).toEqual([[1, 'alice', 'hourly recalibration'], [2, 'bob', 'incident: shorter lifetimes']]);
      expect((await backend.railsHistory())[0]!.rails).toEqual(loose);
      // The backend numbers versions itself, gapless; a rolled-back change leaves no version behind.
      await expect(backend.atomic(async (tx) => { await tx.setRails({ rails: tight, atMs: T0, actor: 'x', reason: 'y' }); throw new Error('boom'); })).rejects.toThrow('boom');
      expect((await backend.atomic((tx) => tx.setRails({ rails: tight, atMs: T0 + 2000, actor: 'carol', reason: 'again' }))).version).toBe(3);
      await rejectsWith(store.setRails(tight, ' ', 'why'), 'badRequest');
      await rejectsWith(store.setRails(tight, 'dave', ''), 'badRequest');
      expect(await backend.railsHistory()).toHaveLength(3);
      // The defaults of a new version come from the store's rails: a proposal's default lifetime is min(ttlMs, maxTtlMs).
      const [r] = await store.propose([{ market: 'BTC-PERP', updateType: 'closeFactor', newValue: 0.5 }]);
      expect(r).toMatchObject({ state: 'proposed', expiresAt: T0 + 1000 + H });
    });

    it('applies a caller\'s rails only to tighten the store\'s: a loosening field is refused by name and nothing is stored', async () => {
      const { backend, clock } = await setup({ types: { closeFactor: { minDelayMs: 0 } } });
      const tighter = new ParameterStore(backend, { clock, rails: { types: { closeFactor: { max: 0.4 } } }, railsSource: 'rails config tight.json' });
      const [r] = await tighter.propose([{ market: 'BTC-PERP', updateType: 'closeFactor', newValue: 0.5 }]);
      expect(r).toMatchObject({ state: 'rejected', rejection: { rule: 'bounds', values: { max: 0.4 } } });
      expect((await tighter.effectiveRails()).rails.types.closeFactor).toMatchObject({ max: 0.4, minDelayMs: 0 });
      // The defaults are tighter than these store rails (minDelayMs 1 h > 0): passing them is allowed.
      expect((await new ParameterStore(backend, { clock, rails: parseRailsConfig({}) }).effectiveRails()).rails.types.closeFactor.minDelayMs).toBe(H);
      for (const [override, field] of [
        [{ types: { closeFactor: { max: 1.5 } } }, 'types.closeFactor.max'],
        [{ types: { maintenanceMarginRatio: { min: 0.0001 } } }, 'types.maintenanceMarginRatio.min'],
        [{ types: { maintenanceMarginRatio: { maxChange: { mode: 'absolute', limit: 0.5 } } } }, 'types.maintenanceMarginRatio.maxChange'],
        [{ types: { maintenanceMarginRatio: { maxChange: null } } }, 'types.maintenanceMarginRatio.maxChange'],
        [{ types: { maxLeverage: { maxChange: { mode: 'absolute', limit: 0.01 } } } }, 'types.maxLeverage.maxChange'],
        [{ types: { initialMarginRatio: { minDelayMs: 0 } } }, 'types.initialMarginRatio.minDelayMs'],
        [{ types: { closeFactor: { allowZero: true } } }, 'types.closeFactor.allowZero'],
        [{ types: { circuitBreaker: { autoApproveDeescalation: true } } }, 'types.circuitBreaker.autoApproveDeescalation'],
        [{ types: { circuitBreaker: { requireReasons: false } } }, 'types.circuitBreaker.requireReasons'],
        [{ types: { leverageTiers: { maxTiers: 50 } } }, 'types.leverageTiers.maxTiers'],
        [{ types: { closeFactor: { maxTtlMs: 7 * H } } }, 'types.closeFactor.maxTtlMs'],
        [{ ttlMs: 7 * H }, 'ttlMs'],
      ] as const) {
        const s = new ParameterStore(backend, { clock, rails: override as never, railsSource: 'rails config loose.json' });
        const err = await rejectsWith(s.propose([{ market: 'BTC-PERP', updateType: 'closeFactor', newValue: 0.6, referenceId: field }]), 'guardRail', 'railsOverride');
        expect(err.context['fields']).toEqual([field]);
        expect(err.message).toContain(`rails config loose.json would loosen the store's rails (version 1, set by test): ${field}`);
        await rejectsWith(s.publish(r!.updateId), 'guardRail', 'railsOverride');
      }
      const manual = await storeWithRails(await makeBackend().then((b) => { open.push(b); return b; }), { types: { closeFactor: { autoApprove: false } } }, { clock });
      const auto = new ParameterStore(manual.backend, { clock, rails: { types: { closeFactor: { autoApprove: true } } } });
      await rejectsWith(auto.autoApprove(), 'guardRail', 'railsOverride');
      const listed = await storeWithRails(await makeBackend().then((b) => { open.push(b); return b; }), { markets: ['BTC-PERP'] }, { clock });
      await rejectsWith(new ParameterStore(listed.backend, { clock, rails: { markets: null } }).propose([]), 'guardRail', 'railsOverride');
      await rejectsWith(new ParameterStore(listed.backend, { clock, rails: { markets: ['BTC-PERP', 'ETH-PERP'] } }).propose([]), 'guardRail', 'railsOverride');
      expect(await new ParameterStore(listed.backend, { clock, rails: { markets: [] } }).propose([])).toEqual([]);
      // Nothing of the refused calls was stored.
      expect((await backend.history({})).map((x) => x.updateId)).toEqual([r!.updateId]);
    });

    it('bounds a record\'s lifetime: expiresAt in the past or beyond timestamp + maxTtlMs is refused, and latest never trusts a longer one', async () => {
      const { store, clock } = await setup();
      const [past, far, max, ok] = await store.propose([
        mmr(0.05, { expiresAt: T0 - 1 }), imr(0.1, { expiresAt: T0 + 6 * H + 1 }), mmr(0.051, { expiresAt: Number.MAX_SAFE_INTEGER }), imr(0.11, { expiresAt: T0 + 6 * H }),
      ]);
      expect(past).toMatchObject({ state: 'rejected', rejection: { rule: 'expiry' } });
      expect(far).toMatchObject({ state: 'rejected', rejection: { rule: 'maxTtl', values: { maxTtlMs: 6 * H, lifetimeMs: 6 * H + 1 } } });
      expect(max).toMatchObject({ state: 'rejected', rejection: { rule: 'maxTtl' } });
      expect(ok).toMatchObject({ state: 'proposed', expiresAt: T0 + 6 * H });
      await store.approve(ok!.updateId, 'x');
      await store.publish(ok!.updateId);
      expect(await store.latest('BTC-PERP', 'initialMarginRatio')).toMatchObject({ usable: true, expired: false, paused: false });
      // Tightening the store's maxTtlMs later shortens what latest trusts, whatever expiresAt says.
      await store.setRails(parseRailsConfig({ types: { initialMarginRatio: { minDelayMs: 0, maxTtlMs: H } } }), 'ops', 'shorter lifetimes');
      clock.t += H;
      expect(await store.latest('BTC-PERP', 'initialMarginRatio')).toMatchObject({ usable: false, expired: true, record: { state: 'published' } });
    });

    it('reports a head as not usable while the store is paused', async () => {
      const { store } = await setup();
      const [a] = await store.propose([mmr(0.05)]);
      await store.approve(a!.updateId, 'x');
      await store.publish(a!.updateId);
      await store.pause('ops');
      expect(await store.latest('BTC-PERP', 'maintenanceMarginRatio')).toMatchObject({ usable: false, expired: false, paused: true });
      await store.resume('ops');
      expect(await store.latest('BTC-PERP', 'maintenanceMarginRatio')).toMatchObject({ usable: true, paused: false });
    });

    it('stores a refused proposal as rejected with the rule and numbers', async () => {
      const { store } = await setup();
      const [r] = await store.propose([mmr(0.9)]);
      expect(r).toMatchObject({ state: 'rejected', rejection: { rule: 'bounds', values: { value: 0.9, min: 0.001, max: 0.5 } } });
      expect(await store.backend.events(r!.updateId)).toMatchObject([{ fromState: null, toState: 'rejected' }]);
      await rejectsWith(store.approve(r!.updateId, 'x'), 'guardRail');
    });
  });
}
