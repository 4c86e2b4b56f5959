/**
 * The inference agent's pre-trade risk monitor (DESIGN §6). It decides whether an OPEN, CLOSE or
 * MODIFY intent, or a pending-order one (PLACE, MODIFY_ORDER, CANCEL, CLOSE_BY), may be signed
 * and sent, against one market snapshot, by running the fixed check tables in checks.ts,
 * position-checks.ts and pending-checks.ts (pending-risk.ts decides the last three). A refusal is a returned Denial, never a throw.
 *
 * State it keeps: the trading state (shared holder), start-of-day equity and the high-water mark
 * (EquityTracker), the sliding window of sent orders, and the exposure of orders that passed and
 * are not in the snapshot yet (ExposureLedger). A passed OPEN, PLACE, CLOSE or CLOSE_BY is reserved in the same
 * synchronous step as its check, so concurrent orders each count the others (issue 12 §1); the
 * caller settles the reservation with the outcome. Every decision first feeds the
 * snapshot's equity to the tracker; after the checks, a breached loss limit escalates the
 * trading state (daily loss → the configured REDUCING or HALTED, drawdown → HALTED), so the order
 * that reveals the breach is refused with DAILY_LOSS_LIMIT / MAX_DRAWDOWN and later ones with the
 * state's code. Limits never relax the state; the operator does (setTradingState).
 *
 * No I/O and no timers: time comes from the injected Clock.
 */
import type { Clock } from "../../shared/clock.ts";
import { AgentError, FaultCode } from "../../shared/errors.ts";
import { type Logger, silentLogger } from "../../shared/log.ts";
import type {
  AccountInfo,
  Position,
  SymbolInfo,
  TradingState,
} from "../../shared/protocol/index.ts";
import {
  type TradingStateChange,
  TradingStateHolder,
  type TradingStateListener,
} from "../../shared/trading-state.ts";
import {
  type Check,
  dailyLossDenial,
  drawdownDenial,
  firstDenial,
  OPEN_GATE_CHECKS,
  OPEN_ORDER_CHECKS,
  type OpenGateContext,
  type OpenRiskContext,
} from "./checks.ts";
import { type Denial, formatDenial } from "./denial.ts";
import { type EquitySeed, type EquitySnapshot, EquityTracker } from "./equity-tracker.ts";
import { ExposureLedger, type Reservation, type SnapshotRead } from "./exposure-ledger.ts";
import { kellyVolume } from "./kelly.ts";
import { entryPrice, lossPerLot, snapToStep } from "./money.ts";
import { OrderRateWindow } from "./order-rate.ts";
import { opensAt, PLACE_GATE_CHECKS, PLACE_ORDER_CHECKS } from "./pending-checks.ts";
import {
  type CloseByDecision,
  decideCancel,
  decideCloseBy,
  decideModifyOrder,
  type PendingDecision,
  type RiskKit,
} from "./pending-risk.ts";
import {
  CLOSE_CHECKS,
  MODIFY_GATE_CHECKS,
  MODIFY_ORDER_CHECKS,
  type ModifyGateContext,
} from "./position-checks.ts";
import {
  type CancelIntent,
  type CloseByIntent,
  type CloseIntent,
  type MarketSnapshot,
  type ModifyIntent,
  type ModifyOrderIntent,
  type OpenIntent,
  type PlaceIntent,
  type RiskLimits,
  riskLimitIssues,
} from "./types.ts";

const SECOND_MS = 1000;
const MINUTE_MS = 60_000;

/** The one thing the monitor needs from the circuit breaker; CircuitBreaker satisfies it. */
export interface BreakerFlag {
  readonly engaged: boolean;
}

export interface RiskMonitorOptions {
  readonly limits: RiskLimits;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Shared with the operator API; a fresh ACTIVE holder when omitted. */
  readonly tradingState?: TradingStateHolder;
  /** While `engaged`, OPENs are refused with BREAKER_OPEN. */
  readonly breaker?: BreakerFlag;
  /** High-water mark and start-of-day equity carried over from a previous run. */
  readonly equitySeed?: EquitySeed;
}

/** Outcome of Kelly sizing: the lots to check, and a denial when sizing refused the order. */
interface Sizing {
  readonly volume: number;
  readonly kellyFraction?: number;
  readonly denial?: Denial;
}

export type Refusal = { readonly ok: false; readonly denial: Denial };

export type OpenDecision =
  | {
      readonly ok: true;
      /** Lots to send: the requested volume, or less when Kelly sized it down. */
      readonly volume: number;
      /** Equity fraction Kelly risked, when Kelly sized this order. */
      readonly kellyFraction?: number;
      /** The position this OPEN may add, counted by every check until it is settled. */
      readonly reservation: Reservation;
    }
  | Refusal;

/** `volume`: lots to close, the whole position when the intent gave none. */
export type CloseDecision =
  | {
      readonly ok: true;
      readonly volume: number;
      /** The volume this CLOSE takes off, counted by other closes until it is settled. */
      readonly reservation: Reservation;
    }
  | Refusal;

export type ModifyDecision = { readonly ok: true } | Refusal;

export class RiskMonitor {
  readonly #limits: RiskLimits;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #state: TradingStateHolder;
  readonly #breaker: BreakerFlag;
  readonly #equity: EquityTracker;
  readonly #orders: OrderRateWindow;
  readonly #exposure = new ExposureLedger();
  readonly #kit: RiskKit;

  constructor(options: RiskMonitorOptions) {
    const issues = riskLimitIssues(options.limits);
    if (issues.length > 0) {
      const detail = issues.map((issue) => `${issue.path} ${issue.message}`).join("; ");
      throw new AgentError(FaultCode.CONFIG_INVALID, `risk: invalid limits: ${detail}`);
    }
    this.#limits = options.limits;
    this.#clock = options.clock;
    this.#logger = options.logger ?? silentLogger;
    this.#state =
      options.tradingState ??
      new TradingStateHolder({ clock: options.clock, logger: this.#logger });
    this.#breaker = options.breaker ?? { engaged: false };
    this.#equity = new EquityTracker(options.limits.timeZone, options.equitySeed);
    const horizon = options.limits.maxOrdersPerMinute === null ? SECOND_MS : MINUTE_MS;
    this.#orders = new OrderRateWindow(horizon);
    this.#kit = {
      limits: this.#limits,
      exposure: this.#exposure,
      state: () => ({ tradingState: this.#state.state, tradingStateReason: this.#state.reason }),
      judge: (action, clientOrderId, market, checks, passed) => {
        const equity = this.#observe(market.account);
        this.#exposure.observe(market);
        const denial = checks();
        this.#applyLossLimits(equity);
        if (denial !== undefined) this.#refuse(action, clientOrderId, denial);
        else
          this.#logger.info("[RISK_PASS]", { action, client_order_id: clientOrderId, ...passed });
        return denial;
      },
    };
  }

  get limits(): RiskLimits {
    return this.#limits;
  }

  get tradingState(): TradingState {
    return this.#state.state;
  }

  get tradingStateReason(): string {
    return this.#state.reason;
  }

  /** The figures behind the loss limits, as of the last snapshot seen. */
  get equity(): EquitySnapshot | undefined {
    return this.#equity.last;
  }

  /** Reservations of orders that passed: stamp snapshot reads, settle and resolve outcomes. */
  get exposure(): ExposureLedger {
    return this.#exposure;
  }

  /** Operator override: any state, in any direction. Returns the change, if there was one. */
  setTradingState(state: TradingState, reason: string): TradingStateChange | undefined {
    return this.#state.set(state, reason, "operator");
  }

  /** Subscribe to trading-state changes (operator and loss limits); returns the unsubscribe. */
  onStateChange(listener: TradingStateListener): () => void {
    return this.#state.onChange(listener);
  }

  /**
   * Count one sent order toward the rate limits. Call it after an order passed and was sent, so
   * refused intents never eat the budget. Only OPENs are rate-limited, but every recorded order
   * counts; two decisions taken before either is recorded are not throttled against each other.
   */
  recordOrder(): void {
    this.#orders.record(this.#clock.monotonic());
  }

  /**
   * Feed an account snapshot to the loss limits without an order (e.g. from a periodic
   * GET_ACCOUNT). Returns the trading-state change a breached limit caused, if any.
   */
  updateEquity(account: AccountInfo): TradingStateChange | undefined {
    return this.#applyLossLimits(this.#observe(account));
  }

  /**
   * Decide an OPEN against `market`, read under `read` (ExposureLedger.beginRead; without one the
   * snapshot is taken to be older than every fill, which counts every reservation). A pass
   * reserves the position it may add; settle the reservation with the outcome.
   */
  checkOpen(intent: OpenIntent, market: MarketSnapshot, read?: SnapshotRead): OpenDecision {
    return this.#checkEntry("OPEN", intent, market, read, {
      gate: OPEN_GATE_CHECKS,
      order: OPEN_ORDER_CHECKS,
      entry: (symbol) => entryPrice(symbol, intent.side),
    });
  }

  /**
   * Decide a PLACE (a pending order) as the OPEN it may become, from its own price
   * (pending-checks.ts); a pass reserves it as a position on its symbol until it is settled.
   */
  checkPlace(intent: PlaceIntent, market: MarketSnapshot, read?: SnapshotRead): OpenDecision {
    return this.#checkEntry("PLACE", intent, market, read, {
      gate: PLACE_GATE_CHECKS,
      order: PLACE_ORDER_CHECKS,
      entry: () => opensAt(intent),
    });
  }

  /** OPEN and PLACE: the gate, then the order checks at `entry`, then the reservation. */
  #checkEntry<I extends OpenIntent>(
    kind: "OPEN" | "PLACE",
    intent: I,
    market: MarketSnapshot,
    read: SnapshotRead | undefined,
    tables: {
      readonly gate: readonly Check<OpenGateContext & { readonly intent: I }>[];
      readonly order: readonly Check<OpenRiskContext & { readonly intent: I }>[];
      readonly entry: (symbol: SymbolInfo) => number;
    },
  ): OpenDecision {
    const equity = this.#observe(market.account);
    this.#exposure.observe(market);
    const gate: OpenGateContext & { readonly intent: I } = {
      intent,
      limits: this.#limits,
      tradingState: this.#state.state,
      tradingStateReason: this.#state.reason,
      breakerEngaged: this.#breaker.engaged,
      symbol: market.symbol,
    };
    let denial = firstDenial(tables.gate, gate);
    let sizing: Sizing = { volume: intent.volume };
    const symbol = market.symbol;
    if (denial === undefined && symbol !== undefined) {
      const entry = tables.entry(symbol);
      sizing = this.#size(intent, symbol, entry, market.account.equity);
      const now = this.#clock.monotonic();
      denial = firstDenial(tables.order, {
        ...gate,
        symbol,
        account: market.account,
        exposure: this.#exposure.count(market, read),
        volume: sizing.volume,
        entry,
        atMarket: kind === "OPEN",
        sizingDenial: sizing.denial,
        ordersLastSecond: this.#orders.count(now, SECOND_MS),
        ordersLastMinute: this.#orders.count(now, MINUTE_MS),
        equity,
        quoteAgeMs: this.#clock.now() + (market.clockOffsetMs ?? 0) - symbol.quote_time,
      });
    }
    this.#applyLossLimits(equity);
    if (denial !== undefined) return this.#refuse(kind, intent.clientOrderId, denial);
    const { kellyFraction } = sizing;
    // The checks passed, so the symbol is known and the volume is on its step
    const volume = snapToStep(sizing.volume, symbol!.volume_step);
    this.#logger.info("[RISK_PASS]", {
      action: kind,
      client_order_id: intent.clientOrderId,
      symbol: intent.symbol,
      side: intent.side,
      volume,
      kelly_fraction: kellyFraction,
    });
    const reservation = this.#exposure.reserve({
      kind,
      clientOrderId: intent.clientOrderId,
      symbol: intent.symbol,
      side: intent.side,
      volume,
    });
    return kellyFraction === undefined
      ? { ok: true, volume, reservation }
      : { ok: true, volume, kellyFraction, reservation };
  }

  /** Decide a CLOSE; a pass reserves the volume it takes off (see checkOpen for `read`). */
  checkClose(intent: CloseIntent, market: MarketSnapshot, read?: SnapshotRead): CloseDecision {
    const equity = this.#observe(market.account);
    this.#exposure.observe(market);
    const position = findPosition(market.positions, intent.ticket);
    const closing = this.#exposure.closing(intent.ticket, read);
    const denial = firstDenial(CLOSE_CHECKS, {
      intent,
      limits: this.#limits,
      tradingState: this.#state.state,
      tradingStateReason: this.#state.reason,
      position,
      symbol: market.symbol,
      closing,
    });
    this.#applyLossLimits(equity);
    if (denial !== undefined) return this.#refuse("CLOSE", intent.clientOrderId, denial);
    // checkPositionFound passed, so the position is there
    const volume = closeVolume(intent, position!, market.symbol, closing);
    this.#logger.info("[RISK_PASS]", {
      action: "CLOSE",
      client_order_id: intent.clientOrderId,
      ticket: intent.ticket,
      volume,
    });
    const reservation = this.#exposure.reserve({
      kind: "CLOSE",
      clientOrderId: intent.clientOrderId,
      ticket: intent.ticket,
      volume,
    });
    return { ok: true, volume, reservation };
  }

  checkModify(intent: ModifyIntent, market: MarketSnapshot): ModifyDecision {
    const equity = this.#observe(market.account);
    const gate: ModifyGateContext = {
      intent,
      limits: this.#limits,
      tradingState: this.#state.state,
      tradingStateReason: this.#state.reason,
      position: findPosition(market.positions, intent.ticket),
      symbol: market.symbol,
    };
    let denial = firstDenial(MODIFY_GATE_CHECKS, gate);
    if (denial === undefined && gate.position !== undefined && gate.symbol !== undefined) {
      denial = firstDenial(MODIFY_ORDER_CHECKS, {
        ...gate,
        position: gate.position,
        symbol: gate.symbol,
        account: market.account,
      });
    }
    this.#applyLossLimits(equity);
    if (denial !== undefined) return this.#refuse("MODIFY", intent.clientOrderId, denial);
    this.#logger.info("[RISK_PASS]", {
      action: "MODIFY",
      client_order_id: intent.clientOrderId,
      ticket: intent.ticket,
      sl: intent.sl,
      tp: intent.tp,
    });
    return { ok: true };
  }

  /** Decide a MODIFY_ORDER: the order's terms after the change, checked as a placement. */
  checkModifyOrder(intent: ModifyOrderIntent, market: MarketSnapshot): PendingDecision {
    return decideModifyOrder(this.#kit, intent, market);
  }

  /** Decide a CANCEL: the order must be there; HALTED refuses all but the operator's. */
  checkCancel(intent: CancelIntent, market: MarketSnapshot): PendingDecision {
    return decideCancel(this.#kit, intent, market);
  }

  /** Decide a CLOSE_BY; a pass reserves the covered volume of both (see checkOpen for `read`). */
  checkCloseBy(
    intent: CloseByIntent,
    market: MarketSnapshot,
    read?: SnapshotRead,
  ): CloseByDecision {
    return decideCloseBy(this.#kit, intent, market, read);
  }

  /**
   * Kelly sizing, when enabled and the intent carries an edge. It needs the money lost per lot at
   * the SL, so an intent without one is refused (SL_REQUIRED); an SL at the entry price leaves the
   * volume as requested and the SL placement check refuses it further down.
   */
  #size(intent: OpenIntent, symbol: SymbolInfo, entry: number, equity: number): Sizing {
    if (!this.#limits.kelly.enabled || intent.edge === undefined) {
      return { volume: intent.volume };
    }
    const sl = intent.sl;
    const perLot = sl === undefined || sl === null ? undefined : lossPerLot(symbol, entry, sl);
    if (perLot !== undefined && !(perLot > 0)) return { volume: intent.volume };
    const sized = kellyVolume({
      edge: intent.edge,
      limits: this.#limits.kelly,
      equity,
      lossPerLot: perLot,
      volumeMin: symbol.volume_min,
      volumeStep: symbol.volume_step,
    });
    if (!sized.ok) return { volume: intent.volume, denial: sized.denial };
    return { volume: Math.min(intent.volume, sized.volume), kellyFraction: sized.fraction };
  }

  #observe(account: AccountInfo): EquitySnapshot {
    return this.#equity.observe(account.equity, this.#clock.now());
  }

  /** Escalate the state for a breached limit; drawdown first, as the stricter of the two. */
  #applyLossLimits(equity: EquitySnapshot): TradingStateChange | undefined {
    const drawdown = drawdownDenial(this.#limits, equity);
    if (drawdown !== undefined) {
      return this.#state.escalate("HALTED", formatDenial(drawdown), "max_drawdown");
    }
    const dailyLoss = dailyLossDenial(this.#limits, equity);
    if (dailyLoss !== undefined) {
      return this.#state.escalate(
        this.#limits.dailyLossAction,
        formatDenial(dailyLoss),
        "daily_loss",
      );
    }
    return undefined;
  }

  #refuse(action: string, clientOrderId: string | undefined, denial: Denial): Refusal {
    this.#logger.warn("[RISK_DENY]", {
      code: denial.code,
      action,
      client_order_id: clientOrderId,
      ...denial.context,
    });
    return { ok: false, denial };
  }
}

/**
 * The lots a passed CLOSE takes off: what is left of the position after the closes in flight
 * (a whole close), or the requested part without FP noise.
 */
function closeVolume(
  intent: CloseIntent,
  position: Position,
  symbol: SymbolInfo | undefined,
  closing: number,
): number {
  const volume = intent.volume ?? position.volume - closing;
  const known = symbol !== undefined && symbol.symbol === position.symbol;
  return known ? snapToStep(volume, symbol.volume_step) : volume;
}

function findPosition(positions: readonly Position[], ticket: number): Position | undefined {
  for (const position of positions) if (position.ticket === ticket) return position;
  return undefined;
}
