/**
 * The configured lanes, by name, with the default: the registry the order service resolves
 * gateways in, the operator's actions on one lane or all, and the lanes' lifecycle (connect,
 * heartbeat, equity polling; stop in order). Trading-state changes and equity marks are written
 * to the state file (state-store.ts), so a HALT or a drawdown mark survives a restart.
 */
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import type { AccountInfo, TradingState } from "../../shared/protocol/index.ts";
import { isMoreRestrictive, type RiskHold } from "../../shared/trading-state.ts";
import { EquityCurve } from "./equity-curve.ts";
import { type GatewayRegistry, type Lane, UnknownGatewayError } from "./lane.ts";
import type { LaneStateStore } from "./state-store.ts";

export interface LanesOptions {
  readonly lanes: readonly Lane[];
  readonly defaultName: string;
  readonly store: LaneStateStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often each lane's equity is read for the loss limits (the heartbeat interval). */
  readonly equityPollMs: number;
  /** Each account read by the equity poll (the metrics' balance, equity, margin level). */
  readonly onAccount?: (gateway: string, account: AccountInfo) => void;
}

export class Lanes implements GatewayRegistry {
  readonly byName: ReadonlyMap<string, Lane>;
  readonly names: readonly string[];
  readonly defaultName: string;
  /** Each lane's equity curve (the dashboard), fed by the equity poll and kept in the state file. */
  readonly curves: ReadonlyMap<string, EquityCurve>;
  readonly #options: LanesOptions;
  readonly #timers: TimerHandle[] = [];

  constructor(options: LanesOptions) {
    this.#options = options;
    this.byName = new Map(options.lanes.map((lane) => [lane.name, lane]));
    this.names = [...this.byName.keys()];
    this.defaultName = options.defaultName;
    this.curves = new Map(
      options.lanes.map((lane) => [
        lane.name,
        new EquityCurve(options.store.remembered(lane.name)?.equityCurve),
      ]),
    );
    for (const lane of options.lanes) {
      lane.tradingState.onChange((change) =>
        options.store.saveTradingState(
          lane.name,
          change.state,
          change.reason,
          lane.tradingState.hold,
        ),
      );
    }
  }

  get(name?: string): Lane | undefined {
    return this.byName.get(name ?? this.defaultName);
  }

  /** The lane named (or the default); throws UnknownGatewayError. */
  lane(name?: string): Lane {
    const lane = this.get(name);
    if (lane === undefined) throw new UnknownGatewayError(name, this.names);
    return lane;
  }

  /**
   * Operator: set the trading state of one gateway, or of all. A state a loss limit set (daily
   * loss, drawdown) is held: relaxing it needs `overrideRisk`, which is logged as
   * [RISK_OVERRIDE]; without it nothing changes on any lane and RiskHoldError names the holds.
   * Tightening is always allowed.
   */
  setTradingState(
    state: TradingState,
    reason: string,
    gateway?: string,
    overrideRisk = false,
  ): void {
    const lanes = this.#select(gateway);
    const held = lanes.filter((lane) => {
      const hold = lane.tradingState.hold;
      return hold !== undefined && isMoreRestrictive(hold.state, state);
    });
    if (held.length > 0 && !overrideRisk) throw new RiskHoldError(held, state);
    for (const lane of lanes) {
      const hold = held.includes(lane) ? lane.tradingState.releaseHold() : undefined;
      if (hold !== undefined)
        this.#options.logger.warn("[RISK_OVERRIDE] The operator lifted a loss limit's hold", {
          gateway: lane.name,
          held: hold.state,
          by: hold.source,
          because: hold.reason,
          to: state,
          reason,
        });
      const change = lane.tradingState.set(state, reason, "operator");
      // The hold is gone even when the state stays: keep the file in step
      if (change === undefined && hold !== undefined)
        this.#options.store.saveTradingState(
          lane.name,
          lane.tradingState.state,
          lane.tradingState.reason,
        );
    }
  }

  /** Operator: engage or reset the breaker of one gateway, or of all. */
  setBreaker(engaged: boolean, reason: string, gateway?: string): void {
    for (const lane of this.#select(gateway)) {
      if (engaged) lane.breaker.engage(reason);
      else lane.breaker.reset(reason);
    }
  }

  start(): void {
    const { clock, equityPollMs } = this.#options;
    for (const lane of this.byName.values()) {
      lane.stream?.sync.start();
      lane.client.connect();
      lane.heartbeat.start();
      // Loss limits must trip on equity alone, not only when an order happens to be sent.
      this.#timers.push(clock.setInterval(() => void this.#pollEquity(lane), equityPollMs));
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers.splice(0)) timer.cancel();
    for (const lane of this.byName.values()) {
      lane.heartbeat.stop();
      lane.breaker.dispose();
      lane.stream?.sync.stop();
      lane.stream?.bars.stop();
    }
    this.#options.store.flush();
    await Promise.all([...this.byName.values()].map((lane) => lane.client.close()));
  }

  #select(gateway: string | undefined): Lane[] {
    return gateway === undefined ? [...this.byName.values()] : [this.lane(gateway)];
  }

  async #pollEquity(lane: Lane): Promise<void> {
    if (!lane.client.connected) return;
    try {
      const reply = await lane.client.query({ action: "GET_ACCOUNT" });
      const account = (reply as { account?: AccountInfo }).account;
      if (account === undefined) return;
      lane.stream?.view.remember({ account });
      lane.risk.updateEquity(account);
      this.#options.onAccount?.(lane.name, account);
      const curve = this.curves.get(lane.name);
      if (curve !== undefined) {
        curve.add(this.#options.clock.now(), account.equity);
        this.#options.store.saveEquityCurve(lane.name, curve.points);
      }
      const equity = lane.risk.equity;
      if (equity === undefined) return;
      this.#options.store.saveEquity(lane.name, {
        highWaterMark: equity.highWaterMark,
        day: equity.day,
        dayStartEquity: equity.dayStartEquity,
      });
    } catch (error) {
      this.#options.logger.debug("Equity poll failed", {
        gateway: lane.name,
        error: describeError(error),
      });
    }
  }
}

/**
 * A loss limit holds the trading state and the operator asked for a less restrictive one
 * without overriding it (API 409 RISK_HOLD). Names each held lane and why.
 */
export class RiskHoldError extends Error {
  readonly holds: readonly {
    gateway: string;
    state: TradingState;
    source: string;
    reason: string;
  }[];

  constructor(lanes: readonly Lane[], wanted: TradingState) {
    const holds = lanes.map((lane) => {
      const hold = lane.tradingState.hold as RiskHold;
      return { gateway: lane.name, state: hold.state, source: hold.source, reason: hold.reason };
    });
    super(
      `${holds.map((hold) => `${hold.gateway} is held at ${hold.state} by the ${hold.source.replace("_", " ")} limit (${hold.reason})`).join("; ")}; ` +
        `${wanted} would lift it: override it explicitly (agent-inf resume --override-risk --reason "...", or override_risk: true with a reason)`,
    );
    this.name = "RiskHoldError";
    this.holds = holds;
  }
}
