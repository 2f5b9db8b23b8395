/**
 * The margin policy of one market at one instant (issue 4 item 1), pure:
 *
 *   maintenance = risk part (the c-quantile of the maximum adverse excursion over H, from the governed forecast)
 *               + oracle latency buffer (σ over the oracle's latency window at confidence c + cross-venue divergence)
 *               + expected liquidation cost of the reference position (fee + square-root slippage + incentive)
 *   initial     = maintenance × (1 + initialBufferRatio), ≤ 1;   max leverage = 1 / initial
 *   penalty     = fee + slippage + incentive, kept below maxPenaltyShareOfMaintenance × maintenance
 *   tiers       = the same with each tier's own size in the liquidation cost (bigger positions, higher margins)
 *   close factor = the share of the reference position one bar's liquidity absorbs at maxParticipation
 *
 * Every value carries its drivers and the bounds that clipped it. Ratios are fractions of notional.
 */
import { normalQuantile } from '../evaluation/stats.ts';
import type { PolicyConfig } from './config.ts';

/** One leverage tier: margins that apply to positions up to `maxNotionalUsd` (null: unbounded). */
export interface LeverageTier {
  readonly maxNotionalUsd: number | null;
  readonly maintenanceMarginRatio: number;
  readonly initialMarginRatio: number;
  readonly maxLeverage: number;
}

/** The parameters a liquidation engine runs on, for one market. */
export interface MarginParams {
  readonly maintenanceMarginRatio: number;
  readonly initialMarginRatio: number;
  readonly liquidationPenalty: number;
  readonly oracleLatencyBufferBps: number;
  readonly closeFactor: number;
  readonly maxLeverage: number;
  readonly leverageTiers: readonly LeverageTier[];
}

/** Why a parameter has its value: the drivers (named numbers) and any bound that clipped it. */
export interface Rationale {
  readonly parameter: keyof MarginParams;
  readonly value: number;
  readonly drivers: Readonly<Record<string, number>>;
  readonly clippedBy: readonly string[];
  readonly text: string;
}

/** Market conditions the policy prices in, at the decision instant. */
export interface MarketState {
  /** Forecast σ of one bar's log return (√(forecast variance over H / H)). */
  readonly sigmaBar: number;
  /** Typical quote volume of one bar, USD (a trailing median). */
  readonly barQuoteVolumeUsd: number;
  /** Observed cross-venue divergence, bps (NaN or absent: the configured default). */
  readonly divergenceBps?: number;
}

/** Slippage of closing `notionalUsd` in one bar: impactCoef · σ_bar · √(notional / bar volume) (square-root law). */
export function slippageRatio(notionalUsd: number, state: MarketState, cfg: PolicyConfig): number {
  const v = state.barQuoteVolumeUsd > 0 ? state.barQuoteVolumeUsd : Number.NaN;
  const s = cfg.liquidation.impactCoef * state.sigmaBar * Math.sqrt(notionalUsd / v);
  // Unknown volume: assume the position is a whole bar's volume, a conservative stand-in.
  return Number.isFinite(s) ? s : cfg.liquidation.impactCoef * state.sigmaBar;
}

/** Expected cost of liquidating `notionalUsd`: fee + slippage + incentive, as a fraction of notional. */
export function liquidationCostRatio(notionalUsd: number, state: MarketState, cfg: PolicyConfig): number {
  return cfg.liquidation.feeRatio + slippageRatio(notionalUsd, state, cfg) + cfg.liquidation.incentiveRatio;
}

/** Oracle latency buffer: z_c · σ_bar · √(latency / bar) plus the divergence, as a fraction of notional. */
export function oracleBufferRatio(state: MarketState, cfg: PolicyConfig, barMs: number): number {
  const z = normalQuantile(cfg.confidence);
  const div = state.divergenceBps !== undefined && Number.isFinite(state.divergenceBps) ? state.divergenceBps : cfg.oracle.divergenceBps;
  return z * state.sigmaBar * Math.sqrt(cfg.oracle.latencyMs / barMs) + div / 10_000;
}

/** Input of {@link marginParams}. */
export interface MarginInput {
  /** The risk part of the maintenance margin: the governed c-quantile of the adverse excursion over H (fraction). */
  readonly riskRatio: number;
  readonly state: MarketState;
  readonly cfg: PolicyConfig;
  /** Bar length, ms. */
  readonly barMs: number;
  /** Drivers of the risk part to carry into the rationale (forecast σ, scale, spike probability, governor bounds…). */
  readonly riskDrivers?: Readonly<Record<string, number>>;
  /** Governor bounds that shaped the risk part (max step, floor, APC buffer…). */
  readonly riskClippedBy?: readonly string[];
}

const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));
/** Leverage rounded down to 0.01×, so it never exceeds 1 / initial margin (an invariant updaters check). */
const leverageOf = (initial: number): number => Math.floor((1 / initial) * 100) / 100;

/** Maintenance margin for a position of `notionalUsd`, before the hard bounds. */
function rawMaintenance(input: MarginInput, notionalUsd: number): number {
  return input.riskRatio + oracleBufferRatio(input.state, input.cfg, input.barMs) + liquidationCostRatio(notionalUsd, input.state, input.cfg);
}

function bounded(x: number, lo: number, hi: number, names: [string, string]): { value: number; clippedBy: string[] } {
  if (!(x >= lo)) return { value: lo, clippedBy: [names[0]] };
  if (x > hi) return { value: hi, clippedBy: [names[1]] };
  return { value: x, clippedBy: [] };
}

/** Initial margin from maintenance: × (1 + buffer), at most 1. */
function initialFrom(mm: number, cfg: PolicyConfig): { value: number; clippedBy: string[] } {
  const im = mm * (1 + cfg.initialBufferRatio);
  return im > 1 ? { value: 1, clippedBy: ['initialMarginRatio ≤ 1'] } : { value: im, clippedBy: [] };
}

/**
 * The market's parameters and their rationale. Invariants (property-tested): 0 < maintenance < initial ≤ 1,
 * penalty < maintenance, maxLeverage = 1 / initial, tiers non-decreasing in margin with size, 0 < closeFactor ≤ 1.
 */
export function marginParams(input: MarginInput): { params: MarginParams; rationale: Rationale[] } {
  const { cfg, state } = input;
  const { minMaintenance, maxMaintenance } = cfg.bounds;
  const refUsd = cfg.liquidation.referenceNotionalUsd;
  const oracle = oracleBufferRatio(state, cfg, input.barMs);
  const liqCost = liquidationCostRatio(refUsd, state, cfg);
  const mm = bounded(rawMaintenance(input, refUsd), minMaintenance, maxMaintenance, ['bounds.minMaintenance', 'bounds.maxMaintenance']);
  const im = initialFrom(mm.value, cfg);
  // Degenerate bounds (maintenance at its cap of 1 − ε): keep initial strictly above maintenance.
  const imValue = Math.max(im.value, Math.min(1, mm.value * (1 + 1e-9)));

  const slip = slippageRatio(refUsd, state, cfg);
  const penaltyRaw = cfg.liquidation.feeRatio + slip + cfg.liquidation.incentiveRatio;
  const penaltyCap = cfg.liquidation.maxPenaltyShareOfMaintenance * mm.value;
  const penalty = penaltyRaw > penaltyCap ? { value: penaltyCap, clippedBy: ['liquidation.maxPenaltyShareOfMaintenance'] } : { value: penaltyRaw, clippedBy: [] };

  const absorbable = cfg.liquidation.maxParticipation * state.barQuoteVolumeUsd;
  const cfRaw = Number.isFinite(absorbable) && absorbable > 0 ? absorbable / refUsd : cfg.liquidation.minCloseFactor;
  const closeFactor = bounded(cfRaw, cfg.liquidation.minCloseFactor, 1, ['liquidation.minCloseFactor', 'closeFactor ≤ 1']);

  let prevMm = 0;
  const tiers: LeverageTier[] = cfg.tiers.map((t) => {
    // The tier's largest position sets its liquidation cost; the unbounded tier uses 4× the previous cap.
    const size = t.maxNotionalUsd ?? 4 * (cfg.tiers.at(-2)?.maxNotionalUsd ?? refUsd);
    const tmm = Math.max(prevMm, bounded(rawMaintenance(input, Math.max(size, refUsd)), mm.value, maxMaintenance, ['', '']).value);
    prevMm = tmm;
    const tim = Math.max(initialFrom(tmm, cfg).value, Math.min(1, tmm * (1 + 1e-9)));
    const timRounded = round(tim);
    return { maxNotionalUsd: t.maxNotionalUsd, maintenanceMarginRatio: round(tmm), initialMarginRatio: timRounded, maxLeverage: leverageOf(timRounded) };
  });

  const params: MarginParams = {
    maintenanceMarginRatio: round(mm.value),
    initialMarginRatio: round(imValue),
    liquidationPenalty: round(penalty.value),
    oracleLatencyBufferBps: round(oracle * 10_000, 4),
    closeFactor: round(closeFactor.value, 4),
    maxLeverage: leverageOf(round(imValue)),
    leverageTiers: tiers,
  };
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const rationale: Rationale[] = [
    {
      parameter: 'maintenanceMarginRatio', value: params.maintenanceMarginRatio,
      drivers: { riskRatio: input.riskRatio, oracleBufferRatio: oracle, liquidationCostRatio: liqCost, ...(input.riskDrivers ?? {}) },
      clippedBy: [...(input.riskClippedBy ?? []), ...mm.clippedBy],
      text: `${pct(input.riskRatio)} adverse move at ${cfg.confidence} over ${cfg.horizon} + ${pct(oracle)} oracle buffer + ${pct(liqCost)} liquidation cost of a $${refUsd.toLocaleString('en-US')} position${mm.clippedBy.length ? `, clipped by ${mm.clippedBy.join(', ')}` : ''}.`,
    },
    {
      parameter: 'initialMarginRatio', value: params.initialMarginRatio, drivers: { maintenanceMarginRatio: mm.value, initialBufferRatio: cfg.initialBufferRatio },
      clippedBy: im.clippedBy, text: `Maintenance × (1 + ${cfg.initialBufferRatio}): the room a new position has before it can be liquidated.`,
    },
    {
      parameter: 'liquidationPenalty', value: params.liquidationPenalty, drivers: { feeRatio: cfg.liquidation.feeRatio, slippageRatio: slip, incentiveRatio: cfg.liquidation.incentiveRatio },
      clippedBy: penalty.clippedBy, text: `Liquidator's fee ${pct(cfg.liquidation.feeRatio)} + slippage ${pct(slip)} + incentive ${pct(cfg.liquidation.incentiveRatio)}, kept below ${cfg.liquidation.maxPenaltyShareOfMaintenance} × maintenance.`,
    },
    {
      parameter: 'oracleLatencyBufferBps', value: params.oracleLatencyBufferBps, drivers: { sigmaBar: state.sigmaBar, latencyMs: cfg.oracle.latencyMs, divergenceBps: state.divergenceBps ?? cfg.oracle.divergenceBps },
      clippedBy: [], text: `σ over the ${cfg.oracle.latencyMs / 1000} s oracle latency at ${cfg.confidence} plus cross-venue divergence.`,
    },
    {
      parameter: 'closeFactor', value: params.closeFactor, drivers: { barQuoteVolumeUsd: state.barQuoteVolumeUsd, maxParticipation: cfg.liquidation.maxParticipation, referenceNotionalUsd: refUsd },
      clippedBy: closeFactor.clippedBy, text: `Share of a $${refUsd.toLocaleString('en-US')} position that ${pct(cfg.liquidation.maxParticipation)} of one bar's volume absorbs.`,
    },
    {
      parameter: 'maxLeverage', value: params.maxLeverage, drivers: { initialMarginRatio: imValue }, clippedBy: [], text: '1 / initial margin, rounded down to 0.01×.',
    },
  ];
  return { params, rationale };
}
