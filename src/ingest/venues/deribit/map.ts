import type { Bar, FundingRow, ImpliedVolRow } from '../../types.ts';
import type { ChartData, RawFundingEntry, RawVolatilityCandle } from './schemas.ts';

/**
 * Maps a chart-data result (parallel arrays, already checked to be of equal length) to bars:
 * `ticks[i]` is the bar's open time, `volume` its base volume and `cost` its quote (USD) volume.
 * Deribit reports neither trade counts nor taker volume, so those stay undefined.
 */
export function mapChartData(r: ChartData): Bar[] {
  const bars: Bar[] = [];
  for (let i = 0; i < r.ticks.length; i++) {
    bars.push({
      openTimeMs: r.ticks[i]!,
      open: r.open[i]!,
      high: r.high[i]!,
      low: r.low[i]!,
      close: r.close[i]!,
      volume: r.volume[i]!,
      quoteVolume: r.cost[i]!,
    });
  }
  return bars;
}

/** Maps a DVOL candle `[timeMs, open, high, low, close]` (volatility points) to an implied-vol row opening at `timeMs`. */
export function mapVolatilityCandle(c: RawVolatilityCandle): ImpliedVolRow {
  return { timeMs: c[0], open: c[1], high: c[2], low: c[3], close: c[4] };
}

/**
 * Maps an hourly funding entry. `rate` is `interest_1h`: the funding accrued over the hour ending at
 * `timestamp`, as a fraction of position value. Deribit funds perpetuals continuously, so the hour is
 * the natural funding interval of this series; `interest_8h` is a trailing 8-hour sum of the same
 * quantity and would double-count if stored per hour. `markPrice` is the index price at `timestamp`.
 */
export function mapFunding(f: RawFundingEntry): FundingRow {
  return { fundingTimeMs: f.timestamp, rate: f.interest_1h, markPrice: f.index_price };
}
