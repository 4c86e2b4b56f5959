/**
 * Test-only helpers for the sim's tests: a started SimBackend on a TestClock in a fresh temp
 * directory, with every event recorded, plus order builders. Production code never imports this.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogFields, Logger } from "../../../../shared/log.ts";
import type { TradeOrder } from "../../../../shared/protocol/index.ts";
import { TestClock } from "../../../../shared/testing/test-clock.ts";
import type { BackendEvent, CloseOrder, ModifyOrder, OpenOrder } from "../../backend.ts";
import type { HistoryCursor, HistoryQuery } from "../../market-reads.ts";
import {
  type CancelPendingOrder,
  type CloseByOrder,
  type ModifyPendingOrder,
  PLAIN_TERMS,
  type PlaceOrder,
} from "../../pending.ts";
import type { SimBackendOptions } from "../options.ts";
import { SimBackend } from "../sim-backend.ts";

/** Wednesday 2026-11-18 12:00 UTC, inside the forex session (TestClock's default). */
export const WEDNESDAY_NOON = Date.UTC(2026, 10, 18, 12, 0, 0);
/** Saturday 2026-11-21 12:00 UTC, inside the weekend close. */
export const SATURDAY_NOON = Date.UTC(2026, 10, 21, 12, 0, 0);

export type SimOverrides = Partial<Omit<SimBackendOptions, "clock" | "stateDir">>;

export class SimHarness {
  readonly clock: TestClock;
  readonly dir: string;
  readonly events: BackendEvent[] = [];
  sim: SimBackend;
  #options: SimOverrides;

  constructor(options: SimOverrides = {}, clock = new TestClock(WEDNESDAY_NOON), dir?: string) {
    this.clock = clock;
    this.dir = dir ?? mkdtempSync(join(tmpdir(), "sim-test-"));
    this.#options = options;
    this.sim = this.#build(options);
  }

  /** Events other than QUOTE, in order. */
  get tradeEvents(): BackendEvent[] {
    return this.events.filter((event) => event.type !== "QUOTE");
  }

  async start(): Promise<this> {
    await this.sim.start();
    return this;
  }

  /** Stop, then build and start a new SimBackend on the same directory and clock. */
  async restart(options: SimOverrides = this.#options): Promise<SimBackend> {
    await this.sim.stop();
    this.sim = this.#build(options);
    await this.sim.start();
    return this.sim;
  }

  async cleanup(): Promise<void> {
    await this.sim.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #build(options: SimOverrides): SimBackend {
    const sim = new SimBackend({ seed: 7, ...options, clock: this.clock, stateDir: this.dir });
    sim.subscribe((event) => this.events.push(event));
    return sim;
  }
}

export async function startSim(
  options: SimOverrides = {},
  clock = new TestClock(WEDNESDAY_NOON),
): Promise<SimHarness> {
  return new SimHarness(options, clock).start();
}

export function openOrder(overrides: Partial<OpenOrder> = {}): OpenOrder {
  return {
    clientOrderId: "c-open",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    sl: null,
    tp: null,
    deviation: 10,
    magic: 77,
    comment: "t:c-open",
    ...overrides,
  };
}

export function closeOrder(ticket: number, overrides: Partial<CloseOrder> = {}): CloseOrder {
  return {
    clientOrderId: "c-close",
    ticket,
    volume: null,
    deviation: 10,
    magic: 77,
    comment: "t:c-close",
    ...overrides,
  };
}

export function modifyOrder(ticket: number, overrides: Partial<ModifyOrder> = {}): ModifyOrder {
  return { clientOrderId: "c-modify", ticket, sl: undefined, tp: undefined, ...overrides };
}

export function placeOrder(overrides: Partial<PlaceOrder> = {}): PlaceOrder {
  return {
    clientOrderId: "c-place",
    symbol: "EURUSD",
    type: "BUY_LIMIT",
    volume: 0.1,
    price: 1.09,
    ...PLAIN_TERMS,
    magic: 77,
    comment: "t:c-place",
    ...overrides,
  };
}

export function modifyPending(
  ticket: number,
  overrides: Partial<ModifyPendingOrder> = {},
): ModifyPendingOrder {
  return {
    clientOrderId: "c-modify-order",
    ticket,
    price: undefined,
    stoplimit: undefined,
    sl: undefined,
    tp: undefined,
    typeTime: undefined,
    expiration: undefined,
    ...overrides,
  };
}

export function cancelPending(ticket: number): CancelPendingOrder {
  return { clientOrderId: "c-cancel", ticket };
}

export function closeByOrder(ticket: number, ticketBy: number): CloseByOrder {
  return { clientOrderId: "c-close-by", ticket, ticketBy, magic: 77, comment: "t:c-close-by" };
}

export interface RecordedLine {
  readonly level: "error" | "warn" | "info" | "debug";
  readonly message: string;
  readonly fields: LogFields | undefined;
}

/** A Logger that keeps every line, for tests that must see a warning was raised. */
export function recordingLogger(lines: RecordedLine[] = []): Logger & { lines: RecordedLine[] } {
  const record =
    (level: RecordedLine["level"]) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields });
    };
  const logger = {
    level: "debug" as const,
    lines,
    error: record("error"),
    warn: record("warn"),
    info: record("info"),
    debug: record("debug"),
    child: () => logger,
  };
  return logger;
}

/** Every order of the history (GET_HISTORY_ORDERS' read), all pages; by default all time. */
export async function historyOrders(
  sim: SimBackend,
  query: HistoryQuery = { kind: "range", from: 0, to: Number.MAX_SAFE_INTEGER },
): Promise<TradeOrder[]> {
  const out: TradeOrder[] = [];
  let after: HistoryCursor | undefined;
  for (;;) {
    const chunk = await sim.market.historyOrders(query, after, 500);
    out.push(...chunk.rows);
    if (chunk.next === undefined) return out;
    after = chunk.next;
  }
}

/** The history's pending and close-by orders (those that were in the order book). */
export async function bookOrderHistory(sim: SimBackend): Promise<TradeOrder[]> {
  return (await historyOrders(sim)).filter(
    (order) => order.type !== "BUY" && order.type !== "SELL",
  );
}
