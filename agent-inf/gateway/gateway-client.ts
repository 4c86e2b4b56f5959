/**
 * agent-inf's connection to one gateway: a CURVE DEALER with the gateway's key pinned, requests
 * matched to replies by id, per-call timeouts.
 *
 * Queries and PING are retried freely. Signed actions are never re-sent blindly (DESIGN §6,
 * PROTOCOL.md §8): after a timeout the client asks GET_ORDER for the client_order_id and re-sends
 * the same intent (same client_order_id, new id, ts and signature) only when the gateway says it
 * never saw it or proved it NOT_EXECUTED. If the gateway stays unreachable, the outcome is
 * reported as UNKNOWN, not as a failure.
 */
import type { Clock } from "../../shared/clock.ts";
import { fingerprint } from "../../shared/curve/z85.ts";
import type { Logger } from "../../shared/log.ts";
import { DealerSocket, type SocketEvent } from "../../shared/net/index.ts";
import {
  type Action,
  decodeMessage,
  encodeRequest,
  isEventObject,
  newClientOrderId,
  newRequestId,
  type OrderRecord,
  parseReplyObject,
  type Reply,
  type Request,
  type SignedAction,
  type Signer,
} from "../../shared/protocol/index.ts";
import { type ConnectionListener, type EventListener, GatewayEvents } from "./events.ts";

export type { GatewayEvent } from "./events.ts";

export interface GatewayClientOptions {
  /** The gateway's name: it goes into every signed order. */
  readonly name: string;
  readonly endpoint: string;
  readonly serverKey: Uint8Array;
  readonly clientPublicKey: Uint8Array;
  readonly clientSecretKey: Uint8Array;
  readonly signer: Signer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Wait this long for the reply to a PING or query before retrying it. */
  readonly requestTimeoutMs?: number;
  /** Retries of a PING or query after a timeout. */
  readonly queryRetries?: number;
  /** Wait this long for the reply to a signed action before asking GET_ORDER. */
  readonly orderTimeoutMs?: number;
  /** Keep reconciling a timed-out order this long before calling its outcome UNKNOWN. */
  readonly reconcileDeadlineMs?: number;
  /** ZMTP heartbeat on the connection (dead-peer detection within a few seconds). */
  readonly transportHeartbeatMs?: number;
}

/** Signed-action fields the caller gives; the client adds v, id, ts, gateway, key_id. */
export type SignedBody = {
  readonly action: SignedAction;
  readonly client_order_id?: string;
} & Readonly<Record<string, unknown>>;
/** Unsigned request fields; the client adds v, id, ts. */
export type QueryBody = { readonly action: Exclude<Action, SignedAction> } & Readonly<
  Record<string, unknown>
>;

export type OrderOutcome =
  /** The gateway answered (FILLED, REJECTED or ERROR), possibly after reconciliation. */
  | {
      readonly kind: "answered";
      readonly clientOrderId: string;
      readonly reply: Reply;
      readonly attempts: number;
    }
  /** No answer could be had: the order may or may not have executed. */
  | {
      readonly kind: "unknown";
      readonly clientOrderId: string;
      readonly reason: string;
      readonly attempts: number;
    };

export class RequestTimeout extends Error {
  constructor(action: string, timeoutMs: number) {
    super(`no reply to ${action} within ${timeoutMs} ms`);
    this.name = "RequestTimeout";
  }
}

const DEFAULTS = {
  requestTimeoutMs: 3000,
  queryRetries: 2,
  orderTimeoutMs: 10_000,
  reconcileDeadlineMs: 30_000,
  transportHeartbeatMs: 1000,
  /** Times the same intent may be sent (first try included) after "never seen" answers. */
  maxSendAttempts: 3,
  pollIntervalMs: 250,
} as const;

interface Waiter {
  readonly resolve: (reply: Reply) => void;
  readonly action: Action;
}

export class GatewayClient {
  readonly name: string;
  readonly endpoint: string;
  readonly #options: GatewayClientOptions;
  readonly #socket: DealerSocket;
  readonly #waiting = new Map<string, Waiter>();
  readonly #log: Logger;
  readonly #stream: GatewayEvents;
  #connected = false;
  #closed = false;

  constructor(options: GatewayClientOptions) {
    this.#options = options;
    this.name = options.name;
    this.endpoint = options.endpoint;
    this.#log = options.logger;
    this.#stream = new GatewayEvents(options.name, options.logger);
    const heartbeat = options.transportHeartbeatMs ?? DEFAULTS.transportHeartbeatMs;
    this.#socket = new DealerSocket({
      security: {
        mechanism: "CURVE",
        role: "client",
        publicKey: options.clientPublicKey,
        secretKey: options.clientSecretKey,
        serverKey: options.serverKey,
      },
      clock: options.clock,
      heartbeatIntervalMs: heartbeat,
      heartbeatTimeoutMs: heartbeat * 3,
      heartbeatTtlMs: heartbeat * 3,
      reconnectIntervalMs: 100,
      reconnectIntervalMaxMs: 1000,
      // A refused key might be authorized later by the gateway operator: keep knocking, slowly.
      reconnectAfterAuthFailure: true,
      // Replies carry positions lists; requests we send are small.
      maxMessageSize: 4 * 1024 * 1024,
      // Few messages should wait for a connection: stale orders would only expire at the gateway.
      sendHighWaterMark: 256,
    });
    this.#socket.on((event) => this.#onEvent(event));
    this.#socket.onMessage((parts) => this.#onReply(parts));
  }

  /** Whether the CURVE session to the gateway is up right now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Resolve true once the session is up, false if it is not up within `timeoutMs`. */
  async waitConnected(timeoutMs: number): Promise<boolean> {
    const deadline = this.#options.clock.monotonic() + timeoutMs;
    while (!this.#connected && !this.#closed && this.#options.clock.monotonic() < deadline) {
      await sleepOn(this.#options.clock, 20);
    }
    return this.#connected;
  }

  connect(): void {
    this.#socket.connect(this.endpoint);
  }

  /** Stream events (after a SUBSCRIBE); returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    return this.#stream.onEvent(listener);
  }

  /** Session up/down changes; returns the unsubscribe function. */
  onConnection(listener: ConnectionListener): () => void {
    return this.#stream.onConnection(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#socket.close();
  }

  /** PING or a query: retried on timeout (they change nothing at the gateway). */
  async query(
    body: QueryBody,
    options: { readonly timeoutMs?: number; readonly retries?: number } = {},
  ): Promise<Reply> {
    const timeout =
      options.timeoutMs ?? this.#options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    const retries = options.retries ?? this.#options.queryRetries ?? DEFAULTS.queryRetries;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const request = {
          v: 1,
          id: newRequestId(),
          ts: this.#options.clock.now(),
          ...body,
        } as unknown as Request;
        return await this.#exchange([encodeRequest(request)], request.id, body.action, timeout);
      } catch (error) {
        lastError = error;
        if (this.#closed) break;
      }
    }
    throw lastError;
  }

  /**
   * Send a signed action and return its outcome, following the no-blind-resend rule. The
   * client_order_id is the caller's or a new one; it never changes across retries.
   */
  async submit(body: SignedBody): Promise<OrderOutcome> {
    const clientOrderId = body.client_order_id ?? newClientOrderId(this.#options.clock.now());
    const orderTimeout = this.#options.orderTimeoutMs ?? DEFAULTS.orderTimeoutMs;
    const deadline =
      this.#options.clock.monotonic() +
      (this.#options.reconcileDeadlineMs ?? DEFAULTS.reconcileDeadlineMs);
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const ids = {
        coid: clientOrderId,
        gateway: this.name,
        action: body.action,
        attempt: attempts,
      };
      let reply: Reply;
      try {
        reply = await this.#sendSigned(body, clientOrderId, orderTimeout);
      } catch (error) {
        this.#log.warn("Order not answered; asking the gateway what it knows", {
          ...ids,
          reason: (error as Error).message,
        });
        reply = {
          v: 1,
          id: "",
          status: "ERROR",
          error_code: "OUTCOME_UNKNOWN",
          error_msg: (error as Error).message,
        };
      }
      if (reply.error_code !== "OUTCOME_UNKNOWN" && reply.error_code !== "ORDER_IN_PROGRESS") {
        return { kind: "answered", clientOrderId, reply, attempts };
      }
      // Unknown or still executing: find out, never re-send blindly.
      const settled = await this.#settle(clientOrderId, deadline);
      if (settled.kind === "outcome")
        return { kind: "answered", clientOrderId, reply: settled.reply, attempts };
      if (settled.kind === "unknown")
        return { kind: "unknown", clientOrderId, reason: settled.reason, attempts };
      // The gateway never executed it: the same intent again, freshly signed, a bounded number of times.
      if (attempts >= DEFAULTS.maxSendAttempts) {
        return {
          kind: "unknown",
          clientOrderId,
          reason: `not accepted after ${attempts} attempts`,
          attempts,
        };
      }
      this.#log.warn("Gateway never executed the order; sending the same intent again", ids);
    }
  }

  /** GET_ORDER for one client_order_id (null: never seen). */
  async orderRecord(
    clientOrderId: string,
    options: { readonly timeoutMs?: number; readonly retries?: number } = {},
  ): Promise<OrderRecord | null> {
    const reply = await this.query(
      { action: "GET_ORDER", client_order_id: clientOrderId },
      options,
    );
    if (reply.status !== "OK")
      throw new Error(
        `GET_ORDER refused: ${reply.error_code ?? reply.status}: ${reply.error_msg ?? ""}`,
      );
    return (reply as { order?: OrderRecord | null }).order ?? null;
  }

  // ---------------------------------------------------------------------------------------------

  async #sendSigned(body: SignedBody, clientOrderId: string, timeoutMs: number): Promise<Reply> {
    const { signer, clock } = this.#options;
    const request = {
      v: 1,
      id: newRequestId(),
      ts: clock.now(),
      ...body,
      client_order_id: clientOrderId,
      gateway: this.name,
      key_id: signer.keyId,
    } as unknown as Request;
    const bytes = encodeRequest(request);
    const signature = signer.sign(bytes);
    this.#log.info("[SIGNED] Order signed", {
      id: request.id,
      coid: clientOrderId,
      action: body.action,
      key_id: signer.keyId,
    });
    const reply = this.#exchange([bytes, signature], request.id, body.action, timeoutMs);
    this.#log.info("[ZMQ_SENT] Order sent", {
      id: request.id,
      coid: clientOrderId,
      gateway: this.name,
    });
    return reply;
  }

  /**
   * Ask GET_ORDER until the outcome is known, the gateway proves it never executed, or the
   * deadline passes.
   */
  async #settle(
    clientOrderId: string,
    deadline: number,
  ): Promise<
    { kind: "outcome"; reply: Reply } | { kind: "resend" } | { kind: "unknown"; reason: string }
  > {
    const { clock } = this.#options;
    let reason = "no answer from the gateway before the reconcile deadline";
    while (clock.monotonic() < deadline && !this.#closed) {
      try {
        // The deadline bounds every question, not only when the next one may start.
        const left = Math.max(1, Math.ceil(deadline - clock.monotonic()));
        const timeoutMs = Math.min(
          left,
          this.#options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
        );
        const record = await this.orderRecord(clientOrderId, { timeoutMs, retries: 0 });
        if (record === null || record.state === "NOT_EXECUTED") return { kind: "resend" };
        if ((record.state === "FILLED" || record.state === "REJECTED") && record.reply !== null) {
          return { kind: "outcome", reply: record.reply };
        }
        reason = `gateway reports ${record.state}`;
      } catch (error) {
        reason = (error as Error).message;
      }
      await sleepOn(clock, DEFAULTS.pollIntervalMs);
    }
    return { kind: "unknown", reason };
  }

  #exchange(frames: Uint8Array[], id: string, action: Action, timeoutMs: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = this.#options.clock.setTimeout(() => {
        this.#waiting.delete(id);
        reject(new RequestTimeout(action, timeoutMs));
      }, timeoutMs);
      this.#waiting.set(id, {
        action,
        resolve: (reply) => {
          timer.cancel();
          resolve(reply);
        },
      });
      if (!this.#socket.send(frames)) {
        timer.cancel();
        this.#waiting.delete(id);
        reject(
          new Error(
            `cannot queue ${action} for ${this.name}: too many messages waiting for the connection`,
          ),
        );
      }
    });
  }

  #onReply(parts: Uint8Array[]): void {
    // Match on the id first, then validate against the action it answers. Events (no id, no
    // status) go to the stream listeners instead. The frame is decoded once for all of it.
    const first = parts[0];
    if (parts.length !== 1 || first === undefined) {
      this.#log.warn("Ignoring a reply with an unexpected frame count", {
        gateway: this.name,
        frames: parts.length,
      });
      return;
    }
    const decoded = decodeMessage(first);
    if (!decoded.ok) {
      this.#log.warn("Ignoring a malformed reply", {
        gateway: this.name,
        reason: decoded.error.message,
      });
      return;
    }
    if (isEventObject(decoded.value)) {
      this.#stream.deliver(decoded.value);
      return;
    }
    const probe = parseReplyObject(decoded.value);
    if (!probe.ok) {
      this.#log.warn("Ignoring a malformed reply", {
        gateway: this.name,
        reason: probe.error.message,
      });
      return;
    }
    const waiter = this.#waiting.get(probe.reply.id);
    if (waiter === undefined) {
      // Late (after its timeout) or not ours: the retry logic has moved on.
      this.#log.debug("Reply for no waiting request", { gateway: this.name, id: probe.reply.id });
      return;
    }
    const parsed = parseReplyObject(decoded.value, waiter.action);
    this.#waiting.delete(probe.reply.id);
    if (!parsed.ok) {
      waiter.resolve({
        v: 1,
        id: probe.reply.id,
        status: "ERROR",
        error_code: "INVALID_REPLY",
        error_msg: parsed.error.message,
      });
      return;
    }
    waiter.resolve(parsed.reply);
  }

  #onEvent(event: SocketEvent): void {
    const fields = { gateway: this.name, endpoint: this.endpoint };
    switch (event.type) {
      case "handshake_succeeded":
        this.#connected = true;
        this.#log.info("Connected to gateway", {
          ...fields,
          server_key: fingerprint(this.#options.serverKey),
        });
        this.#stream.connection(true);
        break;
      case "disconnected":
        this.#connected = false;
        this.#log.warn("Disconnected from gateway", { ...fields, reason: event.reason });
        this.#stream.connection(false);
        break;
      case "handshake_failed":
        this.#log.error("Handshake with gateway failed", {
          ...fields,
          code: event.code,
          reason: event.message,
        });
        break;
      default:
        break;
    }
  }
}

function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
