import type { Bar } from '../../types.ts';
import type { RawCandle } from './schemas.ts';

/**
 * Maps a Coinbase candle `[timeSec, low, high, open, close, volume]` to a normalised bar: the time
 * is converted from seconds to ms, and the low/high/open/close columns are reordered. Coinbase
 * reports neither quote volume nor trade counts, so those stay undefined.
 */
export function mapCandle(c: RawCandle): Bar {
  const [timeSec, low, high, open, close, volume] = c;
  return { openTimeMs: timeSec * 1000, open, high, low, close, volume };
}
