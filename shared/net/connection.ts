/**
 * One TCP connection with our own write queue. Bun's `socket.write` is unbuffered: it returns
 * how many bytes the kernel took, possibly fewer than asked, or -1 once closed. Everything queued
 * in one turn of the event loop goes out in a single write (one syscall for a multipart message
 * or a burst of replies); a partial write parks the remainder until `drain`.
 */
import type { Socket } from "bun";

export interface ConnectionHandlers {
  data(chunk: Uint8Array): void;
  /** The TCP connection is gone (peer closed, reset, or we closed it). Called once. */
  closed(reason: string): void;
}

/** What we keep in Bun's per-socket `data` slot. */
export interface SocketSlot {
  connection: Connection | undefined;
}

/** Batch limits for one write(2): beyond these the batch goes out at once, not at the microtask. */
const FLUSH_CHUNKS = 512;
const FLUSH_BYTES = 64 * 1024;
/** A chunk this large is written as it is, never copied into a batch. */
const LARGE_CHUNK = 16 * 1024;

export class Connection {
  /** `host:port` of the peer, for events and logs. */
  readonly address: string;
  /** The peer's IP address alone, for per-address limits. */
  readonly host: string;
  readonly #socket: Socket<SocketSlot>;
  #handlers: ConnectionHandlers | undefined;
  #chunks: Uint8Array[] = [];
  #queuedBytes = 0;
  /** The last queued chunk came from writeFrame: a view of an ArrayBuffer, cheap to compare. */
  #lastIsFrame = false;
  /** Tail of a buffer the kernel did not fully accept; written first on drain. */
  #blocked: Uint8Array | undefined;
  #flushScheduled = false;
  #ending = false;
  #closed = false;
  /**
   * Messages queued since the queue was last fully written. Batches are flushed synchronously
   * once they reach FLUSH_MESSAGES or FLUSH_BYTES, so this only grows large while the kernel
   * refuses bytes (backpressure), which is what the session's high-water mark should measure.
   */
  queuedMessages = 0;

  constructor(socket: Socket<SocketSlot>) {
    this.#socket = socket;
    this.host = socket.remoteAddress;
    this.address = `${socket.remoteAddress}:${socket.remotePort}`;
    // A fresh slot per socket: Bun shares the listener's `data` object among all the sockets it
    // accepts, so writing into it would point every connection at the newest one.
    socket.data = { connection: this };
    socket.setNoDelay(true);
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes accepted by write() but not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.#queuedBytes + (this.#blocked?.length ?? 0);
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    this.#chunks.push(bytes);
    this.#lastIsFrame = false;
    this.#queue(bytes.length);
  }

  /**
   * Queue a frame that is a view of an ArrayBuffer (frame-slab.ts). When it starts where the
   * previous frame queued this way ends, the two become one view: a burst of replies encoded one
   * after another goes to the kernel without being copied into a batch buffer first. Only views
   * of ArrayBuffers come here: reading `.buffer` of a plain fresh array would copy it on Bun.
   */
  writeFrame(frame: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    const last = this.#lastIsFrame ? this.#chunks[this.#chunks.length - 1] : undefined;
    if (
      last !== undefined &&
      last.buffer === frame.buffer &&
      last.byteOffset + last.byteLength === frame.byteOffset
    ) {
      this.#chunks[this.#chunks.length - 1] = new Uint8Array(
        last.buffer,
        last.byteOffset,
        last.byteLength + frame.byteLength,
      );
    } else {
      this.#chunks.push(frame);
    }
    this.#lastIsFrame = true;
    this.#queue(frame.length);
  }

  #queue(length: number): void {
    this.#queuedBytes += length;
    if (!this.#flushScheduled && this.#blocked === undefined) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** One whole message has been written through write(); flush now if the batch is full. */
  messageQueued(): void {
    this.queuedMessages += 1;
    if (
      this.#blocked === undefined &&
      (this.#chunks.length >= FLUSH_CHUNKS || this.#queuedBytes >= FLUSH_BYTES)
    ) {
      this.#flush();
    }
  }

  /**
   * Send what is queued, then FIN. Used for a clean close and after sending ERROR. Bounded: what
   * the kernel will not take at once (peer not reading) is dropped and the socket closed.
   */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    // The kernel refusing bytes means the peer stopped reading (a frozen process's kernel keeps
    // ACKing with a zero window). Waiting for drain could last forever and kept the socket and
    // every queued byte alive, even after the owner's close(): close now and drop the queue, as
    // libzmq drops an engine on error. Found by test/interop/heartbeat.test.ts (SIGSTOP peer).
    if (this.#blocked !== undefined) {
      this.destroy();
      return;
    }
    if (this.#chunks.length === 0) this.#socket.end();
    // Otherwise #flush writes what is queued once, then ends the socket.
  }

  /** Close at once, dropping anything queued. */
  destroy(): void {
    if (this.#closed) return;
    this.#chunks = [];
    this.#lastIsFrame = false;
    this.#queuedBytes = 0;
    this.#blocked = undefined;
    this.#socket.terminate();
  }

  // Bun socket callbacks, routed here by the listener/connecter.

  onData(chunk: Uint8Array): void {
    if (!this.#closed) this.#handlers?.data(chunk);
  }

  onDrain(): void {
    const blocked = this.#blocked;
    if (blocked !== undefined) {
      const written = this.#socket.write(blocked);
      if (written < 0) return;
      if (written < blocked.length) {
        this.#blocked = blocked.subarray(written);
        return;
      }
      this.#blocked = undefined;
    }
    this.#flush();
  }

  onClose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.#queuedBytes = 0;
    this.#blocked = undefined;
    this.#handlers?.closed(reason);
  }

  /**
   * Write what is queued: runs of small chunks copied into one buffer of at most FLUSH_BYTES (one
   * write(2) for many frames), large chunks as they are. Stops at the first write the kernel takes
   * only part of: that tail waits for drain and the chunks after it stay queued. Large chunks are
   * never copied: under backpressure the queue holds megabytes of 64 KiB frames, and copying
   * them all into one batch cost a second copy of every byte (measured: docs/PERFORMANCE.md).
   */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#closed || this.#blocked !== undefined) return;
    const chunks = this.#chunks;
    let next = 0;
    while (next < chunks.length) {
      const first = chunks[next] as Uint8Array;
      let end = next + 1;
      let size = first.length;
      if (size < LARGE_CHUNK) {
        while (end < chunks.length && size + (chunks[end] as Uint8Array).length <= FLUSH_BYTES) {
          size += (chunks[end] as Uint8Array).length;
          end += 1;
        }
      }
      const buffer = end - next === 1 ? first : concat(chunks, next, end, size);
      next = end;
      this.#queuedBytes -= size;
      const written = this.#socket.write(buffer);
      if (written < 0) return; // closed; the close callback reports it
      if (written < buffer.length) {
        // Closing and the peer is not reading: do not wait for a drain (see end())
        if (this.#ending) {
          this.destroy();
          return;
        }
        this.#chunks = chunks.slice(next);
        this.#lastIsFrame = false;
        this.#blocked = buffer.subarray(written);
        return;
      }
    }
    this.#chunks = [];
    this.#queuedBytes = 0;
    this.#lastIsFrame = false;
    this.queuedMessages = 0;
    if (this.#ending) this.#socket.end();
  };
}

/** chunks[from..to) copied into one buffer of `size` bytes. */
function concat(chunks: readonly Uint8Array[], from: number, to: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (let i = from; i < to; i++) {
    const chunk = chunks[i] as Uint8Array;
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Bun socket handlers shared by listeners and connecters: dispatch to the Connection. */
export const connectionSocketHandlers = {
  binaryType: "uint8array" as const,
  data(socket: Socket<SocketSlot>, chunk: Uint8Array) {
    socket.data.connection?.onData(chunk);
  },
  drain(socket: Socket<SocketSlot>) {
    socket.data.connection?.onDrain();
  },
  close(socket: Socket<SocketSlot>, error?: Error) {
    socket.data.connection?.onClose(error === undefined ? "closed by peer" : error.message);
  },
  error(socket: Socket<SocketSlot>, error: Error) {
    socket.data.connection?.onClose(error.message);
  },
};
