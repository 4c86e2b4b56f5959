/**
 * The ROUTER side the gateway's StreamHub writes to, without sockets: each peer's frames are kept,
 * and its send-queue depth is whatever the test sets (a full one is a peer that stopped reading).
 */

import { parseEvent, type StreamEvent } from "../../../shared/protocol/index.ts";
import type { StreamConnection, StreamTransport } from "../stream-hub.ts";

export class FakeRouter implements StreamTransport {
  readonly sent = new Map<string, Uint8Array[]>();
  readonly peers = new Map<string, { peer: object; queuedMessages: number }>();

  /** A peer connects under routing id `name` (again: a handed-over id, a new connection). */
  connect(name: string): StreamConnection {
    const peer = {};
    this.peers.set(name, { peer, queuedMessages: 0 });
    this.sent.set(name, []);
    return { routingId: new TextEncoder().encode(name), peer };
  }

  send(routingId: Uint8Array, frames: readonly Uint8Array[]): boolean {
    const name = new TextDecoder().decode(routingId);
    if (!this.peers.has(name)) return false;
    this.sent.get(name)?.push(frames[0] as Uint8Array);
    return true;
  }

  peerState(routingId: Uint8Array) {
    return this.peers.get(new TextDecoder().decode(routingId));
  }

  events(name: string): StreamEvent[] {
    return (this.sent.get(name) ?? []).map((frame) => {
      const parsed = parseEvent(frame);
      if (!parsed.ok || parsed.event === undefined) throw new Error("not an event");
      return parsed.event;
    });
  }
}
