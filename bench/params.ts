/**
 * bench/params: the embedded (SQLite) parameter store. Durable publishes per second when published in batches
 * (`publishMany`: one transaction and one WAL fsync per batch, every publish still checked against the rails and the
 * version CAS), for synchronous=FULL (the default: fsync per commit, survives power loss) and NORMAL (survives process
 * crashes only); and latency of `latest(market, type)` reads (p50/p99, embedded, async API included).
 * Targets (issue 5): ≥ 2,000 durable publishes/s in batches; latest p99 ≤ 1 ms.
 * Run: npm run bench:params → bench/results/params.json
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { EpochMs } from '../src/core/time.ts';
import { createRng } from '../src/core/rng.ts';
import { parseRailsConfig } from '../src/params/rails.ts';
import type { ProposalDraft } from '../src/params/record.ts';
import { openSqliteBackend } from '../src/params/sqlite-backend.ts';
import { ParameterStore } from '../src/params/store.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const WORK = join(ROOT, 'bench/.work-params');
const MARKETS = Array.from({ length: 500 }, (_, i) => `MKT-${i}`);
const TYPES = ['closeFactor', 'oracleLatencyBufferBps'] as const;
const rails = parseRailsConfig({ types: { closeFactor: { minDelayMs: 0 }, oracleLatencyBufferBps: { minDelayMs: 0 } } });

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Publishes `total` updates in batches of `batch`; times the publish step (publishMany) and the whole pipeline. */
async function publishRun(synchronous: 'FULL' | 'NORMAL', batch: number, total: number) {
  const path = join(WORK, `pub-${synchronous}-${batch}.db`);
  const clock = { t: Date.UTC(2025, 0, 1), now(): EpochMs { return this.t as EpochMs; } };
  const store = new ParameterStore(openSqliteBackend(path, { synchronous }), { clock, rails });
  let publishMs = 0;
  let pipelineMs = 0;
  let published = 0;
  for (let done = 0, round = 0; done < total; done += batch, round++) {
    // One update per (market, type) per batch; values alternate so every step stays within the max change.
    const drafts: ProposalDraft[] = Array.from({ length: Math.min(batch, total - done) }, (_, i) => {
      const k = (done + i) % (MARKETS.length * TYPES.length);
      const type = TYPES[k % TYPES.length]!;
      const v = type === 'closeFactor' ? (round % 2 ? 0.6 : 0.5) : (round % 2 ? 20 : 10);
      return { market: MARKETS[Math.floor(k / TYPES.length)]!, updateType: type, newValue: v, idempotencyKey: `b${batch}-${done + i}` } as ProposalDraft;
    });
    clock.t += 1000;
    const t0 = performance.now();
    const proposed = await store.propose(drafts);
    const approved = await store.autoApprove(proposed.map((r) => r.updateId));
    const t1 = performance.now();
    const outcomes = await store.publishMany(approved.approved.map((r) => r.updateId));
    const t2 = performance.now();
    publishMs += t2 - t1;
    pipelineMs += t2 - t0;
    published += outcomes.filter((o) => o.ok).length;
  }
  if (published !== total) throw new Error(`only ${published} of ${total} published`);
  const problems = await store.verify();
  await store.backend.close();
  if (problems.length) throw new Error(problems.join('; '));
  return { synchronous, batch, publishes: total, publishesPerSec: Math.round(total / (publishMs / 1000)), pipelinePerSec: Math.round(total / (pipelineMs / 1000)) };
}

/** Latency of `latest` over a store with one published head per (market, type) and some history behind each. */
async function latestRun(reads: number) {
  const path = join(WORK, 'latest.db');
  const clock = { t: Date.UTC(2025, 0, 1), now(): EpochMs { return this.t as EpochMs; } };
  const store = new ParameterStore(openSqliteBackend(path), { clock, rails });
  for (let r = 0; r < 4; r++) {
    clock.t += 1000;
    const drafts = MARKETS.flatMap((m) => TYPES.map((t) => ({ market: m, updateType: t, newValue: t === 'closeFactor' ? (r % 2 ? 0.6 : 0.5) : (r % 2 ? 20 : 10), idempotencyKey: `l${r}-${m}-${t}` } as ProposalDraft)));
    const p = await store.propose(drafts);
    await store.publishMany((await store.autoApprove(p.map((x) => x.updateId))).approved.map((x) => x.updateId));
  }
  const rng = createRng(5);
  const lat: number[] = [];
  for (let i = 0; i < reads + 1000; i++) {
    const m = MARKETS[rng.int(MARKETS.length)]!;
    const t = TYPES[rng.int(TYPES.length)]!;
    const t0 = performance.now();
    const l = await store.latest(m, t);
    const dt = performance.now() - t0;
    if (!l?.usable) throw new Error(`no usable head for ${m} ${t}`);
    if (i >= 1000) lat.push(dt); // the first 1,000 warm the statement cache and the JIT
  }
  await store.backend.close();
  return { reads, records: 4 * MARKETS.length * TYPES.length, p50Ms: round(quantile(lat, 0.5), 4), p99Ms: round(quantile(lat, 0.99), 4), maxMs: round(Math.max(...lat), 3) };
}

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const publishing = [];
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    for (const batch of [1, 10, 100, 500]) {
      const r = await publishRun(synchronous, batch, batch === 1 ? 1000 : 10_000);
      process.stdout.write(`${JSON.stringify(r)}\n`);
      publishing.push(r);
    }
  }
  const latest = await latestRun(20_000);
  process.stdout.write(`latest: ${JSON.stringify(latest)}\n`);
  const best = Math.max(...publishing.filter((r) => r.synchronous === 'FULL' && r.batch >= 100).map((r) => r.publishesPerSec));
  const out = {
    benchmark: 'params', date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    durability: 'synchronous=FULL in WAL (the backend default): each commit is fsynced before publish() resolves, so an acknowledged publish survives power loss; NORMAL shown for comparison (survives process crashes only).',
    publishing, latest,
    targets: { publishesPerSecInBatches: { min: 2000, bestFullBatch: best, met: best >= 2000 }, latestP99Ms: { max: 1, value: latest.p99Ms, met: latest.p99Ms <= 1 } },
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/params.json'), `${JSON.stringify(out, null, 2)}\n`);
  rmSync(WORK, { recursive: true, force: true });
}

await main();
