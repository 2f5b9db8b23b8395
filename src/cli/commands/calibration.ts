import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.ts';
import { parseInstant, parseInterval } from '../../core/time.ts';
import { parseBreakerConfig } from '../../calibration/circuit-breakers.ts';
import { parsePolicyConfig, type PolicyConfig } from '../../calibration/config.ts';
import { parsePolicies, POLICY_NAMES, type PolicyName } from '../../calibration/policy-series.ts';
import type { MarketRecommendation } from '../../calibration/recommend.ts';
import type { BacktestRow } from '../../calibration/backtest.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { MarketData } from '../../store/market-data.ts';
import { RunLedger } from '../../store/runs.ts';
import { list, makeOutput, positiveInt, table, nonNegativeInt } from '../output.ts';

// The calibration stack imports the forecasters (TensorFlow.js) lazily, inside the actions.

const pct = (x: number, d = 2): string => (Number.isFinite(x) ? `${(x * 100).toFixed(d)}%` : '-');
const num = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

function confidence(value: string): number {
  const c = Number(value);
  if (!(c > 0.5 && c < 1)) throw new AppError('config', `--confidence must be a number between 0.5 and 1 (e.g. 0.99), not "${value}".`, { context: { confidence: value } });
  return c;
}

/** Reads a JSON file given on the command line; the error names the file and what is wrong. */
function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('io', `Cannot read the ${what} file ${path}: ${(e as Error).message}.`, { context: { path } });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError('config', `The ${what} file ${path} is not valid JSON: ${(e as Error).message}.`, { context: { path } });
  }
}

function policyConfig(path: string | undefined, overrides: Partial<PolicyConfig>): PolicyConfig {
  const raw = path ? readJson(path, 'policy config') : {};
  return parsePolicyConfig({ ...(raw as object), ...overrides }, path ?? 'policy config');
}

/** A recommendation as one table row. */
function recommendationRow(r: MarketRecommendation): string[] {
  const p = r.params;
  const change = r.change ? `${pct(r.change.from)} → ${pct(r.change.to)} at ${r.change.effectiveAt.slice(5, 16)}` : 'hold';
  return [r.market, pct(p.maintenanceMarginRatio), pct(p.initialMarginRatio), `${num(p.maxLeverage, 1)}×`, pct(p.liquidationPenalty), `${num(p.oracleLatencyBufferBps, 1)}`, num(p.closeFactor, 2), change, r.circuitBreaker.state, r.forecast.spikeProb === null ? '-' : num(r.forecast.spikeProb)];
}

/** The recommendation table printed by `recommend` and the demo. */
export function recommendationTable(rs: readonly MarketRecommendation[]): string {
  return table(['market', 'maint', 'initial', 'max lev', 'penalty', 'oracle bps', 'close f', 'change', 'breaker', 'spike p'], rs.map(recommendationRow));
}

function backtestTable(rows: readonly BacktestRow[]): string {
  return table(
    ['policy', 'symbol', 'obs', 'breaches', 'rate', 'kupiec p', 'chr p', 'zone', 'mean MM', 'max +30d', 'peak/trough', 'bad debt $', 'liqs', 'healthy liq'],
    rows.map((r) => [r.policy, r.symbol, r.observations, r.breaches, pct(r.breachRate), num(r.kupiecP), num(r.christoffersenP), r.baselZone, pct(r.meanMarginRatio), pct(r.maxIncrease30d, 0), num(r.peakToTrough, 1), Math.round(r.badDebtUsd), Math.round(r.liquidations), r.healthyLiquidatedByChange]),
  );
}

/** `liqcal recommend | backtest`: margin parameters and their validation. */
export function registerCalibration(program: Command): void {
  program.command('recommend')
    .description('Recommend margin parameters (maintenance, initial, penalty, oracle buffer, close factor, leverage tiers) and circuit-breaker states per market, with the rationale.')
    .requiredOption('--symbols <list>', 'markets, comma-separated', list)
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--venue <name>', 'venue of the bars (default: the only one holding all symbols)')
    .option('--interval <iv>', 'bar interval', '1h')
    .option('--policy <name>', `policy: ${POLICY_NAMES.join(', ')}`, 'ml-anticipatory')
    .option('--confidence <c>', 'coverage of the maintenance margin', confidence)
    .option('--horizon <h>', 'liquidation horizon H')
    .option('--config <file>', 'policy configuration (JSON, see src/calibration/config.ts)')
    .option('--breakers <file>', 'circuit-breaker configuration (JSON)')
    .option('--calibration-days <n>', 'out-of-sample history the policy runs over', positiveInt('--calibration-days'), 120)
    .option('--seed <n>', 'seed', nonNegativeInt('--seed'), 42)
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  $ liqcal recommend --db data/liqcal.db --symbols BTCUSDT,ETHUSDT --json')
    .action(async (f: { symbols: string[]; db: string; venue?: string; interval: string; policy: string; confidence?: number; horizon?: string; config?: string; breakers?: string; calibrationDays: number; seed: number; json?: boolean }) => {
      const out = makeOutput(f);
      const policy = parsePolicies(f.policy)[0] as PolicyName;
      const config = policyConfig(f.config, { ...(f.confidence ? { confidence: f.confidence } : {}), ...(f.horizon ? { horizon: f.horizon } : {}) });
      const breakers = parseBreakerConfig(f.breakers ? readJson(f.breakers, 'circuit-breaker config') : {});
      const store = openStore(f.db);
      try {
        const { recommend } = await import('../../calibration/recommend.ts');
        const { runId, report } = await new RunLedger(store).track({ kind: 'recommend', seed: f.seed, config: f }, async (id) => ({
          runId: id,
          report: (await recommend({ md: new MarketData(store), symbols: f.symbols, interval: parseInterval(f.interval), policy, config, breakers, calibrationDays: f.calibrationDays, seed: f.seed, ...(f.venue ? { venue: f.venue } : {}) })).report,
        }), (r) => ({ markets: r.report.recommendations.length }));
        out.result({ runId, ...report }, () => `${report.policy} at ${report.confidence} over ${report.horizon} (${report.venue} ${report.interval})\n${recommendationTable(report.recommendations)}`);
      } finally {
        store.close();
      }
    });

  program.command('backtest')
    .description('Validate margin policies over history, walk-forward: coverage (Kupiec, Christoffersen, Basel zone), procyclicality, capital, and a liquidation-simulator replay of the stress episodes.')
    .requiredOption('--symbols <list>', 'markets, comma-separated', list)
    .requiredOption('--from <time>', 'test period start (ISO UTC)')
    .requiredOption('--to <time>', 'test period end, exclusive (ISO UTC)')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--venue <name>', 'venue of the bars')
    .option('--interval <iv>', 'bar interval', '1h')
    .option('--confidence <c>', 'coverage of the maintenance margin', confidence, 0.99)
    .option('--horizon <h>', 'liquidation horizon H', '4h')
    .option('--policies <list>', `policies: ${POLICY_NAMES.join(',')}`, POLICY_NAMES.join(','))
    .option('--config <file>', 'policy configuration (JSON)')
    .option('--retrain-every-days <n>', 'refit the forecasters every n days', positiveInt('--retrain-every-days'), 90)
    .option('--warmup-days <n>', 'out-of-sample history before --from that calibrates the scale', positiveInt('--warmup-days'), 180)
    .option('--sim-seeds <n>', 'liquidation-simulator seeds per episode (0: skip the replay)', (v: string) => Number(v), 10)
    .option('--seed <n>', 'seed', nonNegativeInt('--seed'), 42)
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  $ liqcal backtest --db data/liqcal.db --symbols BTCUSDT,ETHUSDT --interval 1h --from 2024-01-01 --to 2025-10-31 \\\n      --confidence 0.99 --horizon 4h --policies static,ewma,garch,har,ml,ml-anticipatory --json')
    .action(async (f: { symbols: string[]; from: string; to: string; db: string; venue?: string; interval: string; confidence: number; horizon: string; policies: string; config?: string; retrainEveryDays: number; warmupDays: number; simSeeds: number; seed: number; json?: boolean }) => {
      const out = makeOutput(f);
      if (!(Number.isInteger(f.simSeeds) && f.simSeeds >= 0)) throw new AppError('config', `--sim-seeds must be a whole number ≥ 0, not "${f.simSeeds}".`);
      const config = policyConfig(f.config, { confidence: f.confidence, horizon: f.horizon });
      const store = openStore(f.db, { readonly: true });
      try {
        const { runBacktest } = await import('../../calibration/backtest.ts');
        const report = await runBacktest({
          md: new MarketData(store), symbols: f.symbols, interval: parseInterval(f.interval), fromMs: parseInstant(f.from, 'from'), toMs: parseInstant(f.to, 'to'),
          policies: parsePolicies(f.policies), config, retrainEveryDays: f.retrainEveryDays, warmupDays: f.warmupDays, seed: f.seed, stress: { seeds: f.simSeeds },
          ...(f.venue ? { venue: f.venue } : {}),
          ...(f.json ? {} : { onFold: (i: { fold: number; folds: number }) => process.stderr.write(`forecast fold ${i.fold + 1}/${i.folds}\n`) }),
        });
        out.result(report, () => `${report.venue} ${report.interval}, ${report.from} → ${report.to}, c = ${report.confidence}, H = ${report.horizon}, ${report.folds} refits, ${(report.elapsedMs / 1000).toFixed(1)} s\n${backtestTable(report.policies)}\nstress episodes: ${report.episodes.map((e) => e.name).join(', ') || 'none'}`);
      } finally {
        store.close();
      }
    });
}
