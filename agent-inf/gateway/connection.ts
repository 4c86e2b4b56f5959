/**
 * The GatewayPort over the wire: a CURVE DEALER to one gateway with its key pinned, requests
 * matched to replies by id, a timeout per request, stream events and session status handed to
 * listeners. Every reply is validated against the action it answers before anyone sees it.
 * No retries here (gateway-client.ts decides what may be sent again).
 */
import type { Clock } from "../../shared/clock.ts";
import type { KeyPair } from "../../shared/curve/box.ts";
import { fingerprint, z85DecodeKey } from "../../shared/curve/z85.ts";
import { readPublicKeyFile } from "../../shared/keys/curve-keys.ts";
import type { Logger } from "../../shared/log.ts";
import { DealerSocket, type SocketEvent } from "../../shared/net/index.ts";
import {
  type Action,
  decodeMessage,
  encodeRequest,
  isEventObject,
  parseReplyObject,
  type Reply,
  type Request,
} from "../../shared/protocol/index.ts";
import type { GatewayEntry } from "../config.ts";
import { type EventListener, GatewayEvents, type StatusListener } from "./events.ts";
import { GatewayBusy, type GatewayPort, RequestTimeout, type SignedFrames } from "./port.ts";

export interface GatewayConnectionOptions {
  /** The gateway's name in the config (logs, signed orders). */
  readonly name: string;
  readonly endpoint: string;
  readonly serverKey: Uint8Array;
  readonly clientPublicKey: Uint8Array;
  readonly clientSecretKey: Uint8Array;
  readonly clock: Clock;
  readonly logger: Logger;
  /** ZMTP heartbeat on the connection (dead-peer detection within a few seconds). */
  readonly transportHeartbeatMs?: number;
}

const DEFAULT_TRANSPORT_HEARTBEAT_MS = 1000;

interface Waiter {
  readonly resolve: (reply: Reply) => void;
  readonly action: Action;
}

export class GatewayConnection implements GatewayPort {
  readonly name: string;
  readonly endpoint: string;
  readonly #options: GatewayConnectionOptions;
  readonly #socket: DealerSocket;
  readonly #waiting = new Map<string, Waiter>();
  readonly #log: Logger;
  readonly #listeners: GatewayEvents;
  #connected = false;

  constructor(options: GatewayConnectionOptions) {
    this.#options = options;
    this.name = options.name;
    this.endpoint = options.endpoint;
    this.#log = options.logger;
    this.#listeners = new GatewayEvents(options.name, options.logger);
    const heartbeat = options.transportHeartbeatMs ?? DEFAULT_TRANSPORT_HEARTBEAT_MS;
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
    this.#socket.on((event) => this.#onSocketEvent(event));
    this.#socket.onMessage((parts) => this.#onMessage(parts));
  }

  get connected(): boolean {
    return this.#connected;
  }

  connect(): void {
    this.#socket.connect(this.endpoint);
  }

  async close(): Promise<void> {
    await this.#socket.close();
  }

  request(request: Request, timeoutMs: number): Promise<Reply> {
    return this.#exchange([encodeRequest(request)], request.id, request.action, timeoutMs);
  }

  submit(signed: SignedFrames, timeoutMs: number): Promise<Reply> {
    const { request, bytes, signature } = signed;
    return this.#exchange([bytes, signature], request.id, request.action, timeoutMs);
  }

  subscribe(listener: EventListener): () => void {
    return this.#listeners.onEvent(listener);
  }

  onStatus(listener: StatusListener): () => void {
    return this.#listeners.onStatus(listener);
  }

  // ---------------------------------------------------------------------------------------------

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
        reject(new GatewayBusy(action, this.name));
      }
    });
  }

  #onMessage(parts: Uint8Array[]): void {
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
      this.#listeners.deliver(decoded.value);
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

  #onSocketEvent(event: SocketEvent): void {
    const fields = { gateway: this.name, endpoint: this.endpoint };
    switch (event.type) {
      case "handshake_succeeded":
        this.#connected = true;
        this.#log.info("Connected to gateway", {
          ...fields,
          server_key: fingerprint(this.#options.serverKey),
        });
        this.#listeners.status({ type: "connected" });
        break;
      case "disconnected":
        this.#connected = false;
        this.#log.warn("Disconnected from gateway", { ...fields, reason: event.reason });
        this.#listeners.status({ type: "disconnected", reason: event.reason });
        break;
      case "handshake_failed":
        this.#log.error("Handshake with gateway failed", {
          ...fields,
          code: event.code,
          reason: event.message,
        });
        this.#listeners.status({
          type: "handshake_failed",
          code: event.code,
          reason: event.message,
        });
        break;
      case "connect_failed":
        // Debug: it repeats every reconnect; health and the CLI report the cause (failure-cause.ts)
        this.#log.debug("Cannot connect to gateway", { ...fields, reason: event.reason });
        this.#listeners.status({
          type: "connect_failed",
          code: event.code ?? "CONNECT_FAILED",
          reason: event.reason,
        });
        break;
      default:
        break;
    }
  }
}

/**
 * The connection to one configured gateway: its public key from `server_key_file` or
 * `server_key`, this host's CURVE key pair, nothing sent until connect().
 */
export function connectionFor(
  entry: GatewayEntry,
  client: KeyPair,
  clock: Clock,
  logger: Logger,
): GatewayConnection {
  const serverKey =
    entry.server_key_file === undefined
      ? z85DecodeKey(entry.server_key as string)
      : readPublicKeyFile(entry.server_key_file).publicKey;
  return new GatewayConnection({
    name: entry.name,
    endpoint: entry.endpoint,
    serverKey,
    clientPublicKey: client.publicKey,
    clientSecretKey: client.secretKey,
    clock,
    logger,
  });
}
