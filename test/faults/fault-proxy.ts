/**
 * A loopback TCP proxy that misbehaves on command, put between agent-inf and agent-gtw for the
 * network fault tests (issue 7 §1b). Faults, switched at any moment, each for every connection:
 *
 * - stall(): nothing moves either way; bytes and closes wait in order and go through on heal(),
 *   as a partition that TCP retransmission outlives would deliver them.
 * - drop(): bytes and closes are thrown away, in both directions and on new connections. TCP
 *   never loses bytes silently, so on heal() every connection that lost some is reset, as the
 *   endpoints' stacks would have done after the partition.
 * - delay(ms): from now on every chunk is delivered `ms` late, order kept.
 * - reset(): every live connection is cut at once with a TCP RST on both sides.
 *
 * Not a network emulator: there is no bandwidth or packet model. Test-only; loopback only.
 */
import type { Socket, TCPSocketListener } from "bun";

type Direction = "up" | "down";

interface Chunk {
  readonly due: number;
  /** undefined: the sender closed (FIN), forwarded in order after the bytes before it. */
  readonly bytes: Uint8Array | undefined;
}

/** One direction of one connection: chunks in flight, then what the socket has not taken yet. */
interface Lane {
  readonly link: Link;
  socket: Socket<Link> | undefined;
  readonly queue: Chunk[];
  /** Bytes accepted by the lane but not yet taken by the socket (backpressure). */
  pending: Uint8Array[];
  ended: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Link {
  readonly id: number;
  /** Toward the gateway (bytes the client sent) and toward the client. */
  readonly up: Lane;
  readonly down: Lane;
  /** Lost bytes or a close while dropping: reset on heal. */
  lost: boolean;
  closed: boolean;
}

export interface ProxyStats {
  /** Connections accepted from the client side. */
  accepted: number;
  /** Connections cut with RST (reset() and drop() healing). */
  resets: number;
  /** Bytes thrown away while dropping. */
  droppedBytes: number;
  /** Bytes that waited in a stall. */
  heldBytes: number;
}

export class FaultProxy {
  readonly endpoint: string;
  readonly stats: ProxyStats = { accepted: 0, resets: 0, droppedBytes: 0, heldBytes: 0 };
  readonly #host: string;
  readonly #port: number;
  readonly #links = new Set<Link>();
  readonly #listener: TCPSocketListener<Link>;
  #mode: "pass" | "stall" | "drop" = "pass";
  #delayMs = 0;
  #nextId = 0;

  /** Listen on 127.0.0.1 (a free port) and forward to `target` (tcp://host:port). */
  constructor(target: string) {
    const match = /^tcp:\/\/([^:]+):(\d+)$/.exec(target);
    if (match === null) throw new Error(`fault proxy: bad endpoint ${target}`);
    this.#host = match[1] as string;
    this.#port = Number(match[2]);
    this.#listener = Bun.listen<Link>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        binaryType: "uint8array",
        open: (client) => this.#accept(client),
        data: (client, data) => this.#carry(client.data, "up", new Uint8Array(data)),
        drain: (client) => this.#drained(client.data.down),
        close: (client) => this.#carry(client.data, "up", undefined),
        error: (client) => this.#carry(client.data, "up", undefined),
      },
    });
    this.endpoint = `tcp://127.0.0.1:${this.#listener.port}`;
  }

  get mode(): string {
    return this.#delayMs > 0 && this.#mode === "pass" ? `delay ${this.#delayMs} ms` : this.#mode;
  }

  /** Connections open right now. */
  get connections(): number {
    return this.#links.size;
  }

  stall(): void {
    this.#mode = "stall";
  }

  drop(): void {
    this.#mode = "drop";
  }

  delay(ms: number): void {
    this.#delayMs = Math.max(0, ms);
  }

  /** Cut every live connection now with RST, both sides. The mode stays as it is. */
  reset(): void {
    for (const link of [...this.#links]) this.#reset(link);
  }

  /** Back to forwarding: release what a stall held, reset what a drop broke, no more delay. */
  heal(): void {
    this.#mode = "pass";
    this.#delayMs = 0;
    for (const link of [...this.#links]) {
      if (link.lost) {
        this.#reset(link);
        continue;
      }
      this.#pump(link.up);
      this.#pump(link.down);
    }
  }

  close(): void {
    for (const link of [...this.#links]) this.#reset(link, false);
    this.#listener.stop(true);
  }

  // ---------------------------------------------------------------------------------------------

  #accept(client: Socket<Link>): void {
    this.stats.accepted += 1;
    const lane = (owner: () => Link): Lane => ({
      get link() {
        return owner();
      },
      socket: undefined,
      queue: [],
      pending: [],
      ended: false,
      timer: undefined,
    });
    const link: Link = {
      id: this.#nextId++,
      up: lane(() => link),
      down: lane(() => link),
      lost: false,
      closed: false,
    };
    link.down.socket = client;
    client.data = link;
    this.#links.add(link);
    if (this.#mode === "drop") link.lost = true;
    void Bun.connect<Link>({
      hostname: this.#host,
      port: this.#port,
      data: link,
      socket: {
        binaryType: "uint8array",
        open: (server) => {
          if (link.closed) {
            server.terminate();
            return;
          }
          link.up.socket = server;
          this.#pump(link.up);
        },
        data: (_server, data) => this.#carry(link, "down", new Uint8Array(data)),
        drain: () => this.#drained(link.up),
        close: () => this.#carry(link, "down", undefined),
        error: () => this.#carry(link, "down", undefined),
        connectError: () => this.#reset(link),
      },
    }).catch(() => this.#reset(link));
  }

  /** Bytes (or a close, `undefined`) arriving from one side, bound for the other. */
  #carry(link: Link, direction: Direction, bytes: Uint8Array | undefined): void {
    if (link.closed) return;
    const lane = direction === "up" ? link.up : link.down;
    if (lane.ended) return;
    if (this.#mode === "drop") {
      this.stats.droppedBytes += bytes?.length ?? 0;
      link.lost = true;
      if (bytes === undefined) lane.ended = true;
      return;
    }
    if (this.#mode === "stall") this.stats.heldBytes += bytes?.length ?? 0;
    if (bytes === undefined) lane.ended = true;
    const last = lane.queue[lane.queue.length - 1];
    const due = Math.max(performance.now() + this.#delayMs, last?.due ?? 0);
    lane.queue.push({ due, bytes });
    this.#pump(lane);
  }

  /** Move due chunks into the socket, unless stalled; schedule the next one. */
  #pump(lane: Lane): void {
    if (lane.timer !== undefined || this.#mode === "stall") return;
    const now = performance.now();
    while (lane.queue.length > 0 && (lane.queue[0] as Chunk).due <= now + 0.5) {
      if (lane.socket === undefined) return; // upstream not connected yet; open() pumps again
      const chunk = lane.queue.shift() as Chunk;
      if (chunk.bytes === undefined) {
        this.#flush(lane);
        if (lane.pending.length > 0) {
          // The close goes after the bytes still waiting for the socket; drain pumps again
          lane.queue.unshift(chunk);
          return;
        }
        lane.socket.end();
        this.#forgetIfDone(lane.link);
        continue;
      }
      lane.pending.push(chunk.bytes);
      this.#flush(lane);
    }
    const head = lane.queue[0];
    if (head === undefined) return;
    lane.timer = setTimeout(
      () => {
        lane.timer = undefined;
        this.#pump(lane);
      },
      Math.max(0, head.due - now),
    );
  }

  #drained(lane: Lane): void {
    this.#flush(lane);
    this.#pump(lane);
  }

  #flush(lane: Lane): void {
    const socket = lane.socket;
    if (socket === undefined) return;
    while (lane.pending.length > 0) {
      const bytes = lane.pending[0] as Uint8Array;
      const written = socket.write(bytes);
      if (written < bytes.length) {
        lane.pending[0] = bytes.subarray(Math.max(0, written));
        return;
      }
      lane.pending.shift();
    }
  }

  /** Both sides closed and everything delivered: nothing left to fault. */
  #forgetIfDone(link: Link): void {
    const done = (lane: Lane) => lane.ended && lane.queue.length === 0;
    if (!done(link.up) || !done(link.down)) return;
    link.closed = true;
    this.#links.delete(link);
  }

  #reset(link: Link, count = true): void {
    if (link.closed) return;
    link.closed = true;
    this.#links.delete(link);
    if (count) this.stats.resets += 1;
    for (const lane of [link.up, link.down]) {
      clearTimeout(lane.timer);
      lane.queue.length = 0;
      lane.pending = [];
      lane.socket?.terminate();
    }
  }
}
