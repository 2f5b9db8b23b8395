/**
 * The storage interface every parameter-store backend implements (SQLite embedded, PostgreSQL in production).
 * It is async so that network databases fit. The backend stores and guards; policy (guard rails, approval,
 * expiry) lives in {@link ../params/store.ts ParameterStore}, identical for every backend.
 *
 * Audit model: a record row is inserted once; its content (market, type, values, times, key, base version) never
 * changes. Its lifecycle moves only through {@link ParamTx.transition}, a guarded update (expected state → next
 * state, per `TRANSITIONS`) that appends one {@link ParamEvent} in the same transaction. Settings changes append to
 * a settings log, and every change of the guard rails to the versioned rails log (who, when, why). Nothing is deleted. The head of each (market, type) — the last published record and its version —
 * changes only through the compare-and-set {@link ParamTx.casHead}.
 */
import type { RailsConfig } from './rails.ts';
import type { Rejection, UpdateRecord, UpdateState, UpdateType } from './record.ts';

/** A record before the backend assigns its `updateId` (lifecycle fields are set by the backend: see insert). */
export type NewRecord = Omit<UpdateRecord, 'updateId' | 'version' | 'publishSeq' | 'approvedBy' | 'approvedAt' | 'publishedAt' | 'stateChangedAt'>;

/** The head of one (market, type): the last record published there and the version it created (1, 2, …). */
export interface Head {
  readonly market: string;
  readonly updateType: UpdateType;
  readonly updateId: number;
  readonly version: number;
}

/** Lifecycle fields a transition may set (all others are immutable). */
export interface TransitionPatch {
  readonly approvedBy?: string;
  readonly approvedAt?: number;
  readonly publishedAt?: number;
  readonly version?: number;
  readonly publishSeq?: number;
  readonly rejection?: Rejection;
}

/** One guarded state change. */
export interface Transition {
  /** The state the record must be in; if it is not, nothing changes and `transition` returns null. */
  readonly from: UpdateState;
  readonly to: UpdateState;
  /** When (epoch ms); becomes the record's `stateChangedAt` and the event's `atMs`. */
  readonly atMs: number;
  /** Who or what made the change (a person for approvals, `auto`, `publisher`, `expiry`…). */
  readonly actor: string;
  readonly patch?: TransitionPatch;
  /** Free-form detail kept in the event (e.g. the rail numbers). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** One audit event: a record entering a state (inserts are events with `fromState` null). */
export interface ParamEvent {
  /** Monotonic, in commit order. */
  readonly eventId: number;
  readonly updateId: number;
  readonly fromState: UpdateState | null;
  readonly toState: UpdateState;
  readonly atMs: number;
  readonly actor: string;
  readonly detail: Readonly<Record<string, unknown>> | null;
}

/** Store-wide switches. */
export interface StoreSettings {
  /** Global kill switch: while true nothing publishes (the injector `pauseInjector`). */
  readonly paused: boolean;
  /** Markets allowed to publish; null means every market the rails config allows. */
  readonly allowedMarkets: readonly string[] | null;
  /** When and by whom the settings last changed (null for the defaults of a fresh store). */
  readonly changedAtMs: number | null;
  readonly changedBy: string | null;
}

/** A change of settings, appended to the settings log. */
export interface SettingsChange {
  readonly paused?: boolean;
  /** Pass null to remove the allowlist. */
  readonly allowedMarkets?: readonly string[] | null;
  readonly atMs: number;
  readonly actor: string;
  readonly note?: string;
}

/** One version of the store's guard rails: the complete rails as set, and who set them, when and why. */
export interface StoredRails {
  /** 1, 2, … in the order they were set (gapless). */
  readonly version: number;
  /** The complete rails of this version (fields added later read as their defaults). */
  readonly rails: RailsConfig;
  /** When they were set (epoch ms). */
  readonly atMs: number;
  /** Who set them. */
  readonly actor: string;
  /** Why (required). */
  readonly reason: string;
}

/** A change of the store's rails, appended to the rails log as the next version. */
export interface RailsChange {
  readonly rails: RailsConfig;
  readonly atMs: number;
  /** Who (non-empty). */
  readonly actor: string;
  /** Why (non-empty). */
  readonly reason: string;
}

/** A history query; results are ordered by `updateId` ascending. */
export interface HistoryQuery {
  readonly market?: string;
  readonly updateType?: UpdateType;
  readonly states?: readonly UpdateState[];
  /** Only records with `updateId >= fromId`. */
  readonly fromId?: number;
  /** At most this many (default 1000). */
  readonly limit?: number;
}

/** Read operations, available inside and outside transactions. */
export interface ParamReader {
  /** The record with this id, or null. */
  get(updateId: number): Promise<UpdateRecord | null>;
  /** The record proposed with this idempotency key, or null. */
  getByIdempotencyKey(key: string): Promise<UpdateRecord | null>;
  /** The head of (market, type), or null if nothing was ever published there. */
  head(market: string, updateType: UpdateType): Promise<Head | null>;
  /** The head records of every type of `market` (whatever their state now: published, expired or disabled). */
  headRecords(market: string): Promise<UpdateRecord[]>;
  /** Records matching the query, by ascending `updateId`. */
  history(q: HistoryQuery): Promise<UpdateRecord[]>;
  /** Records with `publishSeq > afterSeq` (in any state now), by ascending `publishSeq`: the watch feed. */
  publishedAfter(afterSeq: number, limit: number): Promise<UpdateRecord[]>;
  /** The highest `publishSeq` so far (0 if none). */
  maxPublishSeq(): Promise<number>;
  /** Audit events, by ascending `eventId` (of one record, or all). */
  events(updateId?: number): Promise<ParamEvent[]>;
  /** The current settings. */
  settings(): Promise<StoreSettings>;
  /** The store's current rails (the latest version), or null if none were ever set (then DEFAULT_RAILS apply). */
  rails(): Promise<StoredRails | null>;
  /** Every version of the store's rails, oldest first. */
  railsHistory(): Promise<StoredRails[]>;
}

/** Operations inside one atomic section. */
export interface ParamTx extends ParamReader {
  /**
   * Inserts a record; the backend assigns the next `updateId` (monotonic, never reused), sets `stateChangedAt` to
   * `timestamp`, leaves the publish fields null and appends the insert event. A duplicate `idempotencyKey` throws.
   */
  insert(record: NewRecord, actor: string): Promise<UpdateRecord>;
  /** Guarded state change plus one appended event. Returns the updated record, or null if its state was not `t.from`. */
  transition(updateId: number, t: Transition): Promise<UpdateRecord | null>;
  /**
   * Compare-and-set of the (market, type) head: succeeds only if the head's version is `expectedVersion` (0 = no
   * head yet); then the head becomes (`updateId`, `expectedVersion + 1`). Returns the new version, or null on mismatch.
   */
  casHead(market: string, updateType: UpdateType, expectedVersion: number, updateId: number): Promise<number | null>;
  /** Allocates the next global publish sequence number (strictly increasing in commit order). */
  nextPublishSeq(): Promise<number>;
  /** Appends a settings change and returns the new settings. */
  changeSettings(change: SettingsChange): Promise<StoreSettings>;
  /** Appends the next version of the store's rails (version = current + 1) and returns it. */
  setRails(change: RailsChange): Promise<StoredRails>;
}

/**
 * A parameter-store backend. Contract (test/params/store-contract.ts checks it):
 * - `atomic(fn)` runs `fn` so that all its writes commit together or none do, and serialises it against every other
 *   atomic section on the store, in this process and in others (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction
 *   holding one advisory lock). Reads inside `fn` see its own writes. If `fn` throws, everything rolls back and the
 *   error propagates unchanged. Nested `atomic` calls are not allowed.
 * - A committed atomic section is durable before its promise resolves (an acknowledged publish is never lost).
 * - Reads outside `atomic` see only committed data.
 */
export interface ParamBackend extends ParamReader {
  /** A short name for messages ("sqlite:/path", "postgres:db"). */
  readonly name: string;
  /** Runs `fn` in one serialised, all-or-nothing transaction. */
  atomic<T>(fn: (tx: ParamTx) => Promise<T>): Promise<T>;
  /** Releases the connection. */
  close(): Promise<void>;
}
