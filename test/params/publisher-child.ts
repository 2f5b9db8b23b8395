/**
 * A tiny publisher process for the crash and concurrency tests (run with `node --import tsx`). Prints one JSON line
 * per outcome on stdout, always after the transaction committed.
 *   stream DB SEED    — propose/approve/publish forever over a few markets, in random batch sizes; ack = {"ack":id}
 *   free DB N MARKET  — N rounds of read head → propose → approve → publish on one (market, type); {"published"|"conflict":id}
 *   race DB MARKET    — commands on stdin: "propose" (then approve) → {"proposed":id,"baseVersion":v}; "publish ID" → {"published"|"conflict":id}
 */
import { createInterface } from 'node:readline';
import { isAppError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import { parseRailsConfig } from '../../src/params/rails.ts';
import type { ProposalDraft } from '../../src/params/record.ts';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore } from '../../src/params/store.ts';

const [mode, db, a, b] = process.argv.slice(2);
const store = new ParameterStore(openSqliteBackend(db!));
// The test lifts the minimum delay in the store's rails (the audited way; a caller's own rails may only tighten them).
if ((await store.storedRails())?.rails.types.closeFactor.minDelayMs !== 0) {
  await store.setRails(parseRailsConfig({ types: { closeFactor: { minDelayMs: 0 } } }), 'publisher-child', 'tests publish closeFactor back to back');
}
const say = (x: unknown): void => { process.stdout.write(`${JSON.stringify(x)}\n`); };
let n = 0;

/** A closeFactor draft that alternates around the live value, always within the rails. */
async function draft(market: string): Promise<ProposalDraft> {
  const live = await store.latest(market, 'closeFactor');
  const v = live && live.record.newValue === 0.5 ? 0.6 : 0.5;
  return { market, updateType: 'closeFactor', newValue: v, idempotencyKey: `${process.pid}-${Date.now()}-${n++}` };
}

async function publishOne(id: number, approve: boolean): Promise<void> {
  try {
    if (approve) await store.approve(id, 'child');
    const r = await store.publish(id);
    say({ published: r.updateId, version: r.version });
  } catch (e) {
    if (isAppError(e, 'guardRail') && e.context['rule'] === 'versionConflict') say({ conflict: id, message: e.message });
    else throw e;
  }
}

if (mode === 'stream') {
  const rng = createRng(Number(a));
  const markets = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'];
  for (;;) {
    const batch = 1 + rng.int(5);
    const chosen = [...new Set(Array.from({ length: batch }, () => markets[rng.int(markets.length)]!))];
    const drafts = await Promise.all(chosen.map(draft));
    const proposed = await store.propose(drafts);
    const approved = await store.autoApprove(proposed.map((r) => r.updateId));
    for (const o of await store.publishMany(approved.approved.map((r) => r.updateId))) {
      if (!o.ok) throw o.error;
      say({ ack: o.updateId });
    }
  }
} else if (mode === 'free') {
  for (let i = 0; i < Number(a); i++) {
    const [r] = await store.propose([await draft(b!)]);
    await publishOne(r!.updateId, true);
  }
  await store.backend.close();
} else if (mode === 'race') {
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.trim().split(' ');
    if (cmd === 'propose') {
      const [r] = await store.propose([await draft(a!)]);
      await store.approve(r!.updateId, 'child');
      say({ proposed: r!.updateId, baseVersion: r!.baseVersion });
    } else if (cmd === 'publish') {
      await publishOne(Number(arg), false);
    } else break;
  }
  await store.backend.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
