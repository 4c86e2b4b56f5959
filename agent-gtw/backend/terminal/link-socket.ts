/**
 * One TCP connection from an EA: frames in (bounded decoder, docs/EA-LINK.md §3), frames out
 * (a small write queue, since Bun's socket.write may take only part of a buffer), and exactly
 * one `closed` callback whoever closes it. It also tells whether a given frame fully left this
 * process, so a command cut off by a dead socket can be reported as certainly not sent.
 */
import type { Socket } from "bun";
import { decodePayload, FrameDecoder, FramingError } from "./framing.ts";

export interface LinkSocketHandlers {
  frame(message: Record<string, unknown>): void;
  /** Called once, with why the connection ended. */
  closed(reason: string): void;
}

/** Bun's per-socket data slot. */
export interface LinkSlot {
  link: LinkSocket | undefined;
}

export class LinkSocket {
  /** `host:port` of the peer, for logs. */
  readonly address: string;
  readonly #socket: Socket<LinkSlot>;
  readonly #decoder: FrameDecoder;
  #handlers: LinkSocketHandlers | undefined;
  /** Bytes not yet taken by the kernel, oldest first. */
  #blocked: Uint8Array[] = [];
  /** Totals over the connection's life: queued by us, accepted by the kernel. */
  #queuedBytes = 0;
  #sentBytes = 0;
  #ending = false;
  #closed = false;

  constructor(socket: Socket<LinkSlot>, maxPayloadBytes: number) {
    this.#socket = socket;
    this.address = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#decoder = new FrameDecoder(maxPayloadBytes);
    // A fresh slot per socket: Bun shares the listener's `data` object among accepted sockets
    socket.data = { link: this };
    socket.setNoDelay(true);
  }

  setHandlers(handlers: LinkSocketHandlers): void {
    this.#handlers = handlers;
  }

  set maxPayloadBytes(bytes: number) {
    this.#decoder.maxPayloadBytes = bytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queue a frame; returns the stream offset at its end, for `sentThrough`. */
  write(bytes: Uint8Array): number {
    if (this.#closed || this.#ending) return this.#queuedBytes;
    this.#queuedBytes += bytes.length;
    if (this.#blocked.length > 0) {
      this.#blocked.push(bytes);
    } else {
      this.#writeNow(bytes);
    }
    return this.#queuedBytes;
  }

  /** Whether every byte up to `offset` was handed to the kernel. */
  sentThrough(offset: number): boolean {
    return this.#sentBytes >= offset;
  }

  /** Send what is queued, then FIN (a refused HELLO gets its HELLO_ACK before the close). */
  end(reason: string): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (this.#blocked.length === 0) this.#socket.end();
    this.#markClosed(reason);
  }

  /** Close at once, dropping anything queued. */
  destroy(reason: string): void {
    if (this.#closed) return;
    this.#blocked = [];
    this.#markClosed(reason);
    this.#socket.terminate();
  }

  // Bun socket callbacks, routed here by the listener

  onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    let payloads: Uint8Array[];
    try {
      payloads = this.#decoder.push(chunk);
    } catch (error) {
      this.destroy(error instanceof FramingError ? error.message : String(error));
      return;
    }
    for (const payload of payloads) {
      if (this.#closed) return;
      let message: Record<string, unknown>;
      try {
        message = decodePayload(payload);
      } catch (error) {
        this.destroy((error as Error).message);
        return;
      }
      this.#handlers?.frame(message);
    }
  }

  onDrain(): void {
    while (this.#blocked.length > 0) {
      const next = this.#blocked[0] as Uint8Array;
      const written = this.#socket.write(next);
      if (written < 0) return;
      this.#sentBytes += written;
      if (written < next.length) {
        this.#blocked[0] = next.subarray(written);
        return;
      }
      this.#blocked.shift();
    }
    if (this.#ending) this.#socket.end();
  }

  onClose(reason: string): void {
    this.#blocked = [];
    this.#markClosed(reason);
  }

  #writeNow(bytes: Uint8Array): void {
    const written = this.#socket.write(bytes);
    if (written < 0) return; // closed: the close callback reports it
    this.#sentBytes += written;
    if (written < bytes.length) this.#blocked.push(bytes.subarray(written));
  }

  #markClosed(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers?.closed(reason);
  }
}

/** Bun socket handlers for a listener whose sockets carry a LinkSocket. */
export const linkSocketHandlers = {
  binaryType: "uint8array" as const,
  data(socket: Socket<LinkSlot>, chunk: Uint8Array) {
    socket.data.link?.onData(chunk);
  },
  drain(socket: Socket<LinkSlot>) {
    socket.data.link?.onDrain();
  },
  close(socket: Socket<LinkSlot>, error?: Error) {
    socket.data.link?.onClose(error === undefined ? "closed by the EA" : error.message);
  },
  error(socket: Socket<LinkSlot>, error: Error) {
    socket.data.link?.onClose(error.message);
  },
};
