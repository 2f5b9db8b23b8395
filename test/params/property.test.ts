import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { parseRailsConfig } from '../../src/params/rails.ts';
import type { ProposalDraft, UpdateRecord } from '../../src/params/record.ts';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore } from '../../src/params/store.ts';
import { testClock } from './store-contract.ts';

const MARKETS = ['BTC-PERP', 'ETH-PERP'] as const;
const TYPES = ['maintenanceMarginRatio', 'initialMarginRatio', 'liquidationPenalty', 'maxLeverage'] as const;
type T = (typeof TYPES)[number];
const rails = parseRailsConfig({ types: { initialMarginRatio: { minDelayMs: 1_800_000 }, liquidationPenalty: { minDelayMs: 0 } } });

const cmd = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('propose' as const), market: fc.constantFrom(...MARKETS), type: fc.constantFrom(...TYPES), relative: fc.boolean(), x: fc.integer({ min: -1200, max: 1200 }).map((i) => i / 1000) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('approve' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('autoApprove' as const) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('publish' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('publishMany' as const), picks: fc.array(fc.nat(), { maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4 * 3_600_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pause' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('disable' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flow' as const), market: fc.constantFrom(...MARKETS), type: fc.constantFrom(...TYPES), x: fc.integer({ min: -1000, max: 1000 }).map((i) => i / 1000) }) },
);

/** A value for `type`: either absolute in a range wider than the rails, or a step from the live value. */
function valueFor(type: T, relative: boolean, x: number, live: number | undefined): number {
  const scale = { maintenanceMarginRatio: 0.6, initialMarginRatio: 1.2, liquidationPenalty: 0.1, maxLeverage: 150 }[type];
  if (relative && live !== undefined) return Math.round((live + x * scale * 0.02) * 1e6) / 1e6;
  return Math.round(Math.abs(x) * scale * 1e6) / 1e6;
}

/** Invariants written independently of rails.ts. */
function brokenInvariant(v: Partial<Record<T, number>>): string | null {
  const { maintenanceMarginRatio: mm, initialMarginRatio: im, liquidationPenalty: pen, maxLeverage: lev } = v;
  if (im !== undefined && im > 1) return `initial ${im} > 1`;
  if (mm !== undefined && im !== undefined && mm >= im) return `maintenance ${mm} ≥ initial ${im}`;
  if (pen !== undefined && mm !== undefined && pen >= mm) return `penalty ${pen} ≥ maintenance ${mm}`;
  if (lev !== undefined && im !== undefined && lev * im > 1 + 1e-9) return `leverage ${lev} × initial ${im} > 1`;
  return null;
}

describe('parameter store properties', () => {
  it('no sequence of proposals, approvals and publishes yields a published value outside its rails or a broken invariant', async () => {
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 20, maxLength: 80, size: 'max' }), async (cmds) => {
      const clock = testClock();
      const store = new ParameterStore(openSqliteBackend(':memory:'), { clock });
      await store.setRails(rails, 'test', 'property test rails');
      const ids: number[] = [];
      let paused = false;
      const live = new Map<string, Partial<Record<T, number>>>(MARKETS.map((m) => [m, {}]));
      const onPublished = (r: UpdateRecord): void => {
        expect(paused, `update ${r.updateId} published while paused`).toBe(false);
        live.get(r.market)![r.updateType as T] = r.newValue as number;
        expect(brokenInvariant(live.get(r.market)!), `after publishing ${r.updateId}`).toBeNull();
      };
      try {
        for (const c of cmds) {
          // Picks favour recent proposals so that chains of approvals and publications form.
          const pick = (k: number): number | undefined => (ids.length ? ids[ids.length - 1 - (k % Math.min(ids.length, 4))] : undefined);
          if (c.op === 'propose') {
            const newValue = valueFor(c.type, c.relative, c.x, live.get(c.market)![c.type]);
            const [r] = await store.propose([{ market: c.market, updateType: c.type, newValue, referenceId: `p${ids.length}` } as ProposalDraft]);
            ids.push(r!.updateId);
          } else if (c.op === 'flow') {
            const newValue = valueFor(c.type, true, c.x, live.get(c.market)![c.type]);
            const [r] = await store.propose([{ market: c.market, updateType: c.type, newValue, referenceId: `f${ids.length}` } as ProposalDraft]);
            ids.push(r!.updateId);
            if (r!.state !== 'proposed') continue;
            const a = await store.autoApprove([r!.updateId]);
            if (a.approved.length === 0) continue;
            const [o] = await store.publishMany([r!.updateId]);
            if (o!.ok) onPublished(o!.record);
          } else if (c.op === 'approve' || c.op === 'publish' || c.op === 'disable') {
            const id = pick(c.pick);
            if (id === undefined) continue;
            try {
              if (c.op === 'approve') await store.approve(id, 'prop');
              else if (c.op === 'disable') await store.disable(id, 'prop');
              else { const before = (await store.get(id))!.state; const r = await store.publish(id); if (before !== 'published' && before !== 'superseded') onPublished(r); }
            } catch (e) {
              if (!isAppError(e, 'guardRail')) throw e;
            }
          } else if (c.op === 'publishMany') {
            const chosen = c.picks.map(pick).filter((x): x is number => x !== undefined);
            const before = new Map(await Promise.all(chosen.map(async (id) => [id, (await store.get(id))!.state] as const)));
            for (const o of await store.publishMany(chosen)) if (o.ok && !o.alreadyPublished && before.get(o.updateId) === 'approved') onPublished(o.record);
          } else if (c.op === 'autoApprove') await store.autoApprove();
          else if (c.op === 'advance') clock.t += c.ms;
          else if (c.op === 'pause') { paused = c.on; await (c.on ? store.pause('prop') : store.resume('prop')); }
        }
        // Whole-history checks, independent of the code under test.
        const all = await store.history({ limit: 100_000 });
        const byKey = new Map<string, UpdateRecord[]>();
        for (const r of all.filter((x) => x.version !== null)) byKey.set(`${r.market}/${r.updateType}`, [...(byKey.get(`${r.market}/${r.updateType}`) ?? []), r]);
        for (const chain of byKey.values()) {
          chain.sort((a, b) => a.version! - b.version!);
          chain.forEach((r, i) => {
            const rail = rails.types[r.updateType as T];
            const v = r.newValue as number;
            expect(v >= rail.min && v <= rail.max && v !== 0, `update ${r.updateId} value ${v} outside [${rail.min}, ${rail.max}]`).toBe(true);
            expect(r.publishedAt! < r.expiresAt).toBe(true);
            if (i === 0) return;
            const prev = chain[i - 1]!;
            const from = prev.newValue as number;
            const maxDiff = rail.maxChange!.mode === 'relative' ? Math.abs(from) * rail.maxChange!.limit : rail.maxChange!.limit;
            expect(Math.abs(v - from) <= maxDiff + 1e-12, `update ${r.updateId} moved ${from} → ${v}, limit ${maxDiff}`).toBe(true);
            expect(r.publishedAt! - prev.publishedAt! >= rail.minDelayMs, `update ${r.updateId} published too soon`).toBe(true);
            expect(r.previousValue).toBe(from);
          });
        }
        expect(await store.verify()).toEqual([]);
      } finally {
        await store.backend.close();
      }
    }), { numRuns: 150, seed: 20250101 });
  });
});
