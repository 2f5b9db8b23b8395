import type { Command } from 'commander';
import { AppError } from '../../core/errors.ts';
import { parseInstant } from '../../core/time.ts';
import { createReplayProvider } from '../../ingest/replay/replay.ts';
import { startVenueServer } from '../../ingest/replay/wire-server.ts';
import { createSimulatorProvider } from '../../ingest/simulator/provider.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { list, makeOutput, positiveInt, nonNegativeInt } from '../output.ts';

interface ServeFlags { db: string; port: number; host: string; venue?: string; seed: number; symbols?: string[]; genesis?: string; rateLimit?: number; json?: boolean }

/** Serves until SIGINT/SIGTERM, then closes the server (and store) cleanly. */
async function serveUntilSignal(server: { url: string; close(): Promise<void> }, onClose: () => void): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (): void => { void server.close().then(() => { onClose(); resolve(); }); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** `liqcal serve-venue replay|simulator`: an offline venue on loopback speaking Binance's klines wire format. */
export function registerServeVenue(program: Command): void {
  const cmd = program.command('serve-venue').description("Serve an offline venue on loopback in Binance's wire format (/api/v3/klines, /fapi/v1/klines, /fapi/v1/fundingRate, /futures/data/openInterestHist).");
  const common = (c: Command): Command => c
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port'), 8787)
    .option('--host <host>', 'bind address (loopback by default)', '127.0.0.1')
    .option('--rate-limit <perMinute>', 'answer 429 with Retry-After beyond this many requests per minute', positiveInt('--rate-limit'))
    .option('--json', 'print the listening URL as JSON');
  common(cmd.command('replay').description('Serve the bars, funding and open interest of a liqcal store.'))
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--venue <name>', 'which stored venue to serve when the store holds several')
    .action(async (flags: ServeFlags) => {
      const out = makeOutput(flags);
      const store = openStore(flags.db, { readonly: true });
      const provider = createReplayProvider(store, flags.venue ? { venue: flags.venue } : {});
      const server = await startVenueServer({ provider, host: flags.host, port: flags.port, ...(flags.rateLimit ? { rateLimitPerMinute: flags.rateLimit } : {}) });
      out.result({ url: server.url, mode: 'replay', db: flags.db }, () => `replay of ${flags.db} listening on ${server.url} (Ctrl-C to stop)`);
      await serveUntilSignal(server, () => store.close());
    });
  common(cmd.command('simulator').description('Serve the seeded market simulator (see src/ingest/simulator/README.md).'))
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 1)
    .option('--symbols <list>', 'symbols to simulate (default BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT)', list)
    .option('--genesis <time>', 'first simulated instant (ISO UTC)')
    .action(async (flags: ServeFlags) => {
      const out = makeOutput(flags);
      if (flags.symbols && flags.symbols.length === 0) throw new AppError('config', '--symbols is empty.');
      const provider = createSimulatorProvider({ seed: flags.seed, ...(flags.symbols ? { symbols: flags.symbols } : {}), ...(flags.genesis ? { genesisMs: parseInstant(flags.genesis, 'genesis') } : {}) });
      const server = await startVenueServer({ provider, host: flags.host, port: flags.port, ...(flags.rateLimit ? { rateLimitPerMinute: flags.rateLimit } : {}) });
      out.result({ url: server.url, mode: 'simulator', seed: flags.seed }, () => `simulator (seed ${flags.seed}) listening on ${server.url} (Ctrl-C to stop)`);
      await serveUntilSignal(server, () => undefined);
    });
}
