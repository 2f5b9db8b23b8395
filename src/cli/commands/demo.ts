import { escapeControls } from '../../core/terminal.ts';
import type { Command } from 'commander';
import { EXIT_CODES } from '../../core/errors.ts';
import { floorToInterval, iso, systemClock, type EpochMs } from '../../core/time.ts';
import type { BackfillJob } from '../../ingest/backfill.ts';
import { ingestMany } from '../../ingest/ingest-many.ts';
import { dataStatus } from '../../ingest/quality.ts';
import { startVenueServer } from '../../ingest/replay/wire-server.ts';
import { createSimulatorProvider } from '../../ingest/simulator/provider.ts';
import { createSource } from '../../ingest/source.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { MarketData } from '../../store/market-data.ts';
import { RunLedger } from '../../store/runs.ts';
import type { forecastLatest } from '../../forecasting/train.ts';
import type { RecommendReport } from '../../calibration/recommend.ts';
import type { LatestResult } from '../../params/store.ts';
import { recommendationTable } from './calibration.ts';
import { list, makeOutput, positiveInt, table, nonNegativeInt } from '../output.ts';

const pct = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(digits)}%`);

/** How the publish refusals read: the minimum delay only holds an update back (it stays approved); other rules refuse it. */
function held(refused: readonly { rule: string }[]): string {
  const delayed = refused.filter((r) => r.rule === 'minDelay').length;
  const rules = [...new Set(refused.filter((r) => r.rule !== 'minDelay').map((r) => r.rule))];
  return `${delayed} held back by the minimum delay since the last publish (still approved)${rules.length ? `, ${refused.length - delayed} refused by the rails (${rules.join(', ')})` : ', none refused by the rails'}`;
}

/** Symbols the demo simulates. */
export const DEMO_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT'] as const;

interface DemoFlags { db: string; seed: number; days: number; symbols: string[]; modelsDir: string; json?: boolean; quiet?: boolean }

/** Registry name of the demo's model (kept apart from models trained on real data). */
export const DEMO_MODEL_NAME = 'demo-vol-24h';

/**
 * `liqcal demo` (what `npm start` runs): starts the seeded simulator on loopback, ingests bars,
 * funding and open interest through the same Binance USDT-M client, schemas and mappers used live,
 * stores them under venue "sim" (never mistaken for real Binance data), and prints the data status.
 */
export function registerDemo(program: Command): void {
  program.command('demo')
    .description('Offline end-to-end run: simulated venue on loopback → HTTP ingest → store → data status.')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--seed <n>', 'simulator seed', nonNegativeInt('--seed'), 7)
    .option('--days <n>', 'days of history to ingest (a year gives the model enough spike episodes to learn from)', positiveInt('--days'), 365)
    .option('--symbols <list>', 'symbols to simulate', list, [...DEMO_SYMBOLS])
    .option('--models-dir <dir>', 'model registry directory', 'models')
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress lines')
    .action(async (flags: DemoFlags) => {
      const out = makeOutput(flags);
      const clock = systemClock;
      const toMs = floorToInterval(clock.now(), '1h');
      const fromMs = (toMs - flags.days * 86_400_000) as EpochMs;
      const provider = createSimulatorProvider({ seed: flags.seed, symbols: flags.symbols, clock });
      const server = await startVenueServer({ provider, host: '127.0.0.1', port: 0 });
      const store = openStore(flags.db);
      try {
        out.info(`simulated venue (seed ${flags.seed}) on ${server.url}; ingesting ${flags.days} days of ${flags.symbols.join(', ')} into ${flags.db}`);
        const ledger = new RunLedger(store);
        const runId = ledger.start({ kind: 'demo', seed: flags.seed, config: { ...flags, fromMs, toMs, url: server.url } });
        const source = createSource('binance-usdm', { baseUrl: server.url });
        const jobs: BackfillJob[] = flags.symbols.flatMap((symbol) => (['bars', 'funding', 'openInterest'] as const).map((kind) => ({ kind, symbol, interval: '1h' as const, fromMs, toMs, storeVenue: 'sim' })));
        const md = new MarketData(store);
        const outcome = await ingestMany(source, md, jobs, { concurrency: 2, nowMs: clock.now() });
        const status = dataStatus(md, toMs);
        // Train a small seeded model on what was ingested, then forecast at the latest bar with it.
        let forecast: Awaited<ReturnType<typeof forecastLatest>> | undefined;
        let model: { name: string; version: string; trainingMs: number; backend: string } | undefined;
        let recommendations: RecommendReport | undefined;
        let published: { proposed: number; published: number; waiting: { updateId: number; reason: string }[]; refused: { updateId: number; rule: string; message: string }[]; latest: { market: string; mm: LatestResult | null; breaker: LatestResult | null }[] } | undefined;
        if (outcome.failures.length === 0) {
          const { forecastLatest, trainModel } = await import('../../forecasting/train.ts');
          out.info(`training ${DEMO_MODEL_NAME} (seed ${flags.seed}) on ${flags.symbols.length} symbols…`);
          const trained = await trainModel({ md, symbols: flags.symbols, interval: '1h', horizon: '24h', trainToMs: toMs, modelsDir: flags.modelsDir, venue: 'sim', seed: flags.seed, name: DEMO_MODEL_NAME, spec: { epochs: 15 }, clock });
          model = { name: trained.name, version: trained.version, trainingMs: Math.round(trained.card.trainingMs), backend: trained.card.backend };
          forecast = await forecastLatest({ md, symbols: flags.symbols, horizon: '24h', modelsDir: flags.modelsDir, name: DEMO_MODEL_NAME, venue: 'sim' });
          // Margin recommendations: the anticipatory policy run walk-forward over the last 120 days, then now.
          out.info('recommending margin parameters (ml-anticipatory, c = 0.99, H = 4h)…');
          const { recommend } = await import('../../calibration/recommend.ts');
          recommendations = (await recommend({ md, symbols: flags.symbols, venue: 'sim', calibrationDays: 120, seed: flags.seed, modelSpecs: { ml: { kind: 'ml', epochs: 15 } }, clock })).report;
          // Publish them to the parameter store: propose, approve automatically within the rails, publish, read back.
          const [{ ParameterStore, proposeApprovePublish }, { SqliteParamBackend }, { recommendationDrafts }] = await Promise.all([
            import('../../params/store.ts'), import('../../params/sqlite-backend.ts'), import('../../calibration/drafts.ts'),
          ]);
          const params = new ParameterStore(new SqliteParamBackend(store), { clock });
          const drafts = recommendations.recommendations.flatMap((r) => recommendationDrafts(r, `run:${runId}`));
          const result = await proposeApprovePublish(params, drafts, { by: 'liqcal-demo (auto within rails)', auto: true });
          const latest = await Promise.all(flags.symbols.map(async (m) => ({ market: m, mm: await params.latest(m, 'maintenanceMarginRatio'), breaker: await params.latest(m, 'circuitBreaker') })));
          published = { proposed: result.proposed.length, published: result.published.length, waiting: result.waiting, refused: result.refused, latest };
        }
        const summary = {
          runId, url: server.url, db: flags.db, from: iso(fromMs), to: iso(toMs), rowsIngested: outcome.rows, elapsedMs: Math.round(outcome.elapsedMs),
          failures: outcome.failures.map((f) => ({ symbol: f.job.symbol, kind: f.job.kind, error: f.error.toJSON() })),
          series: status.series.filter((s) => s.venue === 'sim'),
          model: model ?? null,
          forecasts: forecast?.forecasts ?? [],
          recommendations: recommendations?.recommendations ?? [],
          parameterStore: published ?? null,
        };
        ledger.finish(runId, { status: outcome.failures.length ? 'failed' : 'succeeded', stats: { rows: outcome.rows, elapsedMs: summary.elapsedMs }, ...(outcome.failures.length ? { error: outcome.failures[0]!.error.message } : {}) });
        out.result(summary, () => [
          `Ingested ${outcome.rows} rows over HTTP in ${(outcome.elapsedMs / 1000).toFixed(1)} s (rows already stored are not fetched again).`,
          '',
          'Data status (venue "sim" = the built-in simulator):',
          table(['kind', 'symbol', 'interval', 'rows', 'first', 'last', 'gaps', 'stale'], summary.series.map((s) => [s.kind, s.symbol, s.interval, s.bars, s.first ?? '-', s.last ?? '-', s.gaps, s.stale ? 'STALE' : 'ok'])),
          '',
          ...(forecast && model ? [
            `24h volatility forecasts at the latest bar (${model.name} v${model.version}, ${model.backend}, trained in ${(model.trainingMs / 1000).toFixed(1)} s):`,
            table(['symbol', 'origin', 'vol 24h', 'annualised', 'q90', 'q99', 'spike p'], forecast.forecasts.map((x) => [x.symbol, x.origin, pct(Math.sqrt(x.variance)), pct(x.volAnnualised, 1), pct(x.volQuantiles['0.9']), pct(x.volQuantiles['0.99']), x.spikeProb === null ? '-' : x.spikeProb.toFixed(3)])),
            '',
          ] : []),
          ...(recommendations ? [
            `Recommended parameters (${recommendations.policy}, c = ${recommendations.confidence}, H = ${recommendations.horizon}; change = the step the governor announces):`,
            recommendationTable(recommendations.recommendations),
            '',
          ] : []),
          ...(published ? [
            `Parameter store: ${published.proposed} proposals, ${published.published} published now, ${published.waiting.length} waiting for a person, ${held(published.refused)}. Read back:`,
            table(['market', 'maintenance', 'updateId', 'version', 'state', 'expires', 'breaker'], published.latest.map((l) => [
              l.market, l.mm ? pct(l.mm.record.newValue as number) : '-', l.mm?.record.updateId ?? '-', l.mm?.record.version ?? '-', l.mm ? (l.mm.usable ? 'published' : l.mm.record.state) : '-',
              l.mm ? iso(l.mm.record.expiresAt).slice(0, 16) : '-', l.breaker ? (l.breaker.record.newValue as { state: string }).state : '-',
            ])),
            '',
          ] : []),
          `Store: ${flags.db}; model registry: ${flags.modelsDir}/. Next: \`npx liqcal params latest --market ${flags.symbols[0]} --type maintenanceMarginRatio --json\`, \`npx liqcal recommend --venue sim --symbols ${flags.symbols.join(',')}\`, \`npx liqcal forecast --model ${DEMO_MODEL_NAME} --venue sim --symbols ${flags.symbols.join(',')}\`, or point \`liqcal ingest\` at a live venue (README).`,
        ].join('\n'));
        if (outcome.failures.length) {
          for (const f of outcome.failures) process.stderr.write(`liqcal: ${f.job.symbol} ${f.job.kind}: ${escapeControls(f.error.message)}\n`);
          process.exitCode = EXIT_CODES[outcome.failures[0]!.error.kind];
        }
      } finally {
        store.close();
        await server.close();
      }
    });
}
