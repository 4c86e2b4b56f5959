/**
 * agent-inf's client of one gateway, above the GatewayPort (port.ts) and free of sockets: it
 * builds and signs requests and decides what may be sent again.
 *
 * Queries and PING are retried freely. Signed actions are never re-sent blindly (DESIGN §6,
 * PROTOCOL.md §8): after a timeout the client asks GET_ORDER for the client_order_id and re-sends
 * the same intent (same client_order_id, new id, ts and signature) only when the gateway says it
 * never saw it or proved it NOT_EXECUTED. If the gateway stays unreachable, the outcome is
 * reported as UNKNOWN, not as a failure.
 */
import type { Clock } from "../../shared/clock.ts";
import { AgentError, describeError, FaultCode } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  type Action,
  encodeRequest,
  newClientOrderId,
  newRequestId,
  type OrderRecord,
  type Reply,
  type Request,
  type SignedAction,
  type Signer,
} from "../../shared/protocol/index.ts";
import type { EventListener, StatusListener } from "./events.ts";
import { type GatewayPort, GatewayRefused } from "./port.ts";

export interface GatewayClientOptions {
  /** The connection: GatewayConnection, or a fake in unit tests. */
  readonly port: GatewayPort;
  /** Signs OPEN, CLOSE and MODIFY; a client without one (the ping command) only queries. */
  readonly signer?: Signer;
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
  /** Each answered request's round trip in seconds, by action (metrics). */
  readonly onRoundTrip?: (action: Action, seconds: number) => void;
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

/** What a gateway entry in the config defaults to (config.ts builds its schema from these). */
export const GATEWAY_CLIENT_DEFAULTS = {
  requestTimeoutMs: 3000,
  queryRetries: 2,
  orderTimeoutMs: 10_000,
  reconcileDeadlineMs: 30_000,
  /** Times the same intent may be sent (first try included) after "never seen" answers. */
  maxSendAttempts: 3,
  pollIntervalMs: 250,
} as const;

export class GatewayClient {
  readonly name: string;
  readonly endpoint: string;
  readonly #options: GatewayClientOptions;
  readonly #port: GatewayPort;
  readonly #log: Logger;
  #closed = false;

  constructor(options: GatewayClientOptions) {
    this.#options = options;
    this.#port = options.port;
    this.name = options.port.name;
    this.endpoint = options.port.endpoint;
    this.#log = options.logger;
  }

  /** Whether the CURVE session to the gateway is up right now. */
  get connected(): boolean {
    return this.#port.connected;
  }

  /** Resolve true once the session is up, false if it is not up within `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.#port.connected || this.#closed) return Promise.resolve(this.#port.connected);
    return new Promise((resolve) => {
      const done = (up: boolean) => {
        off();
        timer.cancel();
        resolve(up);
      };
      const off = this.#port.onStatus((status) => {
        if (status.type === "connected") done(true);
      });
      const timer = this.#options.clock.setTimeout(() => done(this.#port.connected), timeoutMs);
    });
  }

  connect(): void {
    this.#port.connect();
  }

  /** Stream events (after a SUBSCRIBE); returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    return this.#port.subscribe(listener);
  }

  /** Session status changes; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    return this.#port.onStatus(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#port.close();
  }

  /** PING or a query: retried on timeout (they change nothing at the gateway). */
  async query(
    body: QueryBody,
    options: { readonly timeoutMs?: number; readonly retries?: number } = {},
  ): Promise<Reply> {
    const timeout =
      options.timeoutMs ??
      this.#options.requestTimeoutMs ??
      GATEWAY_CLIENT_DEFAULTS.requestTimeoutMs;
    const retries =
      options.retries ?? this.#options.queryRetries ?? GATEWAY_CLIENT_DEFAULTS.queryRetries;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const request = {
          v: 1,
          id: newRequestId(),
          ts: this.#options.clock.now(),
          ...body,
        } as unknown as Request;
        const sent = this.#options.clock.monotonic();
        const reply = await this.#port.request(request, timeout);
        this.#roundTrip(body.action, sent);
        return reply;
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
    const signer = this.#options.signer;
    if (signer === undefined)
      throw new AgentError(FaultCode.INTERNAL, `no signing key to send ${body.action} with`);
    const clientOrderId = body.client_order_id ?? newClientOrderId(this.#options.clock.now());
    const orderTimeout = this.#options.orderTimeoutMs ?? GATEWAY_CLIENT_DEFAULTS.orderTimeoutMs;
    const deadline =
      this.#options.clock.monotonic() +
      (this.#options.reconcileDeadlineMs ?? GATEWAY_CLIENT_DEFAULTS.reconcileDeadlineMs);
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
        reply = await this.#sendSigned(signer, body, clientOrderId, orderTimeout);
      } catch (error) {
        this.#log.warn("Order not answered; asking the gateway what it knows", {
          ...ids,
          reason: describeError(error),
        });
        reply = {
          v: 1,
          id: "",
          status: "ERROR",
          error_code: "OUTCOME_UNKNOWN",
          error_msg: describeError(error),
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
      if (attempts >= GATEWAY_CLIENT_DEFAULTS.maxSendAttempts) {
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
    if (reply.status !== "OK") throw new GatewayRefused("GET_ORDER", reply);
    return (reply as { order?: OrderRecord | null }).order ?? null;
  }

  // ---------------------------------------------------------------------------------------------

  async #sendSigned(
    signer: Signer,
    body: SignedBody,
    clientOrderId: string,
    timeoutMs: number,
  ): Promise<Reply> {
    const clock = this.#options.clock;
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
    const sent = clock.monotonic();
    const reply = this.#port.submit({ request, bytes, signature }, timeoutMs);
    void reply.then(
      () => this.#roundTrip(body.action, sent),
      () => undefined,
    );
    this.#log.info("[ZMQ_SENT] Order sent", {
      id: request.id,
      coid: clientOrderId,
      gateway: this.name,
    });
    return reply;
  }

  #roundTrip(action: Action, sent: number): void {
    this.#options.onRoundTrip?.(action, (this.#options.clock.monotonic() - sent) / 1000);
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
          this.#options.requestTimeoutMs ?? GATEWAY_CLIENT_DEFAULTS.requestTimeoutMs,
        );
        const record = await this.orderRecord(clientOrderId, { timeoutMs, retries: 0 });
        if (record === null || record.state === "NOT_EXECUTED") return { kind: "resend" };
        if ((record.state === "FILLED" || record.state === "REJECTED") && record.reply !== null) {
          return { kind: "outcome", reply: record.reply };
        }
        reason = `gateway reports ${record.state}`;
      } catch (error) {
        reason = describeError(error);
      }
      await sleepOn(clock, GATEWAY_CLIENT_DEFAULTS.pollIntervalMs);
    }
    return { kind: "unknown", reason };
  }
}

function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
