/**
 * DEALER (RFC 28 / libzmq dealer.cpp): sends round-robin to ready peers and fair-queues what
 * they send. Messages sent before any peer is ready wait in a queue bounded by the high-water
 * mark, as libzmq keeps a pipe for a connecting socket (research §5.4).
 */
import type { PeerInfo } from "../zmtp/mechanism.ts";
import type { SocketOptions } from "./options.ts";
import type { Session } from "./session.ts";
import { SocketCore } from "./socket-core.ts";

export type DealerMessageHandler = (parts: Uint8Array[], peer: PeerInfo) => void;

export class DealerSocket extends SocketCore {
  readonly #peers: Session[] = [];
  #next = 0;
  #pending: (readonly Uint8Array[])[] = [];
  #handler: DealerMessageHandler | undefined;

  constructor(options: SocketOptions) {
    super("DEALER", options);
  }

  /** The single consumer of incoming messages. */
  onMessage(handler: DealerMessageHandler): void {
    this.#handler = handler;
  }

  /** Peers whose handshake is done. */
  get connectedPeers(): number {
    return this.#peers.length;
  }

  /**
   * Queue a message for the next peer in turn. Returns false when it cannot be queued: the
   * socket is closed, or the high-water mark is reached (no ready peer has room and the
   * pre-connection queue is full). The caller decides whether to fail or retry.
   */
  send(parts: readonly Uint8Array[]): boolean {
    if (this.closed) return false;
    const count = this.#peers.length;
    for (let tried = 0; tried < count; tried++) {
      const session = this.#peers[this.#next % count] as Session;
      this.#next = (this.#next + 1) % count;
      if (session.send(parts)) return true;
    }
    if (count > 0 || this.#pending.length >= this.options.sendHighWaterMark) {
      this.emit({ type: "dropped", reason: "high_water_mark" });
      return false;
    }
    this.#pending.push(parts);
    return true;
  }

  override async close(): Promise<void> {
    this.#pending = [];
    await super.close();
  }

  protected attach(session: Session, _peer: PeerInfo): boolean {
    this.#peers.push(session);
    // Flush what was queued while no peer was ready, in order.
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i++) {
      if (!session.send(pending[i] as readonly Uint8Array[])) {
        this.#pending = pending.slice(i);
        break;
      }
    }
    return true;
  }

  protected detach(session: Session): void {
    const index = this.#peers.indexOf(session);
    if (index >= 0) this.#peers.splice(index, 1);
  }

  protected deliver(session: Session, parts: Uint8Array[]): void {
    const peer = session.peer;
    if (peer !== undefined) this.#handler?.(parts, peer);
  }
}
