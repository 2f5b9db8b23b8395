import type { Command } from 'commander';
import { AppError } from '../../core/errors.ts';
import { iso, parseInstant, parseInterval } from '../../core/time.ts';
import { DEFAULT_MODEL_NAMES } from '../../forecasting/model-names.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { MarketData } from '../../store/market-data.ts';
import { RunLedger } from '../../store/runs.ts';
import { list, makeOutput, positiveInt, table } from '../output.ts';

// The forecasting stack (TensorFlow.js among it) is imported inside the actions, so that other
// commands start without loading it.

/** Default model registry directory. */
export const DEFAULT_MODELS_DIR = 'models';

const fmt = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

function spikeK(value: string): number {
  const k = Number(value);
  if (!(k > 1)) throw new AppError('config', `--spike-k must be a number above 1, not "${value}".`, { context: { spikeK: value } });
  return k;
}

/** `liqcal train | forecast | evaluate`: the volatility and spike forecasters. */
export function registerForecasting(program: Command): void {
  program.command('train')
    .description('Train the pooled neural volatility/spike model on stored bars and save it to the model registry (promoted for `forecast`).')
    .requiredOption('--symbols <list>', 'symbols to pool, comma-separated', list)
    .requiredOption('--train-to <time>', 'train only on labels that close before this time (ISO UTC)')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--venue <name>', 'venue of the bars (default: the only one holding all symbols)')
    .option('--interval <iv>', 'bar interval', '1h')
    .option('--horizon <h>', 'forecast horizon', '24h')
    .option('--model <name>', 'registry name (default vol-<horizon>)')
    .option('--models-dir <dir>', 'model registry directory', DEFAULT_MODELS_DIR)
    .option('--seed <n>', 'seed', positiveInt('--seed'), 42)
    .option('--epochs <n>', 'maximum epochs', positiveInt('--epochs'))
    .option('--spike-k <k>', 'a spike is forward RV above k × the trailing 30-day median', spikeK, 2)
    .option('--no-promote', 'save without promoting')
    .option('--json', 'print the model card as JSON')
    .action(async (f: { symbols: string[]; trainTo: string; db: string; venue?: string; interval: string; horizon: string; model?: string; modelsDir: string; seed: number; epochs?: number; spikeK: number; promote: boolean; json?: boolean }) => {
      const out = makeOutput(f);
      const store = openStore(f.db);
      try {
        const { trainModel } = await import('../../forecasting/train.ts');
        const { runId, r } = await new RunLedger(store).track({ kind: 'train', seed: f.seed, config: f }, async (id) => ({
          runId: id,
          r: await trainModel({
            md: new MarketData(store), symbols: f.symbols, interval: parseInterval(f.interval), horizon: f.horizon, trainToMs: parseInstant(f.trainTo, 'train-to'),
            modelsDir: f.modelsDir, seed: f.seed, promote: f.promote, spikeK: f.spikeK, ...(f.model ? { name: f.model } : {}), ...(f.venue ? { venue: f.venue } : {}), ...(f.epochs ? { spec: { epochs: f.epochs } } : {}),
          }),
        }), ({ r }) => ({ name: r.name, version: r.version }));
        out.result({ runId, name: r.name, version: r.version, dir: r.dir, promoted: r.promoted, card: r.card }, () =>
          `saved ${r.name} v${r.version} to ${r.dir}${r.promoted ? ' (promoted)' : ''}: ${r.card.symbols.length} symbols, ${r.card.features.length} features, backend ${r.card.backend}, trained in ${(r.card.trainingMs / 1000).toFixed(1)} s`);
      } finally {
        store.close();
      }
    });

  program.command('forecast')
    .description('Forecast volatility, its quantiles and the spike probability at the latest stored bar with the promoted model (no retraining).')
    .requiredOption('--symbols <list>', 'symbols, comma-separated (any stored symbol: the model is pooled)', list)
    .option('--horizon <h>', 'forecast horizon', '24h')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--venue <name>', 'venue of the bars')
    .option('--model <name>', 'registry name (default vol-<horizon>)')
    .option('--models-dir <dir>', 'model registry directory', DEFAULT_MODELS_DIR)
    .option('--json', 'print as JSON')
    .action(async (f: { symbols: string[]; horizon: string; db: string; venue?: string; model?: string; modelsDir: string; json?: boolean }) => {
      const out = makeOutput(f);
      const store = openStore(f.db, { readonly: true });
      try {
        const { forecastLatest } = await import('../../forecasting/train.ts');
        const r = await forecastLatest({ md: new MarketData(store), symbols: f.symbols, horizon: f.horizon, modelsDir: f.modelsDir, ...(f.model ? { name: f.model } : {}), ...(f.venue ? { venue: f.venue } : {}) });
        out.result({ horizon: f.horizon, ...r }, () => `${r.model.name} v${r.model.version} (${r.model.backend}, trained to ${r.model.trainedTo})\n` + table(
          ['symbol', 'origin', `vol ${f.horizon}`, 'annualised', 'q90', 'q99', 'spike p'],
          r.forecasts.map((x) => [x.symbol, x.origin, `${(Math.sqrt(x.variance) * 100).toFixed(2)}%`, `${(x.volAnnualised * 100).toFixed(1)}%`, `${((x.volQuantiles['0.9'] ?? NaN) * 100).toFixed(2)}%`, `${((x.volQuantiles['0.99'] ?? NaN) * 100).toFixed(2)}%`, x.spikeProb === null ? '-' : x.spikeProb.toFixed(3)]),
        ));
      } finally {
        store.close();
      }
    });

  program.command('evaluate')
    .description('Walk-forward out-of-sample comparison of the neural model against EWMA, GARCH-t and HAR-RV baselines.')
    .requiredOption('--symbols <list>', 'symbols, comma-separated', list)
    .requiredOption('--test-from <time>', 'first origin (ISO UTC)')
    .requiredOption('--test-to <time>', 'end of origins, exclusive (ISO UTC)')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--venue <name>', 'venue of the bars')
    .option('--interval <iv>', 'bar interval', '1h')
    .option('--horizon <h>', 'forecast horizon', '24h')
    .option('--models <list>', `models to compare (${DEFAULT_MODEL_NAMES.join(', ')}, har-sv)`, list)
    .option('--retrain-every-days <n>', 'refit every N days (expanding window)', positiveInt('--retrain-every-days'), 30)
    .option('--spike-k <k>', 'a spike is forward RV above k × the trailing 30-day median', spikeK, 2)
    .option('--seed <n>', 'seed', positiveInt('--seed'), 42)
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress lines')
    .action(async (f: { symbols: string[]; testFrom: string; testTo: string; db: string; venue?: string; interval: string; horizon: string; models?: string[]; retrainEveryDays: number; spikeK: number; seed: number; json?: boolean; quiet?: boolean }) => {
      const out = makeOutput(f);
      const store = openStore(f.db, { readonly: true });
      try {
        const { evaluateModels } = await import('../../forecasting/evaluate.ts');
        const r = await evaluateModels({
          md: new MarketData(store), symbols: f.symbols, interval: parseInterval(f.interval), horizon: f.horizon,
          testFromMs: parseInstant(f.testFrom, 'test-from'), testToMs: parseInstant(f.testTo, 'test-to'), retrainEveryDays: f.retrainEveryDays, seed: f.seed, spikeK: f.spikeK,
          ...(f.models ? { models: f.models } : {}), ...(f.venue ? { venue: f.venue } : {}),
          onFold: (i) => out.info(`fold ${i.fold + 1}/${i.folds} fitted to ${iso(i.fitEnd)}: ${i.origins} origins`),
        });
        out.result(r, () => [
          `Out of sample ${r.testFrom} → ${r.testTo}, horizon ${r.horizon}, ${r.folds} refits, backend ${r.backend}`,
          table(['model', 'symbol', 'QLIKE', 'MSE log', 'MZ R²', 'n'], r.results.map((x) => [x.model, x.symbol, fmt(x.qlike), fmt(x.mseLog), fmt(x.mzR2, 3), x.n])),
          '',
          table(['spike model', 'symbol', 'AUC', 'Brier', 'skill'], r.spike.map((x) => [x.model, x.symbol, fmt(x.auc, 3), fmt(x.brier), fmt(x.brierSkill, 3)])),
          '',
          `Diebold–Mariano vs HAR-RV (QLIKE, pooled): ${Object.entries(r.dm).map(([k, v]) => `${k} stat ${fmt(v.stat, 2)} p ${fmt(v.p, 4)}`).join('; ')}`,
        ].join('\n'));
      } finally {
        store.close();
      }
    });
}
