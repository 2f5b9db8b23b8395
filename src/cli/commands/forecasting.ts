import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.ts';
import { runLogger } from '../../core/log.ts';
import { iso, parseInstant, parseInterval } from '../../core/time.ts';
import { DEFAULT_MODEL_NAMES } from '../../forecasting/model-names.ts';
import type { MlEpochProgress } from '../../forecasting/ml/model.ts';
import { DEFAULT_DB_PATH, openStore, type Store } from '../../store/db.ts';
import { MarketData } from '../../store/market-data.ts';
import { RunLedger } from '../../store/runs.ts';
import { list, makeOutput, positiveInt, table, nonNegativeInt } from '../output.ts';
import { createProgress, type Progress, type ProgressTask } from '../progress.ts';

/** Opens a store read-only, or says where stores come from when there is none at `path`. */
function openExistingStore(path: string): Store {
  if (path !== ':memory:' && !existsSync(path)) {
    throw new AppError('io', `There is no store at ${path}. Pass --db with the path of your store, or create one first with liqcal import-csv or liqcal ingest (liqcal demo fills data/liqcal.db with simulated data).`, { context: { db: path } });
  }
  return openStore(path, { readonly: true });
}

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

/**
 * An `onEpoch` observer that draws one bar over every member's epochs (members × maximum epochs; early stopping
 * ends a member sooner), and logs a milestone per trained member; `finish` closes the bar and logs the last one.
 */
function epochProgress(progress: Progress) {
  let task: ProgressTask | undefined;
  let last: MlEpochProgress | undefined;
  const memberDone = (): void => {
    if (last) progress.milestone('ensemble member trained', { member: last.member + 1, members: last.members, epochs: last.epoch, bestEpoch: last.bestEpoch, valLoss: last.valLoss });
  };
  return {
    onEpoch(e: MlEpochProgress): void {
      task ??= progress.task('train', e.members * e.epochs);
      if (last && e.member !== last.member) memberDone();
      last = e;
      task.update(e.member * e.epochs + e.epoch, `member ${e.member + 1}/${e.members} · epoch ${e.epoch}/${e.epochs} · val loss ${fmt(e.valLoss)} (best epoch ${e.bestEpoch})`);
    },
    finish(): void {
      memberDone();
      task?.done();
    },
  };
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
    .option('--seed <n>', 'seed', nonNegativeInt('--seed'), 42)
    .option('--epochs <n>', 'maximum epochs', positiveInt('--epochs'))
    .option('--spike-k <k>', 'a spike is forward RV above k × the trailing 30-day median', spikeK, 2)
    .option('--no-promote', 'save without promoting')
    .option('--json', 'print the model card as JSON')
    .option('--quiet', 'no progress bar')
    .addHelpText('after', `
Examples:
  $ liqcal train --db data/liqcal.db --symbols BTCUSDT,ETHUSDT,SOLUSDT --train-to 2025-11-01
  $ liqcal train --symbols BTCUSDT,ETHUSDT --horizon 4h --train-to 2025-10-01 --epochs 20 --no-promote --json
Progress: a bar per epoch on a terminal; with --quiet, --json or without a terminal, LIQCAL_LOG_LEVEL=info
logs one JSON line per trained ensemble member, carrying the run id. Then: liqcal forecast --symbols …`)
    .action(async (f: { symbols: string[]; trainTo: string; db: string; venue?: string; interval: string; horizon: string; model?: string; modelsDir: string; seed: number; epochs?: number; spikeK: number; promote: boolean; json?: boolean; quiet?: boolean }) => {
      const out = makeOutput(f);
      const store = openStore(f.db);
      try {
        const { trainModel } = await import('../../forecasting/train.ts');
        const { runId, r } = await new RunLedger(store).track({ kind: 'train', seed: f.seed, config: f }, async (id) => {
          const progress = createProgress({ ...f, logger: runLogger(id) });
          const epochs = epochProgress(progress);
          try {
            return {
              runId: id,
              r: await trainModel({
                md: new MarketData(store), symbols: f.symbols, interval: parseInterval(f.interval), horizon: f.horizon, trainToMs: parseInstant(f.trainTo, 'train-to'),
                modelsDir: f.modelsDir, seed: f.seed, promote: f.promote, spikeK: f.spikeK, ...(f.model ? { name: f.model } : {}), ...(f.venue ? { venue: f.venue } : {}), ...(f.epochs ? { spec: { epochs: f.epochs } } : {}),
                onEpoch: (e) => epochs.onEpoch(e),
              }).then((trained) => { epochs.finish(); return trained; }),
            };
          } finally {
            progress.stop();
          }
        }, ({ r }) => ({ name: r.name, version: r.version }));
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
    .addHelpText('after', `
Examples:
  $ liqcal forecast --db data/liqcal.db --symbols BTCUSDT,ETHUSDT --horizon 24h
  $ liqcal forecast --symbols DOGEUSDT --horizon 4h --model vol-4h --json
Needs a promoted model for the horizon: train one first with liqcal train --horizon <h>.`)
    .action(async (f: { symbols: string[]; horizon: string; db: string; venue?: string; model?: string; modelsDir: string; json?: boolean }) => {
      const out = makeOutput(f);
      const store = openExistingStore(f.db);
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
    .option('--seed <n>', 'seed', nonNegativeInt('--seed'), 42)
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress lines')
    .addHelpText('after', `
Examples:
  $ liqcal evaluate --symbols BTCUSDT,ETHUSDT,SOLUSDT --test-from 2024-01-01 --test-to 2025-11-01 --horizon 24h --json
  $ liqcal evaluate --symbols BTCUSDT --test-from 2025-06-01 --test-to 2025-07-01 --models ewma,garch,har --retrain-every-days 7
Every model is refitted on the same expanding windows and scored on the same origins; "har" must be among
--models (it is the benchmark of the Diebold–Mariano tests).`)
    .action(async (f: { symbols: string[]; testFrom: string; testTo: string; db: string; venue?: string; interval: string; horizon: string; models?: string[]; retrainEveryDays: number; spikeK: number; seed: number; json?: boolean; quiet?: boolean }) => {
      const out = makeOutput(f);
      const store = openExistingStore(f.db);
      const progress = createProgress(f);
      try {
        const { evaluateModels } = await import('../../forecasting/evaluate.ts');
        let task: ProgressTask | undefined;
        const r = await evaluateModels({
          md: new MarketData(store), symbols: f.symbols, interval: parseInterval(f.interval), horizon: f.horizon,
          testFromMs: parseInstant(f.testFrom, 'test-from'), testToMs: parseInstant(f.testTo, 'test-to'), retrainEveryDays: f.retrainEveryDays, seed: f.seed, spikeK: f.spikeK,
          ...(f.models ? { models: f.models } : {}), ...(f.venue ? { venue: f.venue } : {}),
          onFold: (i) => {
            task ??= progress.task('walk-forward', i.folds);
            task.update(i.fold + 1, `fold ${i.fold + 1}/${i.folds} fitted to ${iso(i.fitEnd).slice(0, 10)}`);
            progress.milestone('fold done', { fold: i.fold + 1, folds: i.folds, fitEnd: iso(i.fitEnd), origins: i.origins });
            if (progress.mode === 'log') out.info(`fold ${i.fold + 1}/${i.folds} fitted to ${iso(i.fitEnd)}: ${i.origins} origins`);
          },
        });
        task?.done();
        progress.stop();
        out.result(r, () => [
          `Out of sample ${r.testFrom} → ${r.testTo}, horizon ${r.horizon}, ${r.folds} refits, backend ${r.backend}`,
          table(['model', 'symbol', 'QLIKE', 'MSE log', 'MZ R²', 'n'], r.results.map((x) => [x.model, x.symbol, fmt(x.qlike), fmt(x.mseLog), fmt(x.mzR2, 3), x.n])),
          '',
          table(['spike model', 'symbol', 'AUC', 'Brier', 'skill'], r.spike.map((x) => [x.model, x.symbol, fmt(x.auc, 3), fmt(x.brier), fmt(x.brierSkill, 3)])),
          '',
          `Diebold–Mariano vs HAR-RV (QLIKE, pooled): ${Object.entries(r.dm).map(([k, v]) => `${k} stat ${fmt(v.stat, 2)} p ${fmt(v.p, 4)}`).join('; ')}`,
        ].join('\n'));
      } finally {
        progress.stop();
        store.close();
      }
    });
}
