/**
 * The seam between agent-inf and the wire: one gateway's connection as everything above it sees
 * it (the gateway client's retry and no-blind-resend rules, the order service, the snapshot, the
 * live view, the CLI). GatewayConnection (connection.ts) implements it over a CURVE DEALER; unit
 * tests implement it with a fake (testing/fake-port.ts) driven by a TestClock.
 *
 * Nothing behind this interface retries or re-sends: one call, one request on the wire.
 */
import { AgentError, FaultCode } from "../../shared/errors.ts";
import type { Reply, Request } from "../../shared/protocol/index.ts";
import type { EventListener, StatusListener } from "./events.ts";

/** A signed action as it goes on the wire: the exact bytes that were signed, and the signature. */
export interface SignedFrames {
  readonly request: Request;
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
}

export interface GatewayPort {
  /** The gateway's name in the config; signed orders carry it. */
  readonly name: string;
  readonly endpoint: string;
  /** Whether the CURVE session is up right now. */
  readonly connected: boolean;
  connect(): void;
  close(): Promise<void>;
  /** One unsigned request (PING, a query); rejects with RequestTimeout or GatewayBusy. */
  request(request: Request, timeoutMs: number): Promise<Reply>;
  /** One signed action, sent as `[bytes, signature]`; rejects like `request`. */
  submit(signed: SignedFrames, timeoutMs: number): Promise<Reply>;
  /** Stream events (after a SUBSCRIBE); returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void;
  /** Session status changes; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void;
}

/** No reply within the request's timeout: the request may or may not have been processed. */
export class RequestTimeout extends AgentError {
  readonly action: string;
  readonly timeoutMs: number;

  constructor(action: string, timeoutMs: number) {
    super(FaultCode.TIMEOUT, `no reply to ${action} within ${timeoutMs} ms`);
    this.name = "RequestTimeout";
    this.action = action;
    this.timeoutMs = timeoutMs;
  }
}

/** The request was not queued (too many waiting for the connection): nothing was sent. */
export class GatewayBusy extends AgentError {
  constructor(action: string, gateway: string) {
    super(
      FaultCode.QUEUE_FULL,
      `cannot queue ${action} for ${gateway}: too many messages waiting for the connection`,
    );
    this.name = "GatewayBusy";
  }
}

/** The gateway answered, and not OK: `errorCode` is the reply's error_code (or its status). */
export class GatewayRefused extends AgentError {
  readonly errorCode: string;

  constructor(action: string, reply: Reply) {
    super(
      FaultCode.GATEWAY_REFUSED,
      `${action} refused: ${reply.error_code ?? reply.status}: ${reply.error_msg ?? ""}`,
    );
    this.name = "GatewayRefused";
    this.errorCode = reply.error_code ?? reply.status;
  }
}
