/**
 * The position book of the liquidation simulator: every simulated position as struct-of-arrays columns, the
 * liquidation and settlement mechanics, and the value ledger. No per-position objects, so the bar loop stays fast.
 *
 * Accounting: a position holds `qty` units at `entry` with a cash `margin` (the collateral posted, plus realised PnL,
 * minus penalties). Equity at price p = margin + side·qty·(p − entry). When the position ends, a non-negative margin is
 * paid out to the trader and a negative one is bad debt, so per position and in total
 *   collateralIn + pnl − penalties = payouts − badDebt,
 * with pnl realised at execution prices (slippage included as negative pnl).
 */

/** Largest slippage of one execution, as a fraction of the oracle price (keeps execution prices positive). */
export const MAX_SLIPPAGE = 0.5;
/** Partial liquidations of one position at one oracle reading before it waits for the next check round. */
export const MAX_PARTIAL_ROUNDS = 4;

/** The liquidation parameters in force for a bar; one mutable instance is reused by the engine. */
export interface LiquidationTerms {
  /** Share closed per liquidation (0, 1]. */
  closeFactor: number;
  /** Penalty as a fraction of the closed notional, taken from equity and never beyond it. */
  penalty: number;
  /** Close 100% when equity / notional is below this (0 = never for that reason). */
  fullBelow: number;
  /** Close 100% when the remainder would be smaller than this, USD. */
  minRemainderUsd: number;
  /** Slippage fraction = slippageCoef × sqrt(closed notional / quoteVolumeUsd). */
  slippageCoef: number;
  /** The bar's quote volume, USD (≥ 1). */
  quoteVolumeUsd: number;
}

/** Growable struct-of-arrays store of positions plus the run's ledger and counters. */
export class PositionBook {
  /** Positions ever opened; position ids are 0 … size − 1. */
  size = 0;
  /** +1 long, −1 short. */
  side = new Float64Array(0);
  /** Units of the base asset still open. */
  qty = new Float64Array(0);
  /** Entry price, USD. */
  entry = new Float64Array(0);
  /** Cash margin: collateral + realised PnL − penalties, USD. */
  margin = new Float64Array(0);
  /** Personal maintenance margin ratio (grandfathering); equals the market's without grandfathering. */
  personalMmr = new Float64Array(0);
  /** Epoch ms at which the trader closes; the position closes at the close of the bar this falls in. */
  closeMs = new Float64Array(0);
  /** Bar index at which the position was opened. */
  openBar = new Int32Array(0);
  /** 1 while open. */
  alive = new Uint8Array(0);
  /** 1 once liquidated at least once. */
  hit = new Uint8Array(0);
  /** Ids of positions open at the start of the current bar (plus those opened in it); compacted each bar. */
  active = new Int32Array(0);
  nActive = 0;

  collateralInUsd = 0;
  pnlUsd = 0;
  penaltiesUsd = 0;
  /** Nominal penalty not collected because the position had no equity left to pay it. */
  penaltyShortfallUsd = 0;
  slippageUsd = 0;
  payoutsUsd = 0;
  badDebtUsd = 0;
  liquidations = 0;
  liquidatedPositions = 0;
  /** Σ closed quantity × oracle price over liquidations, USD (the LaR basis). */
  liquidatedNotionalUsd = 0;

  /** Opens a position of `notionalUsd` at `price` with collateral notional / leverage; returns its id. */
  open(side: number, notionalUsd: number, leverage: number, price: number, openBar: number, closeMs: number, mmr: number): number {
    if (this.size === this.side.length) this.grow();
    const k = this.size++;
    const collateral = notionalUsd / leverage;
    this.side[k] = side;
    this.qty[k] = notionalUsd / price;
    this.entry[k] = price;
    this.margin[k] = collateral;
    this.personalMmr[k] = mmr;
    this.closeMs[k] = closeMs;
    this.openBar[k] = openBar;
    this.alive[k] = 1;
    this.active[this.nActive++] = k;
    this.collateralInUsd += collateral;
    return k;
  }

  /** Equity of position `k` at oracle price `p`, USD. */
  equity(k: number, p: number): number {
    return this.margin[k]! + this.side[k]! * this.qty[k]! * (p - this.entry[k]!);
  }

  /**
   * Liquidates position `k` (which the caller found liquidatable) at oracle price `p` until its equity ratio
   * (equity / notional) is back to `mmr` or it is closed (at most
   * {@link MAX_PARTIAL_ROUNDS} partial closes). Each close: closeFactor of the position (all of it when equity ≤ 0,
   * the equity ratio is below fullBelow, or the remainder would be below minRemainderUsd), executed at the oracle
   * worsened by the slippage; then the penalty on the closed notional is taken from the remaining equity, capped at
   * that equity (Drift's rule: the fee alone never makes a position bankrupt). Negative equity after a close closes the
   * rest and its deficit becomes bad debt. Returns the signed liquidation flow in USD (+ sold by longs, − bought by shorts).
   */
  liquidate(k: number, p: number, mmr: number, t: LiquidationTerms): number {
    let flow = 0;
    const side = this.side[k]!;
    for (let round = 0; round < MAX_PARTIAL_ROUNDS; round++) {
      const q = this.qty[k]!;
      const notional = q * p;
      const equity = this.equity(k, p);
      if (round > 0 && equity / notional >= mmr) break;
      let full = equity <= 0 || equity < t.fullBelow * notional || t.closeFactor >= 1 || (1 - t.closeFactor) * notional < t.minRemainderUsd;
      const closeQty = full ? q : t.closeFactor * q;
      flow += this.execute(k, closeQty, p, t);
      let closedQty = closeQty;
      let after = this.equity(k, p);
      if (!full && after < 0) {
        closedQty += this.qty[k]!;
        flow += this.execute(k, this.qty[k]!, p, t);
        after = this.margin[k]!;
        full = true;
      }
      const nominal = t.penalty * closedQty * p;
      const charged = Math.min(nominal, Math.max(0, after));
      this.margin[k] = this.margin[k]! - charged;
      this.penaltiesUsd += charged;
      this.penaltyShortfallUsd += nominal - charged;
      this.liquidations++;
      if (full) { this.settle(k); break; }
    }
    if (this.hit[k] === 0) { this.hit[k] = 1; this.liquidatedPositions++; }
    return side * flow;
  }

  /** The trader closes position `k` at oracle price `p` (no slippage, no penalty) and is paid out. */
  closeAt(k: number, p: number): void {
    const realised = this.side[k]! * this.qty[k]! * (p - this.entry[k]!);
    this.margin[k] = this.margin[k]! + realised;
    this.pnlUsd += realised;
    this.qty[k] = 0;
    this.settle(k);
  }

  /** Drops closed positions from the active list, keeping the order of the rest. */
  compact(): void {
    let w = 0;
    for (let a = 0; a < this.nActive; a++) {
      const k = this.active[a]!;
      if (this.alive[k] === 1) this.active[w++] = k;
    }
    this.nActive = w;
  }

  /** Sells (long) or buys (short) `closeQty` of `k` at p·(1 ∓ slippage); returns the closed notional at the oracle, USD. */
  private execute(k: number, closeQty: number, p: number, t: LiquidationTerms): number {
    const notional = closeQty * p;
    const slip = Math.min(MAX_SLIPPAGE, t.slippageCoef * Math.sqrt(notional / t.quoteVolumeUsd));
    const side = this.side[k]!;
    const realised = side * closeQty * (p * (1 - side * slip) - this.entry[k]!);
    this.margin[k] = this.margin[k]! + realised;
    this.pnlUsd += realised;
    this.slippageUsd += notional * slip;
    this.liquidatedNotionalUsd += notional;
    const left = this.qty[k]! - closeQty;
    this.qty[k] = left > 0 ? left : 0;
    return notional;
  }

  /** Ends position `k`: its margin is paid out, or its deficit becomes bad debt. */
  private settle(k: number): void {
    const m = this.margin[k]!;
    if (m >= 0) this.payoutsUsd += m;
    else this.badDebtUsd -= m;
    this.qty[k] = 0;
    this.alive[k] = 0;
  }

  private grow(): void {
    const cap = Math.max(256, this.side.length * 2);
    const f64 = (a: Float64Array): Float64Array<ArrayBuffer> => { const b = new Float64Array(cap); b.set(a); return b; };
    this.side = f64(this.side); this.qty = f64(this.qty); this.entry = f64(this.entry); this.margin = f64(this.margin);
    this.personalMmr = f64(this.personalMmr); this.closeMs = f64(this.closeMs);
    const openBar = new Int32Array(cap); openBar.set(this.openBar); this.openBar = openBar;
    const active = new Int32Array(cap); active.set(this.active); this.active = active;
    const alive = new Uint8Array(cap); alive.set(this.alive); this.alive = alive;
    const hit = new Uint8Array(cap); hit.set(this.hit); this.hit = hit;
  }
}
