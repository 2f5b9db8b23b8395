/**
 * Regenerates docs/report-example.png (and docs/report-example.md): a risk-committee report made from the Binance
 * spot 1h bars in ../shared/data, screenshotted in headless Chromium. Run from the repository root:
 *
 *   node --import tsx scripts/report-screenshot.ts [--chromium /usr/bin/chromium] [--keep DIR]
 *
 * What it does, all in a temporary store: imports BTCUSDT, ETHUSDT and SOLUSDT for 2024–2025; a first run
 * publishes the EWMA policy's parameters (the live values the report compares against); the report's run
 * recommends the HAR policy over the last 120 days and proposes, approves within the default guard rails and
 * publishes two hours later; a backtest compares static, EWMA and HAR from May to October 2025 (with the
 * 2025-10-10 stress episode); the report is written and the top 1600 px of its HTML page are captured.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { runBacktest } from '../src/calibration/backtest.ts';
import { recommendationDrafts } from '../src/calibration/drafts.ts';
import { recommend } from '../src/calibration/recommend.ts';
import { fixedClock } from '../src/core/time.ts';
import { importCsv } from '../src/ingest/csv.ts';
import type { ParamValue, UpdateType } from '../src/params/record.ts';
import { SqliteParamBackend } from '../src/params/sqlite-backend.ts';
import { ParameterStore, proposeApprovePublish } from '../src/params/store.ts';
import { buildReportModel, writeReport } from '../src/reporting/index.ts';
import { openStore } from '../src/store/db.ts';
import { MarketData } from '../src/store/market-data.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KLINES = join(ROOT, '..', 'shared', 'data', 'market', 'binance-spot__finom-static-klines');
const MARKETS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const CHROMIUM = arg('--chromium') ?? '/usr/bin/chromium';

async function main(): Promise<void> {
  if (!existsSync(KLINES)) throw new Error(`${KLINES} is missing: this script reads the shared data set beside the repository.`);
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or pass --chromium PATH.`);
  const tmp = mkdtempSync(join(tmpdir(), 'liqcal-report-example-'));
  const store = openStore(join(tmp, 'example.db'));
  try {
    const md = new MarketData(store);
    for (const symbol of MARKETS) {
      await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files: [2024, 2025].map((y) => join(KLINES, symbol, '1h', `${symbol}-1h-${y}.csv`)) });
    }
    const watermarkMs = Math.min(...MARKETS.map((s) => md.watermark('bars', { venue: 'binance-spot', symbol: s, interval: '1h' }) ?? Number.NaN));
    const dataEndMs = Number.isFinite(watermarkMs) ? watermarkMs + 3_600_000 : Date.parse('2025-11-01T00:00:00Z');
    const clock = fixedClock(dataEndMs + 30 * 60_000);
    const base = { md, symbols: MARKETS, calibrationDays: 120, includeHistory: true, clock, seed: 42 } as const;
    const backend = new SqliteParamBackend(store);
    process.stderr.write('previous run: EWMA policy, published as the live values…\n');
    const first = (await recommend({ ...base, policy: 'ewma' })).report;
    await proposeApprovePublish(new ParameterStore(backend, { clock }), first.recommendations.flatMap((r) => recommendationDrafts(r, 'run:example-previous')), { by: 'example', auto: true });
    const previous: Record<string, Partial<Record<UpdateType, ParamValue>>> = {};
    for (const m of MARKETS) previous[m] = Object.fromEntries((await backend.headRecords(m)).map((r) => [r.updateType, r.newValue]));
    process.stderr.write('this run: HAR policy, proposed and published within the default rails…\n');
    const startedAtMs = clock.now() + 2 * 3_600_000;
    const rec = (await recommend({ ...base, policy: 'har' })).report;
    const published = await proposeApprovePublish(new ParameterStore(backend, { clock: fixedClock(startedAtMs) }), rec.recommendations.flatMap((r) => recommendationDrafts(r, 'run:example')), { by: 'example', auto: true });
    process.stderr.write('backtest: static, EWMA, HAR, May–October 2025…\n');
    const backtest = await runBacktest({
      md, symbols: MARKETS, interval: '1h', fromMs: Date.parse('2025-05-01'), toMs: Date.parse('2025-10-31'),
      policies: ['static', 'ewma', 'har'], warmupDays: 120, retrainEveryDays: 60, stress: { seeds: 4 }, seed: 42,
    });
    const model = buildReportModel({
      run: { id: 'example', pipeline: 'csv', status: 'succeeded', startedAtMs, endedAtMs: startedAtMs + 60_000, configHash: null, gitSha: null, seed: 42, dataWatermarkMs: dataEndMs },
      recommend: rec, previous, published, backtest,
    });
    const out = await writeReport(model, join(tmp, 'report'));
    process.stderr.write(`report written to ${out.dir}; screenshot in headless Chromium…\n`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1600 }, deviceScaleFactor: 1 });
      await page.goto(pathToFileURL(out.html).href, { waitUntil: 'load' });
      await page.screenshot({ path: join(ROOT, 'docs', 'report-example.png'), clip: { x: 0, y: 0, width: 1200, height: 1600 } });
    } finally {
      await browser.close();
    }
    copyFileSync(out.markdown, join(ROOT, 'docs', 'report-example.md'));
    const keep = arg('--keep');
    if (keep) process.stderr.write(`kept: ${(await writeReport(model, keep, { png: true })).dir}\n`);
    process.stdout.write(`${join(ROOT, 'docs', 'report-example.png')}\n${join(ROOT, 'docs', 'report-example.md')}\n`);
  } finally {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`report-screenshot: ${(e as Error).message}\n`);
  process.exit(1);
});
