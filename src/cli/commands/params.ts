import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError, EXIT_CODES } from '../../core/errors.ts';
import { iso } from '../../core/time.ts';
import type { StoredRails } from '../../params/backend.ts';
import { proposalFileJsonSchema, updateRecordJsonSchema } from '../../params/json-schema.ts';
import { diffRails, parseRailsConfig, parseRailsOverride, RailsConfigSchema, DEFAULT_RAILS, type RailsConfig, type RailsFieldChange } from '../../params/rails.ts';
import { parseDrafts, UPDATE_TYPES, type UpdateRecord, type UpdateType } from '../../params/record.ts';
import { openSqliteBackend } from '../../params/sqlite-backend.ts';
import { ParameterStore, type LatestResult, type ParameterStoreOptions } from '../../params/store.ts';
import { DEFAULT_DB_PATH } from '../../store/db.ts';
import { list, makeOutput, nonNegativeInt, positiveId, positiveInt, table } from '../output.ts';

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

/** The per-command `--rails` file as a tighten-only override of the store's rails (checked, not merged), or none. */
function railsOptions(path: string | undefined): Pick<ParameterStoreOptions, 'rails' | 'railsSource'> {
  if (path === undefined) return {};
  const where = `rails config ${path}`;
  return { rails: parseRailsOverride(readJson(path, 'rails config'), where), railsSource: where };
}

/** Opens the store, runs `fn`, and always closes it. */
async function withStore<T>(flags: Common, fn: (s: ParameterStore) => Promise<T>, readonly = false): Promise<T> {
  const opts = railsOptions(flags.rails);
  const store = new ParameterStore(openSqliteBackend(flags.db, { readonly }), opts);
  try { return await fn(store); } finally { await store.backend.close(); }
}

/** Parses the `<id>` argument of approve, publish and disable: a positive decimal integer, else exit code 2. */
const updateId = positiveId('The update id');

/** Why a `latest` result may not be applied (null when it is usable). */
function unusableReason(l: LatestResult): string | null {
  if (l.usable) return null;
  const r = l.record;
  const why = [
    ...(r.state !== 'published' ? [`it is ${r.state}`] : []),
    ...(l.expired ? [`it expired (expiresAt ${iso(r.expiresAt)}, or its lifetime exceeds the rails' maxTtlMs)`] : []),
    ...(l.paused ? ['the store is paused (liqcal params resume lifts it)'] : []),
  ];
  return `The published value of ${r.market} ${r.updateType} (update ${r.updateId}) is not usable: ${why.join('; ')}. Do not apply it.`;
}

/** A rails version for output: who, when, why, the rails, and what changed from the version before (or the defaults). */
function railsVersionView(v: StoredRails, before: RailsConfig) {
  return { version: v.version, atMs: v.atMs, setBy: v.actor, reason: v.reason, rails: v.rails, changes: diffRails(before, v.rails) };
}

function changesText(changes: readonly RailsFieldChange[]): string {
  if (changes.length === 0) return '  (no field changed)';
  return changes.map((c) => `  ${c.field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}${c.loosens ? `  LOOSENS (${c.why})` : ''}`).join('\n');
}

function railsText(r: RailsConfig): string {
  const head = `markets: ${r.markets?.join(', ') ?? 'any'}; default lifetime ttlMs: ${r.ttlMs} ms`;
  const width = Math.max(...UPDATE_TYPES.map((t) => t.length));
  const rows = UPDATE_TYPES.map((t) => `${t.padEnd(width)}  ${Object.entries(r.types[t]).map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? `${(v as { mode: string }).mode}:${(v as { limit: number }).limit}` : String(v)}`).join(' ')}`);
  return [head, ...rows].join('\n');
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
  if (rails) cmd.option('--rails <file>', 'tighten-only override of the store\'s rails for this command (JSON, any subset); refused with exit code 10, naming the field, if it loosens any');
  return cmd;
}

/** `liqcal params …`: propose, approve, publish and read parameter updates in the store, with guard rails and an audit trail. */
export function registerParams(program: Command): void {
  const params = program.command('params').description('The parameter store: propose → approve → publish bounded parameter updates; read them back.');

  common(params.command('propose').description('Store proposals from a JSON array of {market, updateType, newValue, referenceId?, expiresAt?}; refused ones are stored as rejected with the rule. Exit code 10 if any proposal was refused (the output still lists all).'))
    .requiredOption('--file <file>', 'JSON array of proposals')
    .option('--by <name>', 'who proposes', 'cli')
    .action(async (flags: Common & { file: string; by: string }) => {
      const drafts = parseDrafts(readJson(flags.file, 'proposal file'), `proposal file ${flags.file}`);
      const records = await withStore(flags, (s) => s.propose(drafts, { by: flags.by }));
      makeOutput(flags).result(records, () => recordsTable(records));
      // The output lists every proposal; the exit code tells a script whether any was refused.
      const refused = records.filter((r) => r.state === 'rejected' || r.state === 'expired');
      if (refused.length > 0) {
        const rules = [...new Set(refused.map((r) => r.rejection?.rule ?? r.state))].join(', ');
        process.stderr.write(`liqcal: ${refused.length} of ${records.length} proposal(s) were refused by the guard rails (${rules}: update ${refused.map((r) => r.updateId).join(', ')}) and are stored as rejected with the rule; ${records.length - refused.length} stored as proposed. Exit code ${EXIT_CODES.guardRail}.\n`);
        process.exitCode = EXIT_CODES.guardRail;
      }
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

  common(params.command('latest').description('The published update of a market and type, with `expired`, `paused` and `usable` flags. Exit code 11 when there is no usable value (nothing published, or the head is expired, disabled or the store paused).'), false)
    .requiredOption('--market <m>', 'market')
    .requiredOption('--type <t>', `update type (${UPDATE_TYPES.join(', ')})`, updateType)
    .action(async (flags: Common & { market: string; type: UpdateType }) => {
      const l = await withStore(flags, (s) => s.latest(flags.market, flags.type), true);
      if (!l) throw new AppError('unusable', `Nothing has been published for ${flags.market} ${flags.type} in ${flags.db}, so there is no value to apply; check the market and type, or publish one first.`, { context: { market: flags.market, type: flags.type } });
      const why = unusableReason(l);
      makeOutput(flags).result({ ...l.record, expired: l.expired, paused: l.paused, usable: l.usable }, () => `${recordsTable([l.record])}\n${l.usable ? 'usable' : l.expired ? 'EXPIRED: do not apply' : `NOT USABLE (${l.paused ? 'store paused' : l.record.state}): do not apply`}`);
      // The record is printed either way (with expired, paused and usable); the exit code tells a script not to apply it.
      if (why) {
        process.stderr.write(`liqcal: ${why}\n`);
        process.exitCode = EXIT_CODES.unusable;
      }
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
    .option('--after-seq <n>', 'start after this publish sequence, 0 for the first (default: only new publications)', nonNegativeInt('--after-seq'))
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

  registerRails(params);

  params.command('schema').description('Print the JSON Schema of the update record (or of the proposal file with --proposal).')
    .option('--proposal', 'the schema of the propose --file array instead')
    .option('--json', 'accepted like on every command (the schema is JSON either way)')
    .action((flags: { proposal?: boolean; json?: boolean }) => {
      process.stdout.write(`${JSON.stringify(flags.proposal ? proposalFileJsonSchema() : updateRecordJsonSchema(), null, 2)}\n`);
    });
}

/** `liqcal params rails …`: the store's guard rails, versioned and audited. */
function registerRails(params: Command): void {
  const rails = params.command('rails').description('The store\'s guard rails: versioned, changed only by `rails set` (who and why recorded); every proposer, approver and publisher is held to them.');

  common(rails.command('set').description('Set the store\'s rails from a file (any subset; missing fields take the safe defaults, not the current values) as the next version, recorded with who and why. The only way to loosen them.'), false)
    .requiredOption('--file <file>', 'rails JSON (see `liqcal params rails show --json` for every field)')
    .requiredOption('--by <name>', 'who changes the rails')
    .requiredOption('--reason <text>', 'why (kept in the rails history)')
    .action(async (flags: Common & { file: string; by: string; reason: string }) => {
      const next = parseRailsConfig(readJson(flags.file, 'rails file'), `rails file ${flags.file}`);
      const { stored, changes } = await withStore(flags, (s) => s.setRails(next, flags.by, flags.reason));
      makeOutput(flags).result({ version: stored.version, atMs: stored.atMs, setBy: stored.actor, reason: stored.reason, rails: stored.rails, changes },
        () => `rails version ${stored.version} set by ${stored.actor} at ${iso(stored.atMs)}: ${stored.reason}\n${changesText(changes)}`);
    });

  common(rails.command('show').description('The rails in force: version, who set them, when and why, and every field (the defaults when none were set).'), false)
    .action(async (flags: Common) => {
      const cur = await withStore(flags, (s) => s.storedRails(), true);
      const effective = cur?.rails ?? RailsConfigSchema.parse(DEFAULT_RAILS);
      const view = { version: cur?.version ?? null, source: cur ? 'store' : 'defaults', atMs: cur?.atMs ?? null, setBy: cur?.actor ?? null, reason: cur?.reason ?? null, rails: effective };
      makeOutput(flags).result(view, () => `${cur ? `rails version ${cur.version}, set by ${cur.actor} at ${iso(cur.atMs)}: ${cur.reason}` : 'no rails set in this store: the defaults (DEFAULT_RAILS) apply'}\n${railsText(effective)}`);
    });

  common(rails.command('history').description('Every version of the store\'s rails, oldest first, with who, when, why and what changed.'), false)
    .action(async (flags: Common) => {
      const versions = await withStore(flags, (s) => s.railsHistory(), true);
      const out = versions.map((v, i) => railsVersionView(v, i === 0 ? RailsConfigSchema.parse(DEFAULT_RAILS) : versions[i - 1]!.rails));
      makeOutput(flags).result(out, () => (out.length === 0 ? 'No rails were ever set in this store: the defaults apply.' : table(['version', 'time', 'by', 'reason', 'changed'],
        out.map((v) => [v.version, iso(v.atMs), v.setBy, v.reason, v.changes.map((c) => `${c.field}${c.loosens ? ' (looser)' : ''}`).join(', ') || '-']))));
    });
}
