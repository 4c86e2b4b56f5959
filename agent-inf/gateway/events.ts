/**
 * What a gateway connection hands its listeners (live-view/sync.ts, the CLI): EVENT messages,
 * read strictly, and the session's status changes as values. A listener's failure is logged,
 * never thrown into the socket's receive path.
 */
import type { Logger } from "../../shared/log.ts";
import { parseEventObject, type StreamEvent } from "../../shared/protocol/index.ts";

/**
 * An EVENT from the gateway's stream, or (`event` undefined) one of a type this build does not
 * know, still numbered so the listener's seq check sees no false gap.
 */
export type GatewayEvent =
  | { readonly event: StreamEvent; readonly seq: number }
  | { readonly event: undefined; readonly seq: number; readonly unknown: string };

export type EventListener = (event: GatewayEvent) => void;

/** What happened to the CURVE session, as a value (the CLI and health read these, not logs). */
export type GatewayStatus =
  | { readonly type: "connected" }
  | { readonly type: "disconnected"; readonly reason: string }
  /** The handshake failed: a refused key (AUTH_REFUSED), a wrong server key, a timeout, … */
  | { readonly type: "handshake_failed"; readonly code: string; readonly reason: string }
  /** No TCP connection: refused port, name that does not resolve, no answer. */
  | { readonly type: "connect_failed"; readonly code: string; readonly reason: string };

export type StatusListener = (status: GatewayStatus) => void;

export class GatewayEvents {
  readonly #gateway: string;
  readonly #log: Logger;
  readonly #events = new Set<EventListener>();
  readonly #statuses = new Set<StatusListener>();

  constructor(gateway: string, logger: Logger) {
    this.#gateway = gateway;
    this.#log = logger;
  }

  onEvent(listener: EventListener): () => void {
    this.#events.add(listener);
    return () => this.#events.delete(listener);
  }

  onStatus(listener: StatusListener): () => void {
    this.#statuses.add(listener);
    return () => this.#statuses.delete(listener);
  }

  /** A decoded frame that has the shape of an event (isEventObject). */
  deliver(value: Record<string, unknown>): void {
    const parsed = parseEventObject(value);
    if (!parsed.ok) {
      this.#log.warn("Ignoring a malformed event", {
        gateway: this.#gateway,
        reason: parsed.error.message,
      });
      return;
    }
    const event: GatewayEvent =
      parsed.event === undefined
        ? { event: undefined, seq: parsed.seq, unknown: parsed.unknown }
        : { event: parsed.event, seq: parsed.event.seq };
    for (const listener of this.#events) this.#call(() => listener(event));
  }

  status(status: GatewayStatus): void {
    for (const listener of this.#statuses) this.#call(() => listener(status));
  }

  #call(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#log.error("Stream listener failed", {
        gateway: this.#gateway,
        error: (error as Error).stack ?? String(error),
      });
    }
  }
}
