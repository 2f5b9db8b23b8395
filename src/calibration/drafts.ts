/**
 * Turns recommendations into parameter-store proposals (issue 5 item 6): one draft per update type and market,
 * carrying the forecast, the rationale and the bounds that clipped each value in `additionalData`, so an
 * updater or a committee member can see why a value was published. Publishing (rails, approval, CAS) is the
 * parameter store's job.
 */
import type { ProposalDraft } from '../params/record.ts';
import type { MarginParams } from './margin-policy.ts';
import type { MarketRecommendation } from './recommend.ts';

const SCALARS = ['maintenanceMarginRatio', 'initialMarginRatio', 'liquidationPenalty', 'oracleLatencyBufferBps', 'closeFactor', 'maxLeverage'] as const satisfies readonly (keyof MarginParams)[];

/**
 * The proposals of one recommendation: the six scalar parameters, the leverage tiers and the circuit-breaker
 * state. `referenceId` names the run (or report) they come from.
 */
export function recommendationDrafts(rec: MarketRecommendation, referenceId: string): ProposalDraft[] {
  const common = { market: rec.market, referenceId };
  const forecast = { model: rec.forecast.model, sigmaH: rec.forecast.sigmaH, spikeProb: rec.forecast.spikeProb, horizon: rec.forecast.horizon, asOf: rec.asOf };
  const drafts: ProposalDraft[] = SCALARS.map((type) => {
    const why = rec.rationale.find((r) => r.parameter === type);
    return {
      ...common, updateType: type, newValue: rec.params[type],
      additionalData: { modelVersion: `${rec.policy}/${rec.forecast.model ?? 'none'}`, forecast, rationale: why?.text ?? '', clippedBy: [...(why?.clippedBy ?? [])] },
    } as ProposalDraft;
  });
  drafts.push({
    ...common, updateType: 'leverageTiers', newValue: rec.params.leverageTiers.map((t) => ({ ...t })),
    additionalData: { modelVersion: `${rec.policy}/${rec.forecast.model ?? 'none'}`, forecast, rationale: 'Each tier adds the liquidation cost of its largest position to the market margin.', clippedBy: [] },
  } as ProposalDraft);
  drafts.push({
    ...common, updateType: 'circuitBreaker',
    newValue: { state: rec.circuitBreaker.state, reasons: rec.circuitBreaker.reasons.map((r) => `${r.driver} ${r.value} vs ${r.threshold} → ${r.state}`) },
    additionalData: { modelVersion: `${rec.policy}/${rec.forecast.model ?? 'none'}`, forecast, rationale: 'Circuit-breaker state with the drivers holding it.', clippedBy: [] },
  } as ProposalDraft);
  return drafts.map((d) => JSON.parse(JSON.stringify(d)) as ProposalDraft);
}
