/**
 * Test-only: a gateway client for the lane's stream sync whose answers the test scripts
 * (positions, deals and pending orders for RESYNC, refused symbols, a gate that holds RESYNC
 * answers back), and a LaneStream wired to it with a live view and a recording feed.
 * Production code never imports this file.
 */
import { silentLogger } from "../../../shared/log.ts";
import type {
  Deal,
  Position,
  Reply,
  ResyncReply,
  StreamEvent,
  TradeOrder,
} from "../../../shared/protocol/index.ts";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import type { GatewayEvent, GatewayStatus, StatusListener } from "../../gateway/events.ts";
import type { QueryBody } from "../../gateway/gateway-client.ts";
import { type FeedEvent, LaneFeed } from "../feed.ts";
import { LiveView } from "../live-view.ts";
import { LaneStream, type StreamClient } from "../sync.ts";

export class ScriptedClient implements StreamClient {
  readonly name = "gtw-1";
  connected = false;
  readonly asked: QueryBody[] = [];
  positions: Position[] = [];
  deals: Deal[] = [];
  /** RESYNC's `orders`; undefined: a backend without pending orders sends none. */
  orders: TradeOrder[] | undefined;
  unknown = new Set<string>();
  /** When set, RESYNC answers wait for it. */
  gate: Promise<void> | undefined;
  readonly #events = new Set<(event: GatewayEvent) => void>();
  readonly #statuses = new Set<StatusListener>();

  async query(body: QueryBody): Promise<Reply> {
    this.asked.push(body);
    if (body.action === "SUBSCRIBE") {
      const symbol = (body["symbols"] as string[] | undefined)?.[0];
      if (symbol !== undefined && this.unknown.has(symbol))
        return { v: 1, id: "x", status: "REJECTED", error_code: "UNKNOWN_SYMBOL", error_msg: "no" };
      return {
        v: 1,
        id: "x",
        status: "OK",
        subscription: { quotes: [], events: true },
        seq: 0,
        server_time: 1000,
      } as Reply;
    }
    if (body.action === "RESYNC") {
      const positions = this.positions;
      const since = body["since"] as number;
      const after = body["after_deal"] as number;
      await this.gate;
      const deals = this.deals.filter(
        (d) => d.time > since || (d.time === since && d.ticket > after),
      );
      return {
        v: 1,
        id: "x",
        status: "OK",
        positions,
        deals,
        more: false,
        server_time: 2000,
        ...(this.orders === undefined ? {} : { orders: this.orders }),
      } as ResyncReply;
    }
    return { v: 1, id: "x", status: "OK" };
  }
  onEvent(listener: (event: GatewayEvent) => void) {
    this.#events.add(listener);
    return () => this.#events.delete(listener);
  }
  onStatus(listener: StatusListener) {
    this.#statuses.add(listener);
    return () => this.#statuses.delete(listener);
  }
  up() {
    this.connected = true;
    this.#tell({ type: "connected" });
  }
  down() {
    this.connected = false;
    this.#tell({ type: "disconnected", reason: "test" });
  }
  #tell(status: GatewayStatus) {
    for (const listener of this.#statuses) listener(status);
  }
  push(event: StreamEvent) {
    for (const listener of this.#events) listener({ event, seq: event.seq });
  }
}

export function deal(ticket: number, time: number, fields: Partial<Deal> = {}): Deal {
  return {
    ticket,
    order: ticket,
    position: ticket,
    symbol: "EURUSD",
    side: "BUY",
    entry: "IN",
    reason: "EXPERT",
    volume: 0.1,
    price: 1.1,
    profit: 0,
    commission: 0,
    swap: 0,
    magic: 1,
    comment: "",
    time,
    ...fields,
  };
}

export function position(ticket: number, fields: Partial<Position> = {}): Position {
  return {
    ticket,
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    price_open: 1.1,
    price_current: 1.1,
    sl: null,
    tp: null,
    profit: 0,
    swap: 0,
    magic: 1,
    comment: "",
    time: 1,
    time_update: 1,
    ...fields,
  };
}

export function setup() {
  const clock = new TestClock();
  const client = new ScriptedClient();
  const view = new LiveView(() => clock.monotonic());
  const feed = new LaneFeed("gtw-1", "t0");
  const told: FeedEvent[] = [];
  feed.add({ events: true, wantsQuote: () => false, quote: () => {}, event: (e) => told.push(e) });
  const stream = new LaneStream({
    client,
    view,
    feed,
    riskSymbols: ["EURUSD"],
    clock,
    logger: silentLogger,
    retryMs: 10,
  });
  stream.start();
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  };
  const kinds = () => told.map((event) => event.type);
  const dealsTold = () =>
    told.flatMap((event) =>
      event.type === "DEAL" ? [(JSON.parse(event.json) as { deal: Deal }).deal.ticket] : [],
    );
  return { clock, client, view, stream, told, settle, kinds, dealsTold };
}
