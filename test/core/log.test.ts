import { describe, expect, it } from 'vitest';
import { createLogger, log, runLogger } from '../../src/core/log.ts';

/** A pino destination that keeps every JSON line. */
function capture(): { write(s: string): void; lines(): Record<string, unknown>[] } {
  let buf = '';
  return { write(s: string) { buf += s; }, lines: () => buf.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('run-id logs', () => {
  it('binds the run id to every line of the run logger and of its children', () => {
    const dest = capture();
    const logger = createLogger({ level: 'info', destination: dest });
    const run = runLogger('20250101T000000-ab12cd34', logger);
    run.info({ rows: 42 }, 'series stored');
    run.child({ stage: 'train' }).warn('epoch slow');
    logger.info('outside the run');
    const [a, b, c] = dest.lines();
    expect(a).toMatchObject({ name: 'liqcal', runId: '20250101T000000-ab12cd34', rows: 42, msg: 'series stored', level: 30 });
    expect(b).toMatchObject({ runId: '20250101T000000-ab12cd34', stage: 'train', msg: 'epoch slow', level: 40 });
    expect(c).not.toHaveProperty('runId');
  });

  it('keeps the level of its parent: lines below it are not written', () => {
    const dest = capture();
    const run = runLogger('r1', createLogger({ level: 'warn', destination: dest }));
    run.info('hidden');
    run.debug('hidden too');
    run.error('shown');
    expect(dest.lines().map((l) => l.msg)).toEqual(['shown']);
  });

  it('binds to the process logger by default', () => {
    expect(runLogger('r2').bindings()).toMatchObject({ runId: 'r2' });
    expect(runLogger('r2').level).toBe(log.level);
  });
});

describe('secret redaction in logs', () => {
  it('masks secret-like fields at any depth, child bindings, URL passwords and key=value secrets in messages and errors', () => {
    const dest = capture();
    const logger = createLogger({ level: 'info', destination: dest });
    const child = logger.child({ component: 'pg', password: 'hunter2-binding' });
    child.info({ url: 'postgres://u:hunter2-url@127.0.0.1/db', cfg: { headers: [{ Authorization: 'Bearer hunter2-header-0123' }] }, tokenFile: '/etc/liqcal/token' }, 'connecting with PGPASSWORD=hunter2-msg');
    logger.error({ err: new Error('refused: {"apiKey":"hunter2-err"}') }, 'failed');
    logger.info('nothing secret here');
    const raw = JSON.stringify(dest.lines());
    expect(raw).not.toContain('hunter2');
    const [a, b, c] = dest.lines();
    expect(a).toMatchObject({ component: 'pg', password: '[REDACTED]', url: 'postgres://u:[REDACTED]@127.0.0.1/db', cfg: { headers: [{ Authorization: '[REDACTED]' }] }, tokenFile: '/etc/liqcal/token', msg: 'connecting with PGPASSWORD=[REDACTED]' });
    expect((b!.err as { message: string }).message).toBe('refused: {"apiKey":"[REDACTED]"}');
    expect(c).toMatchObject({ msg: 'nothing secret here', level: 30 });
  });
});
