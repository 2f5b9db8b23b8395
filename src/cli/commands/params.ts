import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.ts';
import { iso } from '../../core/time.ts';
import { proposalFileJsonSchema, updateRecordJsonSchema } from '../../params/json-schema.ts';
import { parseRailsConfig, type RailsConfig } from '../../params/rails.ts';
import { parseDrafts, UPDATE_TYPES, type UpdateRecord, type UpdateType } from '../../params/record.ts';
import { openSqliteBackend } from '../../params/sqlite-backend.ts';
import { ParameterStore } from '../../params/store.ts';
import { DEFAULT_DB_PATH } from '../../store/db.ts';
import { list, makeOutput, positiveInt, table } from '../output.ts';

interface Common { db: string; rails?: string; json?: boolean }

function readJson(path: string, what: string): unknown {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new AppError('io', `Cannot read the ${what} ${path}: ${(e as Error).message}. Check the path.`, { context: { path }, cause: e });
  }
  try { return JSON.parse(text) as unknown; } catch (e) {
    throw new AppError('config', `The ${what} ${path} is not valid JSON: ${(e as Error).message}.`, { context: { path }, cause: e });
  }
}

function loadRails(path: string | undefined): RailsConfig {
  return path === undefined ? parseRailsConfig({}) : parseRailsConfig(readJson(path, 'rails config'), `rails config ${path}`);
}

/** Opens the store, runs `fn`, and always closes it. */
async function withStore<T>(flags: Common, fn: (s: ParameterStore) => Promise<T>, readonly = false): Promise<T> {
  const store = new ParameterStore(openSqliteBackend(flags.db, { readonly }), { rails: loadRails(flags.rails) });
  try { return await fn(store); } finally { await store.backend.close(); }
}

function updateId(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new AppError('config', `The update id must be a positive integer, not "${value}".`, { context: { id: value } });
  return n;
}

function updateType(value: string): UpdateType {
  if (!(UPDATE_TYPES as readonly string[]).includes(value)) throw new AppError('config', `--type "${value}" is not an update type; use one of ${UPDATE_TYPES.join(', ')}.`, { context: { type: value } });
  return value as UpdateType;
}

const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v));

function recordsTable(rs: readonly UpdateRecord[]): string {
  if (rs.length === 0) return 'No updates.';
  return table(['id', 'market', 'type', 'value', 'previous', 'state', 'version', 'time', 'rule'],
    rs.map((r) => [r.updateId, r.market, r.updateType, show(r.newValue), show(r.previousValue), r.state, r.version ?? '-', iso(r.stateChangedAt), r.rejection?.rule ?? '-']));
}

function common(cmd: Command, rails = true): Command {
  cmd.option('--db <path>', 'store file', DEFAULT_DB_PATH).option('--json', 'print as JSON');
  if (rails) cmd.option('--rails <file>', 'guard-rails config (JSON; fields missing from it keep their safe defaults)');
  return cmd;
}

/** `liqcal params …`: propose, approve, publish and read parameter updates in the store, with guard rails and an audit trail. */
export function registerParams(program: Command): void {
  const params = program.command('params').description('The parameter store: propose → approve → publish bounded parameter updates; read them back.');

  common(params.command('propose').description('Store proposals from a JSON array of {market, updateType, newValue, referenceId?}; refused ones are stored as rejected with the rule.'))
    .requiredOption('--file <file>', 'JSON array of proposals')
    .option('--by <name>', 'who proposes', 'cli')
    .action(async (flags: Common & { file: string; by: string }) => {
      const drafts = parseDrafts(readJson(flags.file, 'proposal file'), `proposal file ${flags.file}`);
      const records = await withStore(flags, (s) => s.propose(drafts, { by: flags.by }));
      makeOutput(flags).result(records, () => recordsTable(records));
    });

  common(params.command('approve').description('Approve a proposal by id; records who and when. The rails are checked again.'))
    .argument('<id>', 'update id', updateId)
    .requiredOption('--by <name>', 'who approves')
    .action(async (id: number, flags: Common & { by: string }) => {
      const r = await withStore(flags, (s) => s.approve(id, flags.by));
      makeOutput(flags).result(r, () => `approved update ${r.updateId} (${r.market} ${r.updateType} → ${show(r.newValue)}) by ${r.approvedBy} at ${iso(r.approvedAt!)}`);
    });

  common(params.command('publish').description('Publish an approved update atomically: rails, expiry, pause and version are checked at publish time.'))
    .argument('<id>', 'update id', updateId)
    .action(async (id: number, flags: Common) => {
      const r = await withStore(flags, (s) => s.publish(id));
      makeOutput(flags).result(r, () => `published update ${r.updateId}: ${r.market} ${r.updateType} = ${show(r.newValue)} (version ${r.version})`);
    });

  common(params.command('latest').description('The published update of a market and type, with `expired` and `usable` flags.'), false)
    .requiredOption('--market <m>', 'market')
    .requiredOption('--type <t>', `update type (${UPDATE_TYPES.join(', ')})`, updateType)
    .action(async (flags: Common & { market: string; type: UpdateType }) => {
      const l = await withStore(flags, (s) => s.latest(flags.market, flags.type), true);
      if (!l) throw new AppError('badRequest', `Nothing has been published for ${flags.market} ${flags.type} in ${flags.db}; check the market and type, or publish one first.`, { context: { market: flags.market, type: flags.type } });
      makeOutput(flags).result({ ...l.record, expired: l.expired, usable: l.usable }, () => `${recordsTable([l.record])}\n${l.usable ? 'usable' : l.expired ? 'EXPIRED: do not apply' : `not usable (${l.record.state})`}`);
    });

  common(params.command('history').description('Every update, oldest first (an array of records), filtered by market, type and id.'), false)
    .option('--market <m>', 'market')
    .option('--type <t>', 'update type', updateType)
    .option('--from-id <n>', 'only ids ≥ n', positiveInt('--from-id'))
    .option('--limit <n>', 'at most n', positiveInt('--limit'), 1000)
    .action(async (flags: Common & { market?: string; type?: UpdateType; fromId?: number; limit: number }) => {
      const rs = await withStore(flags, (s) => s.history({
        ...(flags.market === undefined ? {} : { market: flags.market }), ...(flags.type === undefined ? {} : { updateType: flags.type }),
        ...(flags.fromId === undefined ? {} : { fromId: flags.fromId }), limit: flags.limit,
      }), true);
      makeOutput(flags).result(rs, () => recordsTable(rs));
    });

  common(params.command('watch').description('Stream newly published updates (NDJSON with --json) until SIGINT or SIGTERM.'), false)
    .option('--after-seq <n>', 'start after this publish sequence (default: only new publications)', positiveInt('--after-seq'))
    .option('--poll-ms <ms>', 'poll interval', positiveInt('--poll-ms'), 250)
    .action(async (flags: Common & { afterSeq?: number; pollMs: number }) => {
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await withStore(flags, async (s) => {
          if (!flags.json) process.stderr.write(`watching ${flags.db} for published updates (Ctrl-C to stop)\n`);
          for await (const r of s.watch({ pollMs: flags.pollMs, signal: ac.signal, ...(flags.afterSeq === undefined ? {} : { afterSeq: flags.afterSeq }) })) {
            process.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : `${recordsTable([r])}\n`);
          }
        }, true);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });

  for (const [name, what] of [['pause', 'Global kill switch: stop all publication'], ['resume', 'Lift the global kill switch']] as const) {
    common(params.command(name).description(`${what}; recorded with who and when.`), false)
      .option('--by <name>', 'who', 'cli')
      .option('--note <text>', 'why')
      .action(async (flags: Common & { by: string; note?: string }) => {
        const st = await withStore(flags, (s) => (name === 'pause' ? s.pause(flags.by, flags.note) : s.resume(flags.by, flags.note)));
        makeOutput(flags).result(st, () => `parameter store ${st.paused ? 'PAUSED' : 'resumed'} by ${st.changedBy}`);
      });
  }

  common(params.command('disable').description('Disable one update so it is never published or applied.'), false)
    .argument('<id>', 'update id', updateId)
    .option('--by <name>', 'who', 'cli')
    .action(async (id: number, flags: Common & { by: string }) => {
      const r = await withStore(flags, (s) => s.disable(id, flags.by));
      makeOutput(flags).result(r, () => `disabled update ${r.updateId} (${r.market} ${r.updateType})`);
    });

  common(params.command('expire').description('Mark every update past its expiry as expired.'), false)
    .action(async (flags: Common) => {
      const rs = await withStore(flags, (s) => s.expireDue());
      makeOutput(flags).result(rs, () => `${rs.length} update(s) expired`);
    });

  common(params.command('allow').description('Set the store\'s market allowlist (or --any to remove it).'), false)
    .option('--markets <list>', 'comma-separated markets', list)
    .option('--any', 'remove the allowlist')
    .option('--by <name>', 'who', 'cli')
    .action(async (flags: Common & { markets?: string[]; any?: boolean; by: string }) => {
      if ((flags.markets === undefined) === (flags.any === undefined)) throw new AppError('config', 'Give exactly one of --markets a,b or --any.');
      const st = await withStore(flags, (s) => s.setAllowedMarkets(flags.any ? null : flags.markets!, flags.by));
      makeOutput(flags).result(st, () => `allowed markets: ${st.allowedMarkets?.join(', ') ?? 'any'}`);
    });

  params.command('schema').description('Print the JSON Schema of the update record (or of the proposal file with --proposal).')
    .option('--proposal', 'the schema of the propose --file array instead')
    .option('--json', 'accepted like on every command (the schema is JSON either way)')
    .action((flags: { proposal?: boolean; json?: boolean }) => {
      process.stdout.write(`${JSON.stringify(flags.proposal ? proposalFileJsonSchema() : updateRecordJsonSchema(), null, 2)}\n`);
    });
}
