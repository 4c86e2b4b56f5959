/**
 * The selftest's trading round trip (docs/MT5-SETUP.md §8 "Round trip"), DEMO accounts only (as
 * both the HELLO and GET_ACCOUNT report it; tradingRefusal()): a minimum-lot BUY without stops, with the filling
 * the EA chose → the same OPEN again (must come from the EA's dedup store, no second deal) →
 * MODIFY to an SL/TP well beyond the stops and freeze levels and deliberately off the tick grid
 * (the EA must round them onto it) → CLOSE, each with its trade events. The first failure stops
 * the trip and leaves the position for a person.
 */
import type { Clock } from "../../../shared/clock.ts";
import {
  hasCommentTag,
  orderComment,
  Retcode,
  retcodeName,
  type SymbolInfo,
} from "../../../shared/protocol/index.ts";
import type { BackendEvent, OpenOrder } from "../../backend/backend.ts";
import type { AccountTradeMode, EaHello } from "../../backend/terminal/hello.ts";
import type { TradeOutcome } from "../../backend/terminal/trades.ts";
import type { SelftestBackend, StepRecorder } from "./steps.ts";

export interface RoundTripOptions {
  readonly backend: SelftestBackend;
  readonly steps: StepRecorder;
  readonly hello: EaHello | undefined;
  /** The trade mode GET_ACCOUNT reported (undefined when that step failed). */
  readonly accountTradeMode: AccountTradeMode | undefined;
  readonly info: SymbolInfo | undefined;
  /** The filling the EA said it sends for the symbol. */
  readonly filling: string | undefined;
  readonly clock: Clock;
  readonly magic: number;
  readonly eventTimeoutMs: number;
}

/** The start of a trip's client_order_ids: unique per run, short enough for the 24-char limit. */
export function runId(clock: Clock): string {
  return `st${clock.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
}

/** Throw `message` unless `condition`. */
export function expectThat(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** "10009 DONE from SERVER (Request executed)" for messages. */
export function describeRetcode(outcome: TradeOutcome): string {
  const { retcode, comment } = outcome.result;
  return `${retcode} ${retcodeName(retcode)} from ${outcome.source}${comment === "" ? "" : ` (${comment})`}`;
}

/** The price grid the EA puts SL/TP on: the nearest multiple of the tick size (§10.2). */
export function onTickGrid(price: number, info: SymbolInfo): number {
  const tick = info.tick_size > 0 ? info.tick_size : info.point;
  const scale = 10 ** info.digits;
  return Math.round(Math.round(price / tick) * tick * scale) / scale;
}

/** Points between the price and the test SL/TP: far beyond the stops, freeze level and spread. */
export function safeDistancePoints(info: SymbolInfo): number {
  return Math.max(2 * Math.max(info.stops_level, info.freeze_level), 10 * info.spread, 100);
}

/**
 * Why --trade must not trade here, or undefined: both the HELLO of the session and MT5 asked again
 * through GET_ACCOUNT must say DEMO, the link must be UP, the symbol tradable and in session.
 */
export function tradingRefusal(
  options: Pick<RoundTripOptions, "backend" | "hello" | "accountTradeMode" | "info">,
): string | undefined {
  const { hello, info } = options;
  const modes = [hello?.account_trade_mode ?? "unknown", options.accountTradeMode ?? "unknown"];
  const mode = modes.find((m) => m !== "DEMO");
  if (mode !== undefined) {
    return `refusing to trade: account_trade_mode is ${mode} (HELLO ${modes[0]}, GET_ACCOUNT ${modes[1]}); --trade runs only on DEMO accounts`;
  }
  const link = options.backend.link();
  if (link.state !== "UP") {
    return `refusing to trade: the link is ${link.state} (${link.detail ?? ""})`;
  }
  if (info === undefined || info.trade_mode !== "FULL" || !info.session_open) {
    return `refusing to trade: ${info === undefined ? "no usable symbol info" : `trade mode ${info.trade_mode}, session ${info.session_open ? "open" : "closed"}`}`;
  }
  return undefined;
}

/** The market round trip; call it only when tradingRefusal() found nothing. */
export async function runTradeRoundTrip(
  options: RoundTripOptions & { readonly info: SymbolInfo },
): Promise<void> {
  const { backend, steps, info, clock, magic } = options;
  const events = new EventLog(backend, options.eventTimeoutMs);
  const base = runId(clock);
  let ticket: number | undefined;
  let closed = false;
  try {
    const openOrder: OpenOrder = {
      clientOrderId: `${base}o`,
      symbol: info.symbol,
      side: "BUY",
      volume: info.volume_min,
      sl: null,
      tp: null,
      deviation: 20,
      magic,
      comment: orderComment(`${base}o`, "selftest"),
    };
    const opened = await steps.step("open", async () => {
      const outcome = await backend.openDetailed(openOrder);
      expectThat(
        outcome.result.retcode !== Retcode.INVALID_FILL,
        `${describeRetcode(outcome)}: the broker refused ORDER_FILLING_${outcome.filling ?? options.filling} on ${info.execution_mode} execution (modes ${info.filling_modes.join(",")}); report it (docs/MT5-SETUP.md §10)`,
      );
      expectThat(outcome.result.retcode === Retcode.DONE, describeRetcode(outcome));
      const deal = await events.waitFor(
        (e) => e.type === "DEAL" && e.deal.ticket === outcome.result.deal,
        `DEAL event for deal ${outcome.result.deal}`,
      );
      // §10.3: the reply's position may be 0 (not known yet); the DEAL event has it
      ticket = deal.type === "DEAL" ? deal.deal.position : outcome.result.position;
      return [
        outcome,
        `BUY ${info.volume_min} ${info.symbol} with ORDER_FILLING_${outcome.filling ?? "?"}: ticket ${ticket} (reply named ${outcome.result.position === 0 ? "no position yet" : `position ${outcome.result.position}`}), deal ${outcome.result.deal} at ${outcome.result.price}; DEAL event seen`,
      ];
    });
    if (opened === undefined || ticket === undefined) return;
    const position = ticket;

    const repeated = await steps.step("duplicate", async () => {
      const again = await backend.openDetailed(openOrder);
      expectThat(
        again.duplicate,
        `the repeated OPEN was not answered from the EA's dedup store (${describeRetcode(again)})`,
      );
      expectThat(
        again.result.deal === opened.result.deal,
        `the repeat names deal ${again.result.deal}`,
      );
      const now = clock.now();
      const tagged = (
        await backend.deals({ from: now - 3600_000, to: now + 3600_000, magic })
      ).filter((deal) => hasCommentTag(deal.comment, openOrder.clientOrderId));
      expectThat(tagged.length === 1, `${tagged.length} deals carry the order's tag, expected 1`);
      return [again, "answered from the dedup store (duplicate: true), no second deal"];
    });
    if (repeated === undefined) return;

    const modified = await steps.step("modify", async () => {
      const now = await backend.symbolInfo(info.symbol);
      if (now === undefined) throw new Error(`${info.symbol} disappeared`);
      const points = safeDistancePoints(now);
      const tick = now.tick_size > 0 ? now.tick_size : now.point;
      // Off the grid by 0.4 tick on purpose: the EA must put them back on it (§10.2)
      const asked = {
        sl: now.bid - points * now.point + 0.4 * tick,
        tp: now.bid + points * now.point - 0.4 * tick,
      };
      const sl = onTickGrid(asked.sl, now);
      const tp = onTickGrid(asked.tp, now);
      const outcome = await backend.modifyDetailed({
        clientOrderId: `${base}m`,
        ticket: position,
        sl: asked.sl,
        tp: asked.tp,
      });
      expectThat(outcome.result.retcode === Retcode.DONE, describeRetcode(outcome));
      expectThat(
        outcome.sl === sl && outcome.tp === tp,
        `the EA sent SL ${outcome.sl} / TP ${outcome.tp}, not the tick grid's ${sl} / ${tp}`,
      );
      await events.waitFor(
        (e) => e.type === "POSITION_MODIFIED" && e.position.ticket === position,
        `POSITION_MODIFIED event for ticket ${position}`,
      );
      const after = (await backend.positions()).find((p) => p.ticket === position);
      expectThat(
        after?.sl === sl && after.tp === tp,
        `position shows SL ${after?.sl} / TP ${after?.tp}`,
      );
      return [
        outcome,
        `SL ${sl} / TP ${tp} (${points} points from the bid, sent off the ${tick} tick grid and rounded onto it by the EA); POSITION_MODIFIED event seen`,
      ];
    });
    if (modified === undefined) return;

    await steps.step("close", async () => {
      const outcome = await backend.closeDetailed({
        clientOrderId: `${base}c`,
        ticket: position,
        volume: null,
        deviation: 20,
        magic,
        comment: orderComment(`${base}c`, "selftest"),
      });
      expectThat(outcome.result.retcode === Retcode.DONE, describeRetcode(outcome));
      await events.waitFor(
        (e) => e.type === "DEAL" && e.deal.position === position && e.deal.entry === "OUT",
        `DEAL event with entry OUT for ticket ${position}`,
      );
      await events.waitFor(
        (e) => e.type === "POSITION_CLOSED" && e.ticket === position,
        `POSITION_CLOSED event for ticket ${position}`,
      );
      const still = (await backend.positions()).some((p) => p.ticket === position);
      expectThat(!still, `GET_POSITIONS still lists ticket ${position}`);
      closed = true;
      return [
        outcome,
        `closed at ${outcome.result.price}; DEAL (OUT) and POSITION_CLOSED seen, ticket gone`,
      ];
    });
  } finally {
    events.stop();
    if (ticket !== undefined && !closed) {
      steps.note(
        `test position ${ticket} on ${info.symbol} is left open for inspection; close it by hand`,
      );
    }
  }
}

/** Backend events since the trip began, with bounded waits (real timers: this waits on I/O). */
export class EventLog {
  readonly #events: BackendEvent[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #unsubscribe: () => void;
  readonly #timeoutMs: number;

  constructor(backend: SelftestBackend, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#unsubscribe = backend.subscribe((event) => {
      this.#events.push(event);
      for (const wake of this.#waiters) wake();
    });
  }

  async waitFor(match: (event: BackendEvent) => boolean, what: string): Promise<BackendEvent> {
    const found = () => this.#events.find(match);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    try {
      return await new Promise<BackendEvent>((resolve, reject) => {
        wake = () => {
          const event = found();
          if (event !== undefined) resolve(event);
        };
        this.#waiters.add(wake);
        wake();
        timer = setTimeout(
          () => reject(new Error(`no ${what} within ${this.#timeoutMs} ms`)),
          this.#timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
      if (wake !== undefined) this.#waiters.delete(wake);
    }
  }

  stop(): void {
    this.#unsubscribe();
    this.#waiters.clear();
  }
}
