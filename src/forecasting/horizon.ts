import { AppError } from '../core/errors.ts';
import { intervalMs, type Interval } from '../core/time.ts';

/** Parses a horizon such as `1h`, `4h`, `24h` or `1d` into bars of `interval`; it must be a whole number of bars. */
export function horizonBars(horizon: string, interval: Interval): number {
  const m = /^(\d+)(m|h|d)$/.exec(horizon.trim());
  if (!m) throw new AppError('config', `Cannot read horizon "${horizon}": use a duration such as 1h, 4h, 24h or 1d.`, { context: { horizon } });
  const ms = Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 86_400_000);
  const step = intervalMs(interval);
  if (ms <= 0 || ms % step !== 0) throw new AppError('config', `Horizon ${horizon} is not a whole number of ${interval} bars.`, { context: { horizon, interval } });
  return ms / step;
}
