import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';

/** A fresh temporary directory and a cleanup function. */
export function tempDir(prefix = 'liqcal-test-'): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic synthetic hourly bars starting at `startMs` (a random walk from a fixed LCG; test data only). */
export function syntheticBars(startMs: number, count: number, stepMs = 3_600_000, seed = 1): import('../../src/ingest/types.ts').Bar[] {
  let s = seed >>> 0;
  const u = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  let price = 100;
  const out: import('../../src/ingest/types.ts').Bar[] = [];
  for (let i = 0; i < count; i++) {
    const open = price;
    const close = Math.max(1, open * (1 + (u() - 0.5) * 0.02));
    const high = Math.max(open, close) * (1 + u() * 0.005);
    const low = Math.min(open, close) * (1 - u() * 0.005);
    out.push({ openTimeMs: startMs + i * stepMs, open, high, low, close, volume: 10 + u() * 100, quoteVolume: 1000 + u() * 1e4, trades: 100 + Math.floor(u() * 1000), takerBuyBaseVolume: 5 + u() * 10 });
    price = close;
  }
  return out;
}

/**
 * Registers beforeEach/afterEach hooks that give each test a fresh store in a fresh temporary
 * directory, closed and deleted afterwards. Read the fields inside tests (they change per test).
 */
export function useTempStore(prefix = 'liqcal-store-'): { readonly dir: string; readonly store: import('../../src/store/db.ts').Store; readonly md: import('../../src/store/market-data.ts').MarketData } {
  const state = {} as { dir: string; store: import('../../src/store/db.ts').Store; md: import('../../src/store/market-data.ts').MarketData };
  beforeEach(() => {
    state.dir = mkdtempSync(join(tmpdir(), prefix));
    state.store = openStore(join(state.dir, 'test.db'));
    state.md = new MarketData(state.store);
  });
  afterEach(() => {
    state.store.close();
    rmSync(state.dir, { recursive: true, force: true });
  });
  return state;
}
