import { spawn, spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgress, progressMode, type ProgressStream } from '../../src/cli/progress.ts';
import { createLogger, runLogger } from '../../src/core/log.ts';
import { createSimulatorProvider } from '../../src/ingest/simulator/provider.ts';
import { startVenueServer } from '../../src/ingest/replay/wire-server.ts';
import { fixedClock } from '../../src/core/time.ts';
import { BIN, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

/** A writable that records what is written; `isTTY` as a terminal's stderr would have it. */
function stream(isTTY: boolean): ProgressStream & { text(): string } {
  let out = '';
  const w = new Writable({ write(chunk: Buffer | string, _enc, cb) { out += chunk.toString(); cb(); } });
  return Object.assign(w, { isTTY, columns: 120, text: () => out });
}

function logLines(): { write(s: string): void; lines(): Record<string, unknown>[] } {
  let buf = '';
  return { write(s: string) { buf += s; }, lines: () => buf.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Runs a typical command's progress calls. */
function exercise(p: ReturnType<typeof createProgress>): void {
  const task = p.task('ingest', 10);
  task.update(5, '5/10 series · 1,234 rows');
  p.note('  BTCUSDT bars: 1234 rows');
  p.milestone('series stored', { symbol: 'BTCUSDT', rows: 1234 });
  task.done({ rows: 1234 });
  p.stop();
  p.stop();
}

describe('progress', () => {
  it('draws bars only for a terminal, and never with --quiet or --json', () => {
    expect(progressMode({ stream: stream(true) })).toBe('bars');
    expect(progressMode({ stream: stream(false) })).toBe('log');
    expect(progressMode({ stream: stream(true), quiet: true })).toBe('log');
    expect(progressMode({ stream: stream(true), json: true })).toBe('log');
  });

  it('writes nothing to a stream that is not a TTY, and logs each milestone once with the run id', () => {
    const s = stream(false);
    const dest = logLines();
    const p = createProgress({ stream: s, logger: runLogger('run-7', createLogger({ level: 'info', destination: dest })) });
    exercise(p);
    expect(s.text()).toBe('');
    expect(dest.lines()).toEqual([
      expect.objectContaining({ runId: 'run-7', msg: 'series stored', symbol: 'BTCUSDT', rows: 1234 }),
      expect.objectContaining({ runId: 'run-7', msg: 'ingest done', task: 'ingest', total: 10, rows: 1234 }),
    ]);
  });

  it('draws a bar with its detail and the notes above it on a TTY, ending at 100 %', () => {
    const s = stream(true);
    const dest = logLines();
    exercise(createProgress({ stream: s, logger: createLogger({ level: 'info', destination: dest }) }));
    const text = s.text();
    expect(text).toContain('\u001b[');
    expect(text).toContain('  BTCUSDT bars: 1234 rows\n');
    expect(text).toMatch(/ingest \[=+\] 100% \| 5\/10 series · 1,234 rows/);
    expect(text.indexOf('BTCUSDT bars')).toBeLessThan(text.lastIndexOf('ingest ['));
    // At a terminal the bar is the progress report: milestones go to debug, not into the bars.
    expect(dest.lines()).toEqual([]);
  });

  it('shows intermediate progress on a TTY', () => {
    const s = stream(true);
    const p = createProgress({ stream: s });
    p.task('train', 4).update(1, 'epoch 1/4');
    p.stop();
    expect(s.text()).toMatch(/train \[=+-+\]\s+25% \| epoch 1\/4/);
  });
});

describe('progress in the CLI (stderr is a pipe here, not a TTY)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const csv = new URL('../../../shared/data/market/binance-spot__finom-static-klines/BTCUSDT/1h/', import.meta.url).pathname;

  it('import-csv draws no bar; with LIQCAL_LOG_LEVEL=info every milestone is a JSON line with the run id', async () => {
    const r = await runCli(['import-csv', '--db', tmp.path('a.db'), '--venue', 'binance-spot', '--symbol', 'BTCUSDT', '--json', `${csv}BTCUSDT-1h-2024.csv`, `${csv}BTCUSDT-1h-2025.csv`], { env: { LIQCAL_LOG_LEVEL: 'info' } });
    expect(r.code).toBe(0);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    expect(r.stderr).not.toContain('\u001b[');
    const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'file imported').map((l) => [l.runId, basename(l.file as string), l.rows])).toEqual([
      [runId, 'BTCUSDT-1h-2024.csv', 8784],
      [runId, 'BTCUSDT-1h-2025.csv', 7296],
    ]);
    expect(lines.find((l) => l.msg === 'import BTCUSDT done')).toMatchObject({ runId, rows: 16080, files: 2 });
  });

  it('import-csv with the default log level prints only its result', async () => {
    const r = await runCli(['import-csv', '--db', tmp.path('b.db'), '--venue', 'binance-spot', '--symbol', 'BTCUSDT', `${csv}BTCUSDT-1h-2025.csv`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('7296 rows');
  });
});

describe('progress in the CLI on a real terminal (a pseudo-terminal from util-linux script)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const hasScript = spawnSync('script', ['--version']).status === 0;

  it.skipIf(!hasScript)('ingest draws one bar over all series, with the per-series lines above it', async () => {
    const provider = createSimulatorProvider({ seed: 3, symbols: ['BTCUSDT', 'ETHUSDT'], clock: fixedClock(Date.parse('2025-01-01')) });
    const server = await startVenueServer({ provider, host: '127.0.0.1', port: 0 });
    try {
      const cmd = [process.execPath, BIN, 'ingest', '--venue', 'binance-usdm', '--base-url', server.url, '--symbols', 'BTCUSDT,ETHUSDT', '--kinds', 'bars,funding', '--from', '2024-06-01', '--to', '2024-09-01', '--store-venue', 'sim', '--db', tmp.path('tty.db')];
      // script runs the command on a pty (stdout and stderr are a terminal) and copies what it draws to our pipe.
      const p = spawn('script', ['-qec', cmd.map((a) => `'${a}'`).join(' '), '/dev/null'], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let screen = '';
      p.stdout.on('data', (d: Buffer) => { screen += d.toString(); });
      const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
      expect(code).toBe(0);
      expect(screen).toContain('\u001b[');
      expect(screen).toMatch(/ingest \[=+\] 100% \| 4\/4 series · [\d,]+ rows/);
      for (const line of ['BTCUSDT bars: 2208 rows', 'ETHUSDT bars: 2208 rows']) expect(screen).toContain(line);
    } finally {
      await server.close();
    }
  });
});
