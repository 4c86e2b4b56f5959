/**
 * ROUTER (RFC 28 / libzmq router.cpp): every ready peer gets a routing id, incoming messages
 * are delivered with it, and outgoing messages are routed by it. The id is the peer's Identity
 * property when non-empty, otherwise 5 bytes `00` + a counter (libzmq router.cpp, the generated id). Ids are not
 * secrets: authentication comes from CURVE, and the peer's key travels with each message.
 */
import { sameBytes } from "../bytes.ts";
import type { PeerInfo } from "../zmtp/mechanism.ts";
import type { SocketOptions } from "./options.ts";
import type { Session } from "./session.ts";
import { SocketCore } from "./socket-core.ts";

export interface RouterMessage {
  readonly routingId: Uint8Array;
  readonly parts: Uint8Array[];
  /** Who sent it: socket type, identity and, under CURVE, the authenticated client key. */
  readonly peer: PeerInfo;
  /** `host:port` of the connection it arrived on. */
  readonly address: string;
}

export type RouterMessageHandler = (message: RouterMessage) => void;

interface RoutedPeer {
  readonly routingId: Uint8Array;
  readonly session: Session;
}

export class RouterSocket extends SocketCore {
  readonly #byId = new Map<string, RoutedPeer>();
  readonly #bySession = new Map<Session, RoutedPeer>();
  #counter: number;
  #handler: RouterMessageHandler | undefined;
  /**
   * The last id sent to and its peer: a server answers with the routingId object it was handed,
   * so a reply skips building the map key. Only a hint, re-checked on every use against a private
   * copy of the id's bytes (the caller may rewrite its array, even the one we handed out) and the
   * peer still being attached, so it can never route to another or a stale peer.
   */
  #lastId: Uint8Array | undefined;
  #lastIdBytes: Uint8Array | undefined;
  #lastPeer: RoutedPeer | undefined;

  constructor(options: SocketOptions) {
    super("ROUTER", options);
    this.#counter = Math.floor(this.options.random() * 0xffffffff) >>> 0;
  }

  onMessage(handler: RouterMessageHandler): void {
    this.#handler = handler;
  }

  get connectedPeers(): number {
    return this.#byId.size;
  }

  /**
   * Route a message to the peer with `routingId`. Like libzmq's ROUTER it never blocks: an
   * unknown peer or a full queue drops the message and returns false.
   */
  send(routingId: Uint8Array, parts: readonly Uint8Array[]): boolean {
    const peer = this.#lookup(routingId);
    if (peer === undefined) {
      this.emit({ type: "dropped", reason: "no_peer" });
      return false;
    }
    if (!peer.session.send(parts)) {
      this.emit({
        type: "dropped",
        reason: "high_water_mark",
        address: peer.session.connection.address,
      });
      return false;
    }
    return true;
  }

  #lookup(routingId: Uint8Array): RoutedPeer | undefined {
    const hinted = this.#lastPeer;
    if (
      hinted !== undefined &&
      this.#lastId === routingId &&
      this.#bySession.get(hinted.session) === hinted &&
      sameBytes(this.#lastIdBytes as Uint8Array, routingId)
    ) {
      return hinted;
    }
    const key = idKey(routingId);
    const peer = this.#byId.get(key);
    this.#lastId = peer === undefined ? undefined : routingId;
    this.#lastIdBytes = peer === undefined ? undefined : routingId.slice();
    this.#lastPeer = peer;
    return peer;
  }

  /**
   * The peer connected under `routingId` and the messages waiting in its send queue, or
   * undefined when there is none. Read-only: a caller that keeps its own queue above the socket's
   * (the gateway's event streams) feeds it only as fast as the peer reads, instead of running
   * into the high-water mark, and sees a handed-over id by the peer object changing.
   */
  peerState(
    routingId: Uint8Array,
  ): { readonly peer: PeerInfo; readonly queuedMessages: number } | undefined {
    const routed = this.#byId.get(idKey(routingId));
    const peer = routed?.session.peer;
    if (routed === undefined || peer === undefined) return undefined;
    return { peer, queuedMessages: routed.session.queuedMessages };
  }

  protected attach(session: Session, peer: PeerInfo): boolean {
    let routingId: Uint8Array;
    if (peer.identity.length > 0) {
      routingId = peer.identity;
      const existing = this.#byId.get(idKey(routingId));
      if (existing !== undefined) {
        // libzmq ignores a second peer with a taken identity unless ROUTER_HANDOVER is set, and
        // then hands it to anyone. Here only to the same CURVE key: an identity is not a secret,
        // and another client could otherwise take over this one's replies and events.
        if (!this.options.routerHandover || !sameKey(existing.session.peer, peer)) {
          this.emit({
            type: "peer_closed",
            address: session.connection.address,
            code: "ROUTING_ID_TAKEN",
            reason: "its routing id is held by a connection with another key",
            ...(peer.userId === undefined ? {} : { userId: peer.userId }),
          });
          return false;
        }
        this.#bySession.delete(existing.session);
        existing.session.close("routing id handed over to a new connection");
      }
    } else {
      this.#counter = (this.#counter + 1) >>> 0;
      routingId = new Uint8Array(5);
      new DataView(routingId.buffer).setUint32(1, this.#counter);
    }
    const routed = { routingId, session };
    this.#byId.set(idKey(routingId), routed);
    this.#bySession.set(session, routed);
    return true;
  }

  protected detach(session: Session): void {
    const routed = this.#bySession.get(session);
    if (routed === undefined) return;
    this.#bySession.delete(session);
    if (this.#lastPeer === routed) {
      this.#lastId = undefined;
      this.#lastIdBytes = undefined;
      this.#lastPeer = undefined;
    }
    const key = idKey(routed.routingId);
    if (this.#byId.get(key)?.session === session) this.#byId.delete(key);
  }

  protected deliver(session: Session, parts: Uint8Array[]): void {
    const routed = this.#bySession.get(session);
    const peer = session.peer;
    if (routed === undefined || peer === undefined) return;
    this.#handler?.({
      routingId: routed.routingId,
      parts,
      peer,
      address: session.connection.address,
    });
  }
}

/** Both peers authenticated with the same CURVE key (or neither with any, under NULL). */
function sameKey(a: PeerInfo | undefined, b: PeerInfo): boolean {
  const x = a?.publicKey;
  const y = b.publicKey;
  if (x === undefined || y === undefined) return x === y;
  return sameBytes(x, y);
}

/** Map key for a routing id: latin1 keeps every byte distinct and costs no allocation beyond the string. */
function idKey(id: Uint8Array): string {
  let key = "";
  for (let i = 0; i < id.length; i++) key += String.fromCharCode(id[i] as number);
  return key;
}
