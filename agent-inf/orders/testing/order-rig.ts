/**
 * Test-only: the order path without processes. One lane whose gateway client runs over a
 * FakePort on a TestClock, a real RiskMonitor, and a fake gateway that answers the snapshot
 * queries (account, positions, symbol) and signed actions as the test scripts. Production code
 * never imports this file.
 */
import { silentLogger } from "../../../shared/log.ts";
import {
  type AccountInfo,
  createSigner,
  generateSigningKeyPair,
  type Position,
  type Reply,
  type Request,
  type SymbolInfo,
  type TradeOrder,
} from "../../../shared/protocol/index.ts";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import { GatewayClient } from "../../gateway/gateway-client.ts";
import { type FakeAnswer, type FakeCall, FakePort, ok } from "../../gateway/testing/fake-port.ts";
import type { GatewayLane } from "../../lane/lane.ts";
import type { LiveMarket } from "../../live-view/live-view.ts";
import { RiskMonitor } from "../../risk/risk-monitor.ts";
import {
  BASE_MS,
  makeAccount,
  makeLimits,
  makePosition,
  makeSymbol,
} from "../../risk/testing/fixtures.ts";
import type { RiskLimits } from "../../risk/types.ts";
import { OrderService } from "../order-service.ts";

export const GATEWAY = "gtw-1";
const signer = createSigner({ keyId: "inf-1", secretKey: generateSigningKeyPair().secretKey });

/** What the fake gateway holds; tests change it between orders. */
export interface FakeBook {
  account: AccountInfo;
  positions: Position[];
  /** Pending orders (GET_ORDERS). */
  orders: TradeOrder[];
  symbols: SymbolInfo[];
}

export interface OrderRig {
  readonly clock: TestClock;
  readonly port: FakePort;
  readonly client: GatewayClient;
  readonly risk: RiskMonitor;
  readonly lane: GatewayLane & { breaker: { engaged: boolean } };
  readonly orders: OrderService;
  readonly book: FakeBook;
  /** How signed actions (OPEN, CLOSE, MODIFY, PLACE, …) and GET_ORDER are answered. */
  signed: (call: FakeCall) => FakeAnswer;
  order: (call: FakeCall) => FakeAnswer;
  /** A new OrderService on the same lane: what an agent restart forgets. */
  restart(): OrderService;
}

export interface OrderRigOptions {
  readonly limits?: Partial<RiskLimits>;
  readonly live?: LiveMarket;
  /** Start with the session down (default: up). */
  readonly disconnected?: boolean;
}

export function createOrderRig(options: OrderRigOptions = {}): OrderRig {
  const clock = new TestClock(BASE_MS);
  const port = new FakePort(clock, GATEWAY);
  if (options.disconnected !== true) port.connected = true;
  const client = new GatewayClient({
    port,
    signer,
    clock,
    logger: silentLogger,
    requestTimeoutMs: 100,
    orderTimeoutMs: 200,
    reconcileDeadlineMs: 2000,
  });
  const risk = new RiskMonitor({ limits: makeLimits(options.limits), clock });
  const breaker = { engaged: false };
  const lane = {
    client,
    risk,
    breaker,
    clockOffsetMs: () => 0,
    ...(options.live === undefined ? {} : { live: options.live }),
  };
  const book: FakeBook = {
    account: makeAccount(),
    positions: [makePosition()],
    orders: [],
    symbols: [makeSymbol({ quote_time: BASE_MS })],
  };
  const service = () =>
    new OrderService({
      gateways: {
        get: (name) => (name === undefined || name === GATEWAY ? lane : undefined),
        names: [GATEWAY],
        defaultName: GATEWAY,
      },
      clock,
      logger: silentLogger,
    });
  const rig: OrderRig = {
    clock,
    port,
    client,
    risk,
    lane,
    orders: service(),
    book,
    signed: (call) => filled(call.request),
    order: (call) => ok(call.request, { order: null }),
    restart: service,
  };
  port.answer = (call) => {
    const { request } = call;
    switch (request.action) {
      case "GET_ACCOUNT":
        return ok(request, { account: book.account });
      case "GET_POSITIONS":
        return ok(request, { positions: book.positions });
      case "GET_ORDERS": {
        const ticket = (request as { ticket?: number }).ticket;
        const orders = book.orders.filter((o) => ticket === undefined || o.ticket === ticket);
        return ok(request, { orders });
      }
      case "GET_SYMBOL_INFO": {
        const info = book.symbols.find((symbol) => symbol.symbol === request.symbol);
        return info === undefined
          ? error(request, "UNKNOWN_SYMBOL")
          : ok(request, { symbol_info: { ...info, quote_time: clock.now() } });
      }
      case "GET_ORDER":
        return rig.order(call);
      default:
        return rig.signed(call);
    }
  };
  return rig;
}

export function filled(request: Request, fields: Record<string, unknown> = {}): Reply {
  return {
    ...ok(request),
    status: "FILLED",
    ticket: 900,
    price: 1.1001,
    volume: 0.1,
    ...fields,
  } as Reply;
}

export function error(request: Request, code: string): Reply {
  return { ...ok(request), status: "ERROR", error_code: code, error_msg: code } as Reply;
}

/** BUY 0.1 EURUSD with stops 110 points under the ask and 200 over the bid: passes makeLimits. */
export const OPEN = {
  symbol: "EURUSD",
  side: "BUY",
  volume: 0.1,
  sl: 1.099,
  tp: 1.102,
} as const;
