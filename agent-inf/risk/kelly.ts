/**
 * Optional Kelly position sizing. From the strategy's win probability p and payoff ratio b
 * (average win / average loss), the full Kelly fraction of equity to risk is f* = p − (1 − p) / b.
 * Full Kelly is far too aggressive when p and b are estimates, so it is scaled by a configured
 * fraction (quarter Kelly is common) and capped.
 *
 * Kelly sizes the money put at risk, so it needs a stop-loss: lots = equity × f / (loss per lot
 * at the SL), rounded DOWN to the volume step (never round risk up). The caller treats the
 * strategy's requested volume as a ceiling.
 */
import { type Denial, DenialCode, deny } from "./denial.ts";
import { floorToStep } from "./money.ts";
import type { KellyLimits, TradeEdge } from "./types.ts";

/** f* = p − (1 − p) / b; ≤ 0 means no edge. */
export function kellyFraction(edge: TradeEdge): number {
  const p = edge.winProbability;
  // p = 1 has no losing leg, whatever b is; avoids 0 / 0 when b is 0
  if (p >= 1) return 1;
  return p - (1 - p) / edge.payoffRatio;
}

export interface KellyInput {
  readonly edge: TradeEdge;
  readonly limits: KellyLimits;
  readonly equity: number;
  /** Deposit-currency loss for one lot if the SL is hit (money.ts lossPerLot), > 0; undefined without an SL. */
  readonly lossPerLot: number | undefined;
  readonly volumeMin: number;
  readonly volumeStep: number;
}

export type KellySizing =
  | {
      readonly ok: true;
      /** Lots on the volume step grid, ≥ volumeMin. */
      readonly volume: number;
      /** Full Kelly f*. */
      readonly fullFraction: number;
      /** Fraction of equity actually risked: min(f* × fraction, maxFraction). */
      readonly fraction: number;
    }
  | { readonly ok: false; readonly denial: Denial };

export function kellyVolume(input: KellyInput): KellySizing {
  const fullFraction = kellyFraction(input.edge);
  if (!(fullFraction > 0)) {
    return {
      ok: false,
      denial: deny(DenialCode.KELLY_NO_EDGE, "kelly fraction is not positive", {
        win_probability: input.edge.winProbability,
        payoff_ratio: input.edge.payoffRatio,
        kelly_fraction: fullFraction,
      }),
    };
  }
  // Checked after the edge: an intent with no edge is refused for that, whatever its SL
  if (input.lossPerLot === undefined) {
    return {
      ok: false,
      denial: deny(DenialCode.SL_REQUIRED, "kelly sizing needs a stop-loss", { sizing: "kelly" }),
    };
  }
  const fraction = Math.min(fullFraction * input.limits.fraction, input.limits.maxFraction);
  const rawVolume = (input.equity * fraction) / input.lossPerLot;
  const volume = floorToStep(Math.max(0, rawVolume), input.volumeStep);
  if (volume < input.volumeMin || volume <= 0) {
    return {
      ok: false,
      denial: deny(DenialCode.KELLY_BELOW_MIN, "kelly-sized volume is below the symbol minimum", {
        kelly_volume: volume,
        volume_min: input.volumeMin,
        fraction,
        equity: input.equity,
        loss_per_lot: input.lossPerLot,
      }),
    };
  }
  return { ok: true, volume, fullFraction, fraction };
}
