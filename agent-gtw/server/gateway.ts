/**
 * The gateway's request handler: one message in (the frames after the routing id), one reply
 * out. PING and the queries are answered here; signed actions go to the executor. No sockets:
 * server.ts feeds it, and tests call it directly.
 */
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import {
  ErrorCode,
  errorReply,
  okReply,
  type PingReply,
  parseMessage,
  type Reply,
  type SignatureWindowInfo,
  type TradingState,
} from "../../shared/protocol/index.ts";
import type { TradingStateHolder } from "../../shared/trading-state.ts";
import type { Backend } from "../backend/backend.ts";
import { MarketHandler } from "../market/market-handler.ts";
import type { OrderExecutor } from "../orders/executor.ts";
import { Journal } from "../orders/journal.ts";
import type { StreamConnection, StreamHub } from "../streaming/stream-hub.ts";
import { answerPendingRead, currentPendingOrder } from "./pending-reads.ts";
import { readFailure } from "./read-failure.ts";
import type { Refusals } from "./refusals.ts";

export interface GatewayOptions {
  readonly name: string;
  readonly version: string;
  readonly backend: Backend;
  readonly executor: OrderExecutor;
  readonly journal: Journal;
  readonly tradingState: TradingStateHolder;
  readonly clock: Clock;
  readonly logger: Logger;
  /** SUBSCRIBE / UNSUBSCRIBE / RESYNC; without it they are refused (in-process tests). */
  readonly streaming?: StreamHub;
  /** The verifier's freshness window, told to clients in PING so they judge their clock by it. */
  readonly signatureWindow?: SignatureWindowInfo;
  /** Counts and bounds the log lines of malformed requests (server/refusals.ts). */
  readonly refusals?: Refusals;
}

export class Gateway {
  readonly #options: GatewayOptions;
  readonly #market: MarketHandler;
  #draining = false;
  /** Replies by outcome since start, for the status file. */
  readonly counters = { requests: 0, filled: 0, rejected: 0, errors: 0 };

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#market = new MarketHandler({
      reads: options.backend.market,
      clock: options.clock,
      logger: options.logger,
    });
  }

  /**
   * The state orders are checked against: the operator's choice, tightened to HALTED while MT5
   * cannot be reached or refuses to trade (issue 5: the link state drives the trading state).
   */
  effectiveTradingState(): TradingState {
    const link = this.#options.backend.link().state;
    return link === "UP" ? this.#options.tradingState.state : "HALTED";
  }

  /** Stop taking signed actions (graceful shutdown); queries keep working until the socket closes. */
  drain(): void {
    this.#draining = true;
  }

  /** Take signed actions again after a drain that did not end in a stop (operator/drain.ts). */
  resume(): void {
    this.#draining = false;
  }

  /** `connection` identifies the sender for streaming requests (server.ts passes it). */
  async handle(
    frames: readonly Uint8Array[],
    client: string,
    connection?: StreamConnection,
  ): Promise<Reply> {
    this.counters.requests += 1;
    let reply: Reply;
    try {
      reply = await this.#dispatch(frames, client, connection);
    } catch (error) {
      // A bug, not a refusal: say so, and point the client at GET_ORDER before anything else.
      this.#options.logger.error("Request failed unexpectedly", {
        client,
        error: (error as Error).stack ?? String(error),
      });
      reply = errorReply(
        "",
        ErrorCode.INTERNAL_ERROR,
        "internal error; ask GET_ORDER before re-sending anything",
      );
    }
    if (reply.status === "FILLED") this.counters.filled += 1;
    else if (reply.status === "REJECTED") this.counters.rejected += 1;
    else if (reply.status === "ERROR") this.counters.errors += 1;
    return reply;
  }

  async #dispatch(
    frames: readonly Uint8Array[],
    client: string,
    connection: StreamConnection | undefined,
  ): Promise<Reply> {
    const parsed = parseMessage(frames);
    if (!parsed.ok) {
      const log = () =>
        this.#options.logger.warn("Malformed request refused", {
          client,
          code: parsed.error.code,
          reason: parsed.error.message,
        });
      if (this.#options.refusals === undefined) log();
      else this.#options.refusals.record("malformed_request", log);
      return errorReply(parsed.error.id ?? "", parsed.error.code, parsed.error.message);
    }
    const { request } = parsed;
    const { backend, journal } = this.#options;
    const id = request.id;
    switch (request.action) {
      case "PING":
        return this.#ping(id, client);
      case "GET_ACCOUNT":
        return this.#query(id, async () => ({ account: await backend.account() }));
      case "GET_POSITIONS":
        return this.#query(id, async () => ({
          positions: await backend.positions(request.symbol),
        }));
      case "GET_SYMBOL_INFO":
        return this.#query(id, async () => {
          const info = await backend.symbolInfo(request.symbol);
          if (info === undefined)
            return errorReply(
              id,
              ErrorCode.UNKNOWN_SYMBOL,
              `the broker does not know ${request.symbol}`,
            );
          return { symbol_info: info };
        });
      case "GET_ORDER": {
        let entry = journal.lookup(client, request.client_order_id);
        if (entry?.state === "UNKNOWN") {
          // Someone is waiting on this outcome: try to settle it now rather than at the next tick.
          await this.#options.executor.reconcileUnresolved();
          entry = journal.lookup(client, request.client_order_id);
        }
        if (entry === undefined) return okReply(id, { order: null });
        const placed = await currentPendingOrder(entry, backend, this.#options.clock.now());
        return okReply(id, {
          order: Journal.toRecord(entry),
          ...(placed === undefined ? {} : { pending_order: placed }),
        });
      }
      case "GET_SYMBOLS":
      case "GET_TICK":
      case "GET_RATES":
      case "GET_TICKS":
      case "GET_HISTORY_DEALS":
      case "GET_HISTORY_ORDERS":
        return this.#market.handle(request, client);
      case "GET_ORDERS":
      case "ORDER_CHECK":
      case "CALC_MARGIN":
      case "CALC_PROFIT":
        return this.#query(id, () => answerPendingRead(request, backend));
      case "SUBSCRIBE":
      case "UNSUBSCRIBE":
      case "RESYNC": {
        const streaming = this.#options.streaming;
        if (streaming === undefined)
          return errorReply(id, ErrorCode.INVALID_REQUEST, "this gateway does not stream events");
        return streaming.handle(request, connection, client);
      }
      default:
        if (this.#draining)
          return errorReply(
            id,
            ErrorCode.SHUTTING_DOWN,
            "the gateway is shutting down and took nothing",
          );
        return this.#options.executor.execute(
          request,
          parsed.requestBytes,
          parsed.signature,
          client,
        );
    }
  }

  #ping(id: string, client: string): PingReply {
    const { backend, clock, name, version, signatureWindow } = this.#options;
    const link = backend.link();
    return okReply(id, {
      gateway: name,
      server_time: clock.now(),
      trading_state: this.effectiveTradingState(),
      mt5: {
        link: link.state,
        backend: backend.kind,
        ...(link.serverTime === undefined ? {} : { server_time: link.serverTime }),
        ...(link.serverOffsetMs === undefined ? {} : { server_offset_ms: link.serverOffsetMs }),
        ...(link.detail === undefined ? {} : { detail: link.detail }),
      },
      version,
      ...(signatureWindow === undefined ? {} : { signature_window: signatureWindow }),
      client,
    });
  }

  async #query(id: string, run: () => Promise<object | Reply>): Promise<Reply> {
    try {
      const body = await run();
      return "status" in body ? (body as Reply) : okReply(id, body);
    } catch (error) {
      return readFailure(id, error);
    }
  }
}
