/**
 * `liqcal ingest` (the real bin, in a child process) against a hostile venue: a trickling or rate-limiting venue ends
 * the command with exit 7 within a bounded time, and the run is recorded failed in the ledger, never left running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startHostileVenue, type HostileVenue } from '../helpers/hostile-venue.ts';
import { tempDir } from '../helpers/tmp.ts';

let venue: HostileVenue | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await venue?.close();
  venue = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

const ingestArgs = (db: string, url: string, extra: string[]): string[] => [
  'ingest', '--db', db, '--venue', 'binance-usdm', '--base-url', url, '--symbols', 'BTCUSDT',
  '--from', '2025-01-01', '--to', '2025-01-03', '--json', ...extra,
];

interface LedgerRun { kind: string; status: string; error: string | null; startedAt: string; endedAt: string | null }

async function lastRun(db: string): Promise<LedgerRun> {
  const runs = await runCli(['runs', '--db', db, '--json']);
  expect(runs.code).toBe(0);
  return (JSON.parse(runs.stdout) as { runs: LedgerRun[] }).runs[0]!;
}

describe('liqcal ingest against a hostile venue', () => {
  it('a venue trickling its body a byte at a time: exit 7 within the deadlines, the run recorded failed', async () => {
    tmp = tempDir('liqcal-hostile-cli-');
    venue = await startHostileVenue({ modes: { kind: 'trickle', byteEveryMs: 200 } });
    const db = tmp.path('t.db');
    const t0 = Date.now();
    const r = await runCli(ingestArgs(db, venue.url, ['--request-timeout-ms', '1000', '--retry-budget-ms', '2000']));
    const elapsedMs = Date.now() - t0;
    expect(r.code, r.stderr).toBe(7);
    // Two attempts of 1 s with a backoff between them (the 2 s budget leaves no room for a third), plus the CLI's
    // start-up (slow on a loaded machine); the body alone would take ~25 minutes at this pace.
    expect(elapsedMs).toBeLessThan(12_000);
    expect(venue.requests).toHaveLength(2);
    expect(venue.inFlight()).toBe(0);
    const out = JSON.parse(r.stdout) as { failures: { symbol: string; kind: string; error: { kind: string; message: string } }[] };
    expect(out.failures).toHaveLength(1);
    expect(out.failures[0]!.error.kind).toBe('network');
    expect(out.failures[0]!.error.message).toMatch(/binance-usdm GET \/fapi\/v1\/klines: no complete response within 1 s/);
    expect(out.failures[0]!.error.message).toMatch(/retry budget|Gave up after/);
    const run = await lastRun(db);
    expect(run).toMatchObject({ kind: 'ingest', status: 'failed' });
    expect(run.error).toMatch(/no complete response within 1 s/);
    // The ingest itself, start-up excluded: two 1 s attempts and one short wait.
    expect(Date.parse(run.endedAt!) - Date.parse(run.startedAt)).toBeLessThan(4_000);
  }, 20_000);

  it('Retry-After: 3600 is capped (--max-retry-after-ms) and the request gives up inside its budget: exit 7', async () => {
    tmp = tempDir('liqcal-hostile-cli-');
    venue = await startHostileVenue({ modes: { kind: 'retryAfter', retryAfter: 3600 } });
    const db = tmp.path('r.db');
    const t0 = Date.now();
    const r = await runCli(ingestArgs(db, venue.url, ['--max-retry-after-ms', '300', '--retry-budget-ms', '1000']));
    expect(r.code, r.stderr).toBe(7);
    expect(Date.now() - t0).toBeLessThan(12_000);
    expect(venue.requests.length).toBeGreaterThanOrEqual(3);
    expect(venue.requests.length).toBeLessThanOrEqual(4);
    const out = JSON.parse(r.stdout) as { failures: { error: { kind: string; message: string } }[] };
    expect(out.failures[0]!.error).toMatchObject({ kind: 'rateLimited' });
    expect(out.failures[0]!.error.message).toMatch(/asked to retry after 1 h \(waits at most 300 ms\).*would exceed what is left .* retry budget/);
    expect(await lastRun(db)).toMatchObject({ kind: 'ingest', status: 'failed' });
  }, 20_000);
});
