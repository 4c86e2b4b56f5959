/**
 * What the gateway client hands its stream listeners (live-view/sync.ts): EVENT messages, read
 * strictly, and the session going up or down. A listener's failure is logged, never thrown into
 * the socket's receive path.
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
/** The CURVE session came up (true) or went down (false). */
export type ConnectionListener = (connected: boolean) => void;

export class GatewayEvents {
  readonly #gateway: string;
  readonly #log: Logger;
  readonly #events = new Set<EventListener>();
  readonly #connections = new Set<ConnectionListener>();

  constructor(gateway: string, logger: Logger) {
    this.#gateway = gateway;
    this.#log = logger;
  }

  onEvent(listener: EventListener): () => void {
    this.#events.add(listener);
    return () => this.#events.delete(listener);
  }

  onConnection(listener: ConnectionListener): () => void {
    this.#connections.add(listener);
    return () => this.#connections.delete(listener);
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

  connection(connected: boolean): void {
    for (const listener of this.#connections) this.#call(() => listener(connected));
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
