/**
 * `ParameterStore`: the library API of the parameter store over any {@link ParamBackend}. It owns the policy:
 * guard rails at proposal, approval and publication; manual and automatic approval; atomic publication with a
 * compare-and-set on the (market, type) version; expiry, pause and per-update disable; and the watch feed.
 * The guard rails belong to the store: versioned and audited ({@link ParameterStore.setRails}), read inside every
 * atomic section; a caller's own rails may only tighten them. Times come from the injected clock (epoch ms).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/time.ts';
import type { HistoryQuery, ParamBackend, ParamReader, ParamTx, StoredRails, StoreSettings } from './backend.ts';
import {
  autoApproveBlock, checkInvariants, checkRails, defaultLifetimeMs, DEFAULT_RAILS, diffRails, RailsConfigSchema, tightenRails,
  type MarketView, type RailsConfig, type RailsFieldChange, type RailsOverride,
} from './rails.ts';
import { canonicalJson, isExpired, type ParamValue, type ProposalDraft, type Rejection, type UpdateRecord, type UpdateState, type UpdateType } from './record.ts';

/** Options of a {@link ParameterStore}. */
export interface ParameterStoreOptions {
  /** The time source (default: the system clock). */
  readonly clock?: Clock;
  /**
   * This caller's rails over the store's (any subset, or a full config): **tighten-only**. Every operation merges it
   * over the store's current rails and throws a `guardRail` AppError naming each field that would loosen them
   * (smaller minDelayMs, larger maxChange, wider bounds, allowZero or autoApprove true where the store says false,
   * larger maxTtlMs…). Default: none, so the store's rails apply ({@link DEFAULT_RAILS} while none were set).
   */
  readonly rails?: RailsOverride;
  /** Names {@link rails} in errors, e.g. "rails config ops/tight.json" (default "rails override"). */
  readonly railsSource?: string;
}

/** The rails an operation runs under: the store's, tightened by the caller's override if any. */
export interface EffectiveRails {
  readonly rails: RailsConfig;
  /** The store's current rails version, or null when none was ever set (the defaults apply). */
  readonly stored: StoredRails | null;
  /** True when the caller's override was applied over the store's rails. */
  readonly overridden: boolean;
}

/** Result of {@link ParameterStore.setRails}: the new version and what changed from the previous rails. */
export interface SetRailsResult {
  readonly stored: StoredRails;
  /** Fields that differ from the rails in force before (the previous version, or the defaults), with `loosens`. */
  readonly changes: RailsFieldChange[];
}

/** The published head of a (market, type) and whether an updater may still apply it at the store's clock. */
export interface LatestResult {
  readonly record: UpdateRecord;
  /**
   * True when the record was marked expired, or now ≥ its expiresAt, or now ≥ its timestamp + the maxTtlMs of its
   * type in the store's current rails (so a lifetime beyond the rails never counts): updaters must not apply it.
   */
  readonly expired: boolean;
  /** True while the store is paused (the global kill switch): nothing may be applied. */
  readonly paused: boolean;
  /** True only when the record is in state `published`, not expired, and the store is not paused. */
  readonly usable: boolean;
}

/** Result of publishing one record in a batch. */
export type PublishOutcome =
  | { readonly updateId: number; readonly ok: true; readonly record: UpdateRecord; readonly alreadyPublished: boolean }
  | { readonly updateId: number; readonly ok: false; readonly error: AppError };

/** Result of {@link ParameterStore.autoApprove}. */
export interface AutoApproveResult {
  readonly approved: UpdateRecord[];
  /** Proposals that need a person, with the reason. */
  readonly waiting: { readonly updateId: number; readonly reason: string }[];
  /** Proposals refused by the rails re-checked now (stored as rejected or expired). */
  readonly refused: UpdateRecord[];
}

/** Options of {@link ParameterStore.watch}. */
export interface WatchOptions {
  /** Start after this publish sequence (default: the current maximum, i.e. only new publications). */
  readonly afterSeq?: number;
  /** Poll interval in ms (default 250). */
  readonly pollMs?: number;
  /** Stops the iteration. */
  readonly signal?: AbortSignal;
}

/** The rails of a store where none were set: {@link DEFAULT_RAILS}, checked. */
function defaultRails(): RailsConfig {
  return RailsConfigSchema.parse(DEFAULT_RAILS);
}

/** Rail rules whose refusal is transient at publish time: the record stays approved and may publish later. */
const TRANSIENT_RULES = new Set(['pause', 'minDelay']);

/** The default idempotency key of a draft: a hash of market, type, value and referenceId (same draft of the same run → same record). */
export function draftKey(d: ProposalDraft): string {
  return createHash('sha256').update(canonicalJson({ market: d.market, updateType: d.updateType, newValue: d.newValue, referenceId: d.referenceId ?? null })).digest('hex').slice(0, 32);
}

function refusal(r: UpdateRecord | { updateId: number }, rej: Rejection): AppError {
  return new AppError('guardRail', `Update ${r.updateId} was refused by the ${rej.rule} rail: ${rej.message}`, { context: { updateId: r.updateId, rule: rej.rule, values: rej.values } });
}

/** The parameter store: propose → approve → publish, with guard rails, audit trail and CAS publication. */
export class ParameterStore {
  private readonly clock: Clock;
  private readonly override: RailsOverride | undefined;
  private readonly railsSource: string;

  constructor(readonly backend: ParamBackend, opts: ParameterStoreOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.override = opts.rails;
    this.railsSource = opts.railsSource ?? 'rails override';
  }

  /** The rails operations run under now: the store's current version (or the defaults), tightened by this caller's override; throws `guardRail` if the override would loosen them. */
  async effectiveRails(): Promise<EffectiveRails> {
    return this.railsIn(this.backend);
  }

  /** The store's current rails version, or null when none was ever set (then {@link DEFAULT_RAILS} apply). */
  storedRails(): Promise<StoredRails | null> {
    return this.backend.rails();
  }

  /** Every version of the store's rails, oldest first. */
  railsHistory(): Promise<StoredRails[]> {
    return this.backend.railsHistory();
  }

  /**
   * Sets the store's rails (the complete config) as the next version, recorded with who and why: the one way to
   * change — loosen as well as tighten — what every proposer, approver and publisher of this store is held to.
   */
  async setRails(rails: RailsConfig, by: string, reason: string): Promise<SetRailsResult> {
    if (by.trim() === '') throw new AppError('badRequest', 'Changing the rails needs the name of who changes them (--by NAME).');
    if (reason.trim() === '') throw new AppError('badRequest', 'Changing the rails needs a reason (--reason TEXT); it is kept in the rails history.');
    const checked = RailsConfigSchema.safeParse(rails);
    if (!checked.success) throw new AppError('config', `The rails to set are not a complete rails config: ${checked.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}. Build them with parseRailsConfig.`);
    return this.backend.atomic(async (tx) => {
      const before = (await tx.rails())?.rails ?? defaultRails();
      const stored = await tx.setRails({ rails: checked.data, atMs: this.now(), actor: by.trim(), reason: reason.trim() });
      return { stored, changes: diffRails(before, stored.rails) };
    });
  }

  private async railsIn(r: ParamReader): Promise<EffectiveRails> {
    const stored = await r.rails();
    const base = stored?.rails ?? defaultRails();
    if (this.override === undefined) return { rails: base, stored, overridden: false };
    const label = stored ? `the store's rails (version ${stored.version}, set by ${stored.actor})` : 'the store\'s rails (the defaults: none were set)';
    return { rails: tightenRails(base, this.override, this.railsSource, label), stored, overridden: true };
  }

  /** The current time, epoch ms. */
  now(): number {
    return this.clock.now();
  }

  /**
   * Stores drafts as proposals in one transaction; each is checked against the rails (not pause or debounce) with
   * the live heads of its market overlaid by the batch's other drafts, and stored `rejected` with the rule if refused.
   * A draft whose idempotency key exists returns the existing record (no duplicate); the same key with other content throws.
   */
  async propose(drafts: readonly ProposalDraft[], opts: { by?: string } = {}): Promise<UpdateRecord[]> {
    const now = this.now();
    return this.backend.atomic(async (tx) => {
      const { rails } = await this.railsIn(tx);
      const settings = await tx.settings();
      const out: UpdateRecord[] = [];
      for (const d of drafts) {
        const key = d.idempotencyKey ?? draftKey(d);
        const existing = await tx.getByIdempotencyKey(key);
        if (existing) {
          if (existing.market !== d.market || existing.updateType !== d.updateType || canonicalJson(existing.newValue) !== canonicalJson(d.newValue)) {
            throw new AppError('badRequest', `The idempotency key "${key}" already names update ${existing.updateId} (${existing.market} ${existing.updateType}), not this proposal. Use a new key.`, { context: { key, updateId: existing.updateId } });
          }
          out.push(existing);
          continue;
        }
        const head = await tx.head(d.market, d.updateType);
        const headRec = head ? await tx.get(head.updateId) : null;
        const others = await this.view(tx, d.market, d.updateType);
        for (const o of drafts) if (o !== d && o.market === d.market && o.updateType !== d.updateType) others[o.updateType] = o.newValue as never;
        const expiresAt = d.expiresAt ?? now + defaultLifetimeMs(rails, d.updateType);
        const rejection = checkRails({
          rails, market: d.market, updateType: d.updateType, newValue: d.newValue, headValue: headRec?.newValue ?? null,
          venueValue: d.previousValue ?? null, headPublishedAt: headRec?.publishedAt ?? null, others, expiresAt, timestamp: now, nowMs: now,
          paused: settings.paused, allowedMarkets: settings.allowedMarkets, phase: 'propose',
        });
        out.push(await tx.insert({
          market: d.market, updateType: d.updateType, newValue: d.newValue, previousValue: d.previousValue ?? headRec?.newValue ?? null,
          referenceId: d.referenceId ?? null, timestamp: now, expiresAt, additionalData: d.additionalData ?? {}, state: rejection ? 'rejected' : 'proposed',
          idempotencyKey: key, baseVersion: head?.version ?? 0, rejection,
        } as Parameters<ParamTx['insert']>[0], opts.by ?? 'proposer'));
      }
      return out;
    });
  }

  /**
   * Approves a proposal by a named person (recorded with the time); the rails except pause, debounce and invariants are
   * re-checked (those bind at publication) and a refusal is stored and thrown. An approved update is returned unchanged.
   */
  async approve(updateId: number, by: string): Promise<UpdateRecord> {
    if (by.trim() === '') throw new AppError('badRequest', 'An approval needs the approver\'s name (--by NAME).');
    const r = await this.backend.atomic(async (tx) => this.approveIn(tx, (await this.railsIn(tx)).rails, updateId, by, false));
    if ('refused' in r) throw refusal(r.record, r.refused);
    if (!('record' in r)) throw new AppError('internal', `Manual approval of update ${updateId} neither approved nor refused it.`);
    return r.record;
  }

  /** Approves every proposal (or those in `ids`) that lies within the rails and may be auto-approved; others wait for a person. Ids already approved count as approved; ids in other states are skipped. */
  async autoApprove(ids?: readonly number[]): Promise<AutoApproveResult> {
    return this.backend.atomic(async (tx) => {
      const { rails } = await this.railsIn(tx);
      const list = ids ? ids : (await tx.history({ states: ['proposed'], limit: 100_000 })).map((r) => r.updateId);
      const res: AutoApproveResult = { approved: [], waiting: [], refused: [] };
      for (const id of list) {
        const r = await this.approveIn(tx, rails, id, 'auto', true);
        if ('refused' in r) res.refused.push(r.record);
        else if ('waiting' in r) res.waiting.push({ updateId: id, reason: r.waiting });
        else if ('record' in r) res.approved.push(r.record);
      }
      return res;
    });
  }

  private async approveIn(tx: ParamTx, rails: RailsConfig, updateId: number, by: string, auto: boolean): Promise<{ record: UpdateRecord } | { record: UpdateRecord; refused: Rejection } | { waiting: string } | { skipped: true }> {
    const rec = await this.mustGet(tx, updateId);
    if (rec.state === 'approved' || (!auto && (rec.state === 'published' || rec.state === 'superseded'))) return { record: rec };
    if (rec.state !== 'proposed') {
      if (auto) return { skipped: true };
      throw new AppError('guardRail', `Update ${updateId} is ${rec.state}, so it cannot be approved; propose a new update.`, { context: { updateId, state: rec.state } });
    }
    const { rejection, headValue } = await this.recheck(tx, rails, rec, 'approve');
    if (rejection) return { record: await this.refuse(tx, rec, rejection), refused: rejection };
    if (auto) {
      const block = autoApproveBlock(rails, rec.updateType, rec.newValue, headValue);
      if (block) return { waiting: block };
    }
    const now = this.now();
    const next = await tx.transition(updateId, { from: 'proposed', to: 'approved', atMs: now, actor: by, patch: { approvedBy: by, approvedAt: now } });
    return { record: this.guarded(next, rec, 'approved') };
  }

  /** Publishes one approved update atomically (rails re-checked, CAS on its base version); throws `guardRail` with the rule when refused. */
  async publish(updateId: number): Promise<UpdateRecord> {
    const [o] = await this.publishMany([updateId]);
    if (!o!.ok) throw o!.error;
    return o!.record;
  }

  /**
   * Publishes several approved updates, in order, in one transaction (one durable commit): each is checked on its
   * own against the live values left by the ones before it. Refusals are stored and returned, not thrown.
   */
  async publishMany(ids: readonly number[]): Promise<PublishOutcome[]> {
    return this.backend.atomic(async (tx) => {
      const { rails } = await this.railsIn(tx);
      const out: PublishOutcome[] = [];
      for (const id of ids) out.push(await this.publishIn(tx, rails, id));
      return out;
    });
  }

  private async publishIn(tx: ParamTx, rails: RailsConfig, updateId: number): Promise<PublishOutcome> {
    const rec = await this.mustGet(tx, updateId);
    if (rec.state === 'published' || rec.state === 'superseded') return { updateId, ok: true, record: rec, alreadyPublished: true };
    if (rec.state !== 'approved') {
      const fix = rec.state === 'proposed' ? `approve it first (liqcal params approve ${updateId} --by NAME)` : 'propose a new update';
      return { updateId, ok: false, error: new AppError('guardRail', `Update ${updateId} is ${rec.state}, not approved, so it cannot be published; ${fix}.`, { context: { updateId, state: rec.state, rule: 'state' } }) };
    }
    const { rejection, head, headRec } = await this.recheck(tx, rails, rec, 'publish');
    if (rejection) {
      if (TRANSIENT_RULES.has(rejection.rule)) return { updateId, ok: false, error: refusal(rec, rejection) };
      await this.refuse(tx, rec, rejection);
      return { updateId, ok: false, error: refusal(rec, rejection) };
    }
    const now = this.now();
    const version = await tx.casHead(rec.market, rec.updateType, rec.baseVersion, updateId);
    if (version === null) {
      const rej = this.conflict(rec, head?.version ?? 0);
      await this.refuse(tx, rec, rej);
      return { updateId, ok: false, error: refusal(rec, rej) };
    }
    const publishSeq = await tx.nextPublishSeq();
    const next = this.guarded(await tx.transition(updateId, { from: 'approved', to: 'published', atMs: now, actor: 'publisher', patch: { publishedAt: now, version, publishSeq } }), rec, 'published');
    if (headRec && headRec.state === 'published') {
      await tx.transition(headRec.updateId, { from: 'published', to: 'superseded', atMs: now, actor: 'publisher', detail: { supersededBy: updateId, version } });
    }
    return { updateId, ok: true, record: next, alreadyPublished: false };
  }

  /** The published head of (market, type) with its expiry, pause and usability status, or null if nothing was ever published there. */
  async latest(market: string, updateType: UpdateType): Promise<LatestResult | null> {
    const head = await this.backend.head(market, updateType);
    if (!head) return null;
    const record = await this.backend.get(head.updateId);
    if (!record) throw new AppError('internal', `The head of ${market} ${updateType} points at missing update ${head.updateId}; run verify.`);
    const [settings, stored] = await Promise.all([this.backend.settings(), this.backend.rails()]);
    const now = this.now();
    const maxTtlMs = (stored?.rails ?? defaultRails()).types[updateType].maxTtlMs;
    const expired = record.state === 'expired' || isExpired(record, now) || now >= record.timestamp + maxTtlMs;
    return { record, expired, paused: settings.paused, usable: record.state === 'published' && !expired && !settings.paused };
  }

  /** Records by ascending updateId, filtered by market, type, states and fromId. */
  history(q: HistoryQuery = {}): Promise<UpdateRecord[]> {
    return this.backend.history(q);
  }

  /** One record by id, or null. */
  get(updateId: number): Promise<UpdateRecord | null> {
    return this.backend.get(updateId);
  }

  /** The current settings (pause, market allowlist). */
  settings(): Promise<StoreSettings> {
    return this.backend.settings();
  }

  /** Newly published records, in publish order, polling the backend until `signal` aborts. */
  async *watch(opts: WatchOptions = {}): AsyncGenerator<UpdateRecord> {
    let cursor = opts.afterSeq ?? (await this.backend.maxPublishSeq());
    while (!opts.signal?.aborted) {
      const batch = await this.backend.publishedAfter(cursor, 100);
      for (const r of batch) {
        cursor = r.publishSeq!;
        yield r;
      }
      if (batch.length === 0) {
        try { await sleep(opts.pollMs ?? 250, undefined, opts.signal ? { signal: opts.signal } : {}); } catch { return; }
      }
    }
  }

  /** Global kill switch on: nothing publishes until {@link resume}. Recorded with who and when. */
  pause(by: string, note?: string): Promise<StoreSettings> {
    return this.backend.atomic((tx) => tx.changeSettings({ paused: true, atMs: this.now(), actor: by, ...(note ? { note } : {}) }));
  }

  /** Global kill switch off. */
  resume(by: string, note?: string): Promise<StoreSettings> {
    return this.backend.atomic((tx) => tx.changeSettings({ paused: false, atMs: this.now(), actor: by, ...(note ? { note } : {}) }));
  }

  /** Sets (or with null removes) the store's market allowlist; the rails config's own list also applies. */
  setAllowedMarkets(markets: readonly string[] | null, by: string): Promise<StoreSettings> {
    return this.backend.atomic((tx) => tx.changeSettings({ allowedMarkets: markets, atMs: this.now(), actor: by }));
  }

  /** Disables one update (proposed, approved or published) so it is never published or applied (the injector `disableUpdateById`). */
  async disable(updateId: number, by: string): Promise<UpdateRecord> {
    return this.backend.atomic(async (tx) => {
      const rec = await this.mustGet(tx, updateId);
      if (rec.state === 'disabled') return rec;
      if (rec.state !== 'proposed' && rec.state !== 'approved' && rec.state !== 'published') {
        throw new AppError('guardRail', `Update ${updateId} is ${rec.state}, a final state, so there is nothing to disable.`, { context: { updateId, state: rec.state } });
      }
      return this.guarded(await tx.transition(updateId, { from: rec.state, to: 'disabled', atMs: this.now(), actor: by }), rec, 'disabled');
    });
  }

  /** Marks every proposed, approved or published update whose expiry has passed at `nowMs` as expired; returns them. */
  async expireDue(nowMs: number = this.now()): Promise<UpdateRecord[]> {
    return this.backend.atomic(async (tx) => {
      const due = (await tx.history({ states: ['proposed', 'approved', 'published'], limit: 1_000_000 })).filter((r) => isExpired(r, nowMs));
      const out: UpdateRecord[] = [];
      for (const r of due) {
        const next = await tx.transition(r.updateId, { from: r.state, to: 'expired', atMs: nowMs, actor: 'expiry', detail: { expiresAt: r.expiresAt } });
        if (next) out.push(next);
      }
      return out;
    });
  }

  /** Audits the stored history (ids, events, version chains, heads, publish sequence); returns the problems found, none when consistent. */
  async verify(): Promise<string[]> {
    const problems: string[] = [];
    const all: UpdateRecord[] = [];
    for (let from = 1; ;) {
      const b = await this.backend.history({ fromId: from, limit: 5000 });
      all.push(...b);
      if (b.length < 5000) break;
      from = b[b.length - 1]!.updateId + 1;
    }
    const first = new Map<number, UpdateState | null>();
    const last = new Map<number, UpdateState>();
    for (const e of await this.backend.events()) {
      if (!first.has(e.updateId)) first.set(e.updateId, e.fromState);
      last.set(e.updateId, e.toState);
    }
    const chains = new Map<string, UpdateRecord[]>();
    const seqs: number[] = [];
    for (const [i, r] of all.entries()) {
      if (i > 0 && r.updateId <= all[i - 1]!.updateId) problems.push(`update ids not increasing at ${r.updateId}`);
      if (first.get(r.updateId) !== null || last.get(r.updateId) !== r.state) problems.push(`update ${r.updateId} (${r.state}) does not match its events`);
      if (r.version !== null) {
        const k = `${r.market}\u0000${r.updateType}`;
        chains.set(k, [...(chains.get(k) ?? []), r]);
        seqs.push(r.publishSeq ?? -1);
      }
    }
    seqs.sort((a, b) => a - b);
    if (seqs.some((s, i) => s !== i + 1)) problems.push(`publish sequence is not 1..${seqs.length}`);
    for (const chain of chains.values()) {
      chain.sort((a, b) => a.version! - b.version!);
      const top = chain[chain.length - 1]!;
      chain.forEach((r, i) => {
        if (r.version !== i + 1 || r.baseVersion !== i) problems.push(`update ${r.updateId} has version ${r.version} on base ${r.baseVersion}, expected ${i + 1} on ${i}`);
        if (r !== top && !['superseded', 'expired', 'disabled'].includes(r.state)) problems.push(`update ${r.updateId} is ${r.state} but a later version exists`);
      });
      const head = await this.backend.head(top.market, top.updateType);
      if (!head || head.updateId !== top.updateId || head.version !== top.version) problems.push(`head of ${top.market} ${top.updateType} is not update ${top.updateId} v${top.version}`);
    }
    return problems;
  }

  /** The values of the market's other parameters as published (head records, whatever their state), without `except`. */
  private async view(tx: ParamTx, market: string, except: UpdateType): Promise<MarketView> {
    const view: Record<string, ParamValue> = {};
    for (const r of await tx.headRecords(market)) if (r.updateType !== except) view[r.updateType] = r.newValue;
    return view as MarketView;
  }

  private async recheck(tx: ParamTx, rails: RailsConfig, rec: UpdateRecord, phase: 'approve' | 'publish') {
    const [settings, head] = await Promise.all([tx.settings(), tx.head(rec.market, rec.updateType)]);
    const headRec = head ? await tx.get(head.updateId) : null;
    const others = await this.view(tx, rec.market, rec.updateType);
    let rejection: Rejection | null = (head?.version ?? 0) === rec.baseVersion ? null : this.conflict(rec, head?.version ?? 0);
    rejection ??= checkRails({
      rails, market: rec.market, updateType: rec.updateType, newValue: rec.newValue, headValue: headRec?.newValue ?? null, venueValue: rec.previousValue,
      headPublishedAt: headRec?.publishedAt ?? null, others, expiresAt: rec.expiresAt, timestamp: rec.timestamp, nowMs: this.now(), paused: settings.paused, allowedMarkets: settings.allowedMarkets, phase,
    });
    return { rejection, head, headRec, headValue: headRec?.newValue ?? null };
  }

  private conflict(rec: UpdateRecord, current: number): Rejection {
    return {
      rule: 'versionConflict',
      message: `${rec.market} ${rec.updateType} is at version ${current}, but this update was proposed against version ${rec.baseVersion}; another publisher got there first. Propose again from the live value.`,
      values: { baseVersion: rec.baseVersion, currentVersion: current },
    };
  }

  /** Stores a refusal: `expired` for the expiry rail, else `rejected` with the rule and numbers. */
  private async refuse(tx: ParamTx, rec: UpdateRecord, rej: Rejection): Promise<UpdateRecord> {
    if (rec.state !== 'proposed' && rec.state !== 'approved') return rec;
    const to = rej.rule === 'expiry' ? 'expired' : 'rejected';
    const next = await tx.transition(rec.updateId, { from: rec.state, to, atMs: this.now(), actor: 'rails', patch: to === 'rejected' ? { rejection: rej } : {}, detail: { rule: rej.rule, values: rej.values } });
    return this.guarded(next, rec, to);
  }

  private async mustGet(tx: ParamTx, updateId: number): Promise<UpdateRecord> {
    const r = await tx.get(updateId);
    if (!r) throw new AppError('badRequest', `There is no update ${updateId} in this store; list them with \`liqcal params history\`.`, { context: { updateId } });
    return r;
  }

  private guarded(next: UpdateRecord | null, rec: UpdateRecord, to: string): UpdateRecord {
    if (!next) throw new AppError('internal', `Update ${rec.updateId} left state ${rec.state} before it could move to ${to}; retry.`, { context: { updateId: rec.updateId } });
    return next;
  }
}

/** Outcome of {@link proposeApprovePublish}. */
export interface PipelineResult {
  readonly proposed: UpdateRecord[];
  readonly waiting: { readonly updateId: number; readonly reason: string }[];
  readonly published: UpdateRecord[];
  /** Refused at proposal, approval or publication, with the rule. */
  readonly refused: { readonly updateId: number; readonly rule: string; readonly message: string }[];
}

/**
 * Proposes drafts, approves them (by `by`, or automatically within the rails when `auto`), and publishes the approved
 * ones in one batch. Drafts are ordered per market so that each publication keeps the invariants against the values
 * published before it (e.g. initial margin raised before maintenance).
 */
export async function proposeApprovePublish(store: ParameterStore, drafts: readonly ProposalDraft[], opts: { by: string; auto: boolean }): Promise<PipelineResult> {
  const ordered: ProposalDraft[] = [];
  for (const market of [...new Set(drafts.map((d) => d.market))]) {
    const view: Record<string, ParamValue> = {};
    for (const r of await store.backend.headRecords(market)) view[r.updateType] = r.newValue;
    const rest = drafts.filter((d) => d.market === market);
    while (rest.length > 0) {
      const i = Math.max(0, rest.findIndex((d) => checkInvariants({ ...view, [d.updateType]: d.newValue } as MarketView) === null));
      const [d] = rest.splice(i, 1);
      view[d!.updateType] = d!.newValue;
      ordered.push(d!);
    }
  }
  const proposed = await store.propose(ordered, { by: opts.by });
  const refused: { updateId: number; rule: string; message: string }[] = [];
  const note = (r: UpdateRecord): void => { if (r.rejection) refused.push({ updateId: r.updateId, rule: r.rejection.rule, message: r.rejection.message }); };
  proposed.filter((r) => r.state === 'rejected').forEach(note);
  const open = proposed.filter((r) => r.state === 'proposed').map((r) => r.updateId);
  let waiting: { updateId: number; reason: string }[] = [];
  if (opts.auto) {
    const a = await store.autoApprove(open);
    waiting = a.waiting;
    a.refused.forEach(note);
  } else {
    for (const id of open) {
      try { await store.approve(id, opts.by); } catch (e) { const r = await store.get(id); if (r?.rejection) note(r); else throw e; }
    }
  }
  const ready = (await Promise.all(proposed.map((r) => store.get(r.updateId)))).filter((r) => r?.state === 'approved').map((r) => r!.updateId);
  const outcomes = await store.publishMany(ready);
  const published: UpdateRecord[] = [];
  for (const o of outcomes) {
    if (o.ok) published.push(o.record);
    else refused.push({ updateId: o.updateId, rule: String(o.error.context['rule'] ?? 'state'), message: o.error.message });
  }
  return { proposed, waiting, published, refused };
}
