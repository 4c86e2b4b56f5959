/**
 * The orders this agent finished lately, for the dashboard (GET /v1/recent-orders): a bounded
 * ring of intents with their outcome, round-trip latency and, when refused, the code and the
 * reason; and per gateway a histogram of order round trips (GET /v1/latency). Fed by the order
 * service's `orderFinished` event, like the metrics. In memory only: a restart starts it empty.
 */
import type { Clock } from "../../shared/clock.ts";
import {
  Histogram,
  type HistogramSnapshot,
  LATENCY_BUCKETS_S,
} from "../../shared/metrics/registry.ts";
import {
  type CloseOrderInput,
  type OpenOrderInput,
  type OrderEvents,
  type OrderResult,
  OrderService,
  type OrderServiceOptions,
} from "./order-service.ts";

/** How many finished orders the ring keeps. */
export const RECENT_ORDERS = 500;

export type OrderOutcome = OrderResult["outcome"];
export const ORDER_OUTCOMES = [
  "FILLED",
  "DENIED",
  "REJECTED",
  "ERROR",
  "UNKNOWN",
] as const satisfies readonly OrderOutcome[];

export interface OrderLogEntry {
  /** Increases by one per entry: a reader tells new entries from ones it has. */
  readonly seq: number;
  /** When the order finished, Unix ms. */
  readonly time: number;
  readonly gateway: string;
  readonly action: string;
  readonly client_order_id: string;
  readonly outcome: OrderOutcome;
  /** Risk, signing and the gateway's answer, as the order service measured it. */
  readonly latency_ms: number;
  /** Why it was refused: the denial code or the gateway's error_code. */
  readonly code?: string;
  readonly reason?: string;
  readonly symbol?: string;
  readonly side?: string;
  readonly ticket?: number;
  readonly volume?: number;
  readonly price?: number;
}

export interface OrderLogOptions {
  readonly clock: Clock;
  readonly size?: number;
  /**
   * The symbol of an open position's ticket on a gateway (undefined: the default one), when the
   * live view knows it (best effort).
   */
  readonly symbolOf?: (gateway: string | undefined, ticket: number) => string | undefined;
}

export class OrderLog implements OrderEvents {
  readonly #options: OrderLogOptions;
  readonly #size: number;
  readonly #ring: OrderLogEntry[] = [];
  readonly #latency = new Histogram(
    "order_seconds",
    "Order round trip by gateway",
    LATENCY_BUCKETS_S,
  );
  #seq = 0;

  constructor(options: OrderLogOptions) {
    this.#options = options;
    this.#size = options.size ?? RECENT_ORDERS;
  }

  orderFinished(...[action, result, durationMs]: Parameters<OrderEvents["orderFinished"]>): void {
    this.#seq += 1;
    const reply =
      "reply" in result ? (result.reply as unknown as Record<string, unknown>) : undefined;
    const number = (key: string) =>
      typeof reply?.[key] === "number" ? (reply[key] as number) : undefined;
    const ticket = number("ticket");
    const denialSymbol = result.outcome === "DENIED" ? result.denial.context["symbol"] : undefined;
    const symbol =
      typeof denialSymbol === "string"
        ? denialSymbol
        : ticket === undefined
          ? undefined
          : this.#options.symbolOf?.(result.gateway, ticket);
    const refusal = refusalOf(result);
    const volume = number("volume");
    const price = number("price");
    this.#ring.push({
      seq: this.#seq,
      time: this.#options.clock.now(),
      gateway: result.gateway,
      action,
      client_order_id: result.client_order_id,
      outcome: result.outcome,
      latency_ms: Math.round(durationMs * 1000) / 1000,
      ...refusal,
      ...(symbol === undefined ? {} : { symbol }),
      ...(ticket === undefined ? {} : { ticket }),
      ...(volume === undefined ? {} : { volume }),
      ...(price === undefined ? {} : { price }),
    });
    if (this.#ring.length > this.#size) this.#ring.shift();
    this.#latency.observe(durationMs / 1000, { gateway: result.gateway });
  }

  /**
   * What the intent asked for (its symbol, side, volume), once its caller has the result: the
   * result alone does not say. Fills in the newest entry of that order; fields it has stay.
   */
  describe(
    result: OrderResult,
    fields: { symbol?: string | undefined; side?: string; volume?: number | undefined },
  ): void {
    for (let i = this.#ring.length - 1; i >= 0; i--) {
      const entry = this.#ring[i] as OrderLogEntry;
      if (entry.client_order_id !== result.client_order_id || entry.gateway !== result.gateway)
        continue;
      const known = Object.fromEntries(
        Object.entries(fields).filter(([, value]) => value !== undefined),
      );
      this.#ring[i] = { ...known, ...entry };
      return;
    }
  }

  /** The symbol of position `ticket` while it is open (the live view forgets it once closed). */
  positionSymbol(gateway: string | undefined, ticket: number): string | undefined {
    return this.#options.symbolOf?.(gateway, ticket);
  }

  /** Newest first, at most `limit`, optionally of one gateway and of some outcomes. */
  recent(filter: {
    readonly limit: number;
    readonly gateway?: string;
    readonly outcomes?: ReadonlySet<OrderOutcome>;
  }): OrderLogEntry[] {
    const out: OrderLogEntry[] = [];
    for (let i = this.#ring.length - 1; i >= 0 && out.length < filter.limit; i--) {
      const entry = this.#ring[i] as OrderLogEntry;
      if (filter.gateway !== undefined && entry.gateway !== filter.gateway) continue;
      if (filter.outcomes !== undefined && !filter.outcomes.has(entry.outcome)) continue;
      out.push(entry);
    }
    return out;
  }

  /** Round trips of the orders finished on `gateway` since the agent started (seconds). */
  latency(gateway: string): HistogramSnapshot {
    return this.#latency.snapshot({ gateway });
  }
}

function refusalOf(result: OrderResult): { code?: string; reason?: string } {
  switch (result.outcome) {
    case "FILLED":
      return {};
    case "DENIED":
      return { code: result.denial.code, reason: result.denial.message };
    case "UNKNOWN":
      return { reason: result.reason };
    default:
      return {
        ...(result.reply.error_code === undefined ? {} : { code: result.reply.error_code }),
        ...(result.reply.error_msg === undefined ? {} : { reason: result.reply.error_msg }),
      };
  }
}

/** The order service, telling the order log what each intent asked for and how it ended. */
export class DescribedOrderService extends OrderService {
  readonly #log: OrderLog;

  constructor(options: OrderServiceOptions, log: OrderLog) {
    const events = options.events;
    super({
      ...options,
      events: {
        orderFinished(...finished) {
          events?.orderFinished(...finished);
          log.orderFinished(...finished);
        },
      },
    });
    this.#log = log;
  }

  override async open(input: OpenOrderInput): Promise<OrderResult> {
    const result = await super.open(input);
    this.#log.describe(result, { symbol: input.symbol, side: input.side, volume: input.volume });
    return result;
  }

  override async close(input: CloseOrderInput): Promise<OrderResult> {
    // Read before the close: once the position is gone the live view no longer knows its symbol
    const symbol = this.#log.positionSymbol(input.gateway, input.ticket);
    const result = await super.close(input);
    this.#log.describe(result, { symbol, volume: input.volume });
    return result;
  }
}
