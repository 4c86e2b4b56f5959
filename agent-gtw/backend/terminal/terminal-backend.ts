/**
 * The terminal backend: MetaTrader 5 through the GatewayBridge EA, which dials the gateway on
 * 127.0.0.1 (docs/EA-LINK.md). This class owns the session lifecycle, the heartbeat and the
 * link state; the wire lives in framing/session, the mapping in mapping/trade-mapping/events.
 *
 * Backend contract for trades (backend.ts): a resolved TradeResult is MT5's (or the EA's)
 * answer; BACKEND_UNAVAILABLE means the command certainly did not leave the gateway whole;
 * BACKEND_TIMEOUT means it may have, and the gateway reconciles it.
 */
import { type Clock, systemClock, type TimerHandle } from "../../../shared/clock.ts";
import { describeError } from "../../../shared/errors.ts";
import { type Logger, silentLogger } from "../../../shared/log.ts";
import type { AccountInfo, Deal, Position, SymbolInfo } from "../../../shared/protocol/index.ts";
import type {
  Backend,
  BackendEvent,
  BackendListener,
  CloseOrder,
  DealQuery,
  LinkStatus,
  ModifyOrder,
  OpenOrder,
} from "../backend.ts";
import type { CancelPendingOrder, ModifyPendingOrder, PlaceOrder } from "../pending.ts";
import { CommandQueue, DEFAULT_MAX_QUEUED_COMMANDS } from "./command-queue.ts";
import { EventMapper } from "./events.ts";
import { type EaHello, type EaPing, parsePing } from "./hello.ts";
import type { RandomBytes } from "./link-auth.ts";
import {
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_MAX_PENDING_CONNECTIONS,
  DEFAULT_PENDING_GRACE_MS,
  LinkServer,
} from "./link-server.ts";
import type { LinkSocket } from "./link-socket.ts";
import { LinkTracker, NOT_CONNECTED } from "./link-tracker.ts";
import { type AccountDetails, toAccountDetails } from "./mapping.ts";
import { type SymbolDetails, TerminalReads } from "./reads.ts";
import { ReplyChannel } from "./reply-channel.ts";
import { EaSession } from "./session.ts";
import { TerminalMarket } from "./terminal-market.ts";
import { TerminalTrades, type TradeOutcome } from "./trades.ts";

export interface TerminalBackendOptions {
  /** Loopback port the EA dials; 0 picks a free one (tests). */
  readonly port: number;
  /** The shared secret both ends prove they know (§2, §6.1); never sent. */
  readonly secret: string;
  /** PING interval (§8); 3 intervals without its REPLY mark the link DOWN. */
  readonly heartbeatMs: number;
  /** REPLY timeout of every other command (§6.3); a trade past it has an unknown outcome. */
  readonly commandTimeoutMs: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly helloTimeoutMs?: number;
  readonly maxQueuedCommands?: number;
  readonly maxPendingConnections?: number;
  readonly pendingGraceMs?: number;
  /** Refuse an EA logged into another account (HELLO_ACK WRONG_ACCOUNT, §6.2). */
  readonly expectedLogin?: number;
  /** The gateway's handshake nonces (tests); the OS CSPRNG by default. */
  readonly random?: RandomBytes;
}

/** §8: three heartbeats without the PING's REPLY. */
export const MISSED_PINGS = 3;

export { TerminalCommandError } from "./reply-channel.ts";

export class TerminalBackend implements Backend {
  readonly kind = "terminal" as const;
  /** Symbols, ticks, bars and the account history through the EA (terminal-market.ts). */
  readonly market: TerminalMarket;
  readonly #options: TerminalBackendOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #listeners = new Set<BackendListener>();
  readonly #tracker: LinkTracker;
  readonly #queue: CommandQueue;
  readonly #events: EventMapper;
  readonly #reads: TerminalReads;
  readonly #trades: TerminalTrades;
  readonly #channel: ReplyChannel;
  #server: LinkServer | undefined;
  #session: EaSession | undefined;
  #serial = 0;
  #heartbeat: TimerHandle | undefined;
  #quotes: { readonly symbols: readonly string[]; readonly throttleMs: number } | undefined;
  #lastPing: EaPing | undefined;
  #lastRoundTripMs: number | undefined;

  constructor(options: TerminalBackendOptions) {
    if (!(options.heartbeatMs > 0) || !(options.commandTimeoutMs > 0)) {
      throw new RangeError("terminal: heartbeatMs and commandTimeoutMs must be > 0");
    }
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger?.child("terminal") ?? silentLogger;
    this.#tracker = new LinkTracker(this.#clock, (link) => this.#linkChanged(link));
    this.#queue = new CommandQueue(
      options.maxQueuedCommands ?? DEFAULT_MAX_QUEUED_COMMANDS,
      () => this.#session,
    );
    this.#events = new EventMapper(this.#logger);
    this.#channel = new ReplyChannel(this.#queue, options.commandTimeoutMs, (error) =>
      this.#violation(error),
    );
    this.#reads = new TerminalReads(
      (cmd, fields) => this.#channel.exchange(cmd, fields),
      () => this.#tracker.time,
    );
    this.market = new TerminalMarket({
      exchange: (cmd, fields) => this.#channel.exchange(cmd, fields),
      guard: (run) => this.#channel.guard(run),
      reads: this.#reads,
      time: () => this.#tracker.time,
      serverTimeUnix: () => this.#tracker.link().serverTime,
      eaVersion: () => this.#session?.hello.ea_version,
      logger: this.#logger,
    });
    this.#trades = new TerminalTrades({
      logger: this.#logger,
      send: (cmd, fields) => this.#queue.enqueue(cmd, fields, options.commandTimeoutMs),
      serial: () => this.#serial,
      protocolError: (error) => this.#violation(error),
      findPosition: (ticket) => this.#channel.guard(() => this.#reads.findPosition(ticket)),
      time: () => this.#tracker.time,
    });
  }

  /** The port the EA must dial, once started. */
  get port(): number | undefined {
    return this.#server?.port;
  }

  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = new LinkServer({
      port: this.#options.port,
      secret: this.#options.secret,
      clock: this.#clock,
      logger: this.#logger,
      helloTimeoutMs: this.#options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
      maxPendingConnections: this.#options.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS,
      pendingGraceMs: this.#options.pendingGraceMs ?? DEFAULT_PENDING_GRACE_MS,
      expectedLogin: this.#options.expectedLogin,
      ...(this.#options.random === undefined ? {} : { random: this.#options.random }),
      accepted: (socket, hello) => this.#accepted(socket, hello),
    });
    const port = server.start();
    this.#server = server;
    this.#logger.info("Waiting for the EA", { address: `127.0.0.1:${port}` });
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    // Closing the session ends it through #onSessionClosed; without one, end it here
    if (this.#session !== undefined) this.#session.close("gateway stopping");
    else this.#endSession("gateway stopping");
    server.stop();
  }

  link(): LinkStatus {
    return this.#tracker.link();
  }

  /** The current EA's HELLO (§6.2); undefined while no EA is connected. */
  hello(): EaHello | undefined {
    return this.#session?.hello;
  }

  /** Why the last connection attempt failed its handshake, if it did (selftest, diagnosis). */
  handshakeFailure(): string | undefined {
    return this.#server?.lastFailure;
  }

  /** The last PING reply of the current session (terminal ping, EA uptime). */
  lastPing(): EaPing | undefined {
    return this.#lastPing;
  }

  /** Milliseconds the last PING took to be answered by the EA (heartbeat or explicit). */
  get lastRoundTripMs(): number | undefined {
    return this.#lastRoundTripMs;
  }

  /** An explicit PING (§7.1); also updates the link state. */
  async ping(): Promise<EaPing> {
    const started = this.#clock.monotonic();
    const reply = await this.#channel.exchange(
      "PING",
      {},
      this.#options.heartbeatMs * MISSED_PINGS,
    );
    const ping = this.#channel.parse(reply, parsePing);
    this.#lastPing = ping;
    this.#lastRoundTripMs = this.#clock.monotonic() - started;
    this.#tracker.report(ping);
    return ping;
  }

  async account(): Promise<AccountInfo> {
    return (await this.accountDetails()).account;
  }

  /** GET_ACCOUNT with the account's trade mode (DEMO/CONTEST/REAL) as MT5 reports it now. */
  async accountDetails(): Promise<AccountDetails> {
    return this.#channel.parse(await this.#channel.exchange("GET_ACCOUNT", {}), toAccountDetails);
  }

  positions(symbol?: string): Promise<Position[]> {
    return this.#channel.guard(() => this.#reads.positions(symbol));
  }

  async symbolInfo(symbol: string): Promise<SymbolInfo | undefined> {
    return (await this.symbolDetails(symbol))?.info;
  }

  /** GET_SYMBOL_INFO with the EA's own view: allowed order types and the filling it sends. */
  symbolDetails(symbol: string): Promise<SymbolDetails | undefined> {
    return this.#channel.guard(() => this.#reads.symbolDetails(symbol));
  }

  deals(query: DealQuery): Promise<Deal[]> {
    return this.#channel.guard(() => this.#reads.deals(query));
  }

  async open(order: OpenOrder) {
    return (await this.openDetailed(order)).result;
  }

  async close(order: CloseOrder) {
    return (await this.closeDetailed(order)).result;
  }

  async modify(order: ModifyOrder) {
    return (await this.modifyDetailed(order)).result;
  }

  /** open() with who decided the retcode and whether the EA answered from its dedup store. */
  openDetailed(order: OpenOrder): Promise<TradeOutcome> {
    return this.#trades.open(order);
  }

  closeDetailed(order: CloseOrder): Promise<TradeOutcome> {
    return this.#trades.close(order);
  }

  modifyDetailed(order: ModifyOrder): Promise<TradeOutcome> {
    return this.#trades.modify(order);
  }

  // Pending orders (EA-LINK §10.6) and pre-trade calculations (§7.9–§7.12)
  placeOrder: Backend["placeOrder"] = async (order) => (await this.#trades.place(order)).result;
  modifyOrder: Backend["modifyOrder"] = async (o) => (await this.#trades.modifyOrder(o)).result;
  cancelOrder: Backend["cancelOrder"] = async (order) => (await this.#trades.cancel(order)).result;
  closeBy: Backend["closeBy"] = async (order) => (await this.#trades.closeBy(order)).result;
  /** The calls above with who decided the retcode and whether the dedup store answered. */
  placeOrderDetailed = (order: PlaceOrder) => this.#trades.place(order);
  modifyOrderDetailed = (order: ModifyPendingOrder) => this.#trades.modifyOrder(order);
  cancelOrderDetailed = (order: CancelPendingOrder) => this.#trades.cancel(order);
  orders: Backend["orders"] = (filter) => this.#channel.guard(() => this.#reads.orders(filter));
  orderCheck: Backend["orderCheck"] = (o) => this.#channel.guard(() => this.#reads.orderCheck(o));
  calcMargin: Backend["calcMargin"] = (q) => this.#channel.guard(() => this.#reads.calcMargin(q));
  calcProfit: Backend["calcProfit"] = (q) => this.#channel.guard(() => this.#reads.calcProfit(q));

  /** FORGET (§7.7): only after reconciliation proved the attempt did not execute. */
  async forget(clientOrderId: string): Promise<boolean> {
    const reply = await this.#channel.exchange("FORGET", { client_order_id: clientOrderId });
    this.#trades.forgotten(clientOrderId);
    return this.#channel.parse(reply, (fields) => fields.boolean("forgotten"));
  }

  /**
   * SUBSCRIBE_TICKS (§7.8): QUOTE events for these symbols, at most one scan per `throttleMs`.
   * Replaces the previous set; an empty list unsubscribes. Renewed after every reconnect.
   */
  async subscribeQuotes(
    symbols: readonly string[],
    throttleMs: number,
  ): Promise<{ subscribed: number; throttleMs: number }> {
    if (symbols.length > 64 || symbols.some((symbol) => !/^[^,\s]{1,32}$/.test(symbol))) {
      throw new RangeError("terminal: at most 64 symbols without commas or spaces");
    }
    if (!Number.isSafeInteger(throttleMs) || throttleMs < 10 || throttleMs > 60_000) {
      throw new RangeError(`terminal: throttleMs must be 10–60000 (was ${throttleMs})`);
    }
    this.#quotes = symbols.length === 0 ? undefined : { symbols: [...symbols], throttleMs };
    const reply = await this.#channel.exchange("SUBSCRIBE_TICKS", {
      symbols: symbols.join(","),
      throttle_ms: throttleMs,
    });
    return this.#channel.parse(reply, (fields) => ({
      subscribed: fields.integer("subscribed"),
      throttleMs: fields.integer("throttle_ms"),
    }));
  }

  subscribe(listener: BackendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // -------------------------------------------------------------------------------------------

  #accepted(socket: LinkSocket, hello: EaHello): void {
    if (this.#server === undefined) {
      socket.destroy("gateway stopping");
      return;
    }
    const previous = this.#session;
    this.#serial += 1;
    const session = new EaSession(this.#serial, socket, hello, this.#clock, {
      event: (message) => this.#onEvent(session, message),
      closed: (closed, reason) => this.#onSessionClosed(closed, reason),
    });
    // The new session is current before the old one closes, so commands still waiting in the
    // queue (never sent) go to it instead of failing (§1: a second valid HELLO replaces the first)
    this.#session = session;
    if (previous !== undefined) {
      this.#logger.warn("A new EA connection replaces the current one", {
        previous: previous.address,
        address: session.address,
      });
      previous.close(`replaced by a new EA connection from ${session.address}`);
    }
    session.sendRaw({ type: "HELLO_ACK", ok: true, heartbeat_ms: this.#options.heartbeatMs });
    socket.maxPayloadBytes = 1_048_576;
    this.#events.newSession();
    this.#trades.newSession();
    this.#lastPing = undefined;
    this.#lastRoundTripMs = undefined;
    this.#heartbeat?.cancel();
    this.#heartbeat = this.#clock.setInterval(() => this.#beat(), this.#options.heartbeatMs);
    this.#logger.info("EA connected", {
      address: session.address,
      login: hello.login,
      server: hello.server,
      account_trade_mode: hello.account_trade_mode,
      margin_mode: hello.margin_mode,
      terminal_build: hello.terminal_build,
      ea_version: hello.ea_version,
      dedup_entries: hello.dedup_entries,
    });
    this.#tracker.report(hello.status);
    this.#queue.pump();
    if (this.#quotes !== undefined) {
      const { symbols, throttleMs } = this.#quotes;
      this.subscribeQuotes(symbols, throttleMs).catch((error: unknown) =>
        this.#logger.warn("Could not renew the quote subscription", {
          error: describeError(error),
        }),
      );
    }
  }

  #onSessionClosed(session: EaSession, reason: string): void {
    if (session !== this.#session) return; // a replaced session
    this.#session = undefined;
    // Our own stop is routine; anything else is worth a warning
    const fields = { address: session.address, reason };
    if (this.#server === undefined) this.#logger.info("EA disconnected", fields);
    else this.#logger.warn("EA disconnected", fields);
    this.#endSession(reason.startsWith("no REPLY to PING") ? silentDetail(reason) : reason);
  }

  #endSession(detail: string): void {
    this.#lastPing = undefined;
    this.#lastRoundTripMs = undefined;
    this.#heartbeat?.cancel();
    this.#heartbeat = undefined;
    this.#queue.failAll(detail);
    this.#tracker.disconnected(`${NOT_CONNECTED}: ${detail}`);
  }

  /** §8: PING while idle; a PING's own timeout (3 heartbeats) ends a silent session. */
  #beat(): void {
    if (!this.#queue.idle) return;
    this.ping().catch((error: unknown) =>
      this.#logger.debug("PING failed", { error: describeError(error) }),
    );
  }

  #onEvent(session: EaSession, message: Readonly<Record<string, unknown>>): void {
    const time = this.#tracker.time;
    if (session !== this.#session || time === undefined) return;
    let events: BackendEvent[];
    try {
      events = this.#events.map(message, time);
    } catch (error) {
      this.#violation(error);
      return;
    }
    for (const event of events) this.#emit(event);
  }

  #violation(error: unknown): void {
    this.#logger.error("EA broke the link protocol; closing the link", {
      error: describeError(error),
    });
    this.#session?.close(`protocol violation: ${describeError(error)}`);
  }

  #linkChanged(link: LinkStatus): void {
    const fields = { state: link.state, detail: link.detail };
    if (link.state === "UP" || this.#server === undefined)
      this.#logger.info("MT5 link state", fields);
    else this.#logger.warn("MT5 link state", fields);
    this.#emit({ type: "LINK_STATE", link });
  }

  #emit(event: BackendEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.error("Backend listener threw", { error: describeError(error) });
      }
    }
  }
}

function silentDetail(reason: string): string {
  return `EA silent: no PING reply for ${MISSED_PINGS} heartbeats (${reason})`;
}
