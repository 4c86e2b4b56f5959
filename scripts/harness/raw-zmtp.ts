/**
 * A raw ZMTP peer for tests that must speak below our socket layer: exact bytes out, the peer's
 * greeting and frames parsed back, and when the other side closed. Used to drive a CurveClient
 * by hand (the MESSAGE-framing regression, research §7.2 #6) and for the robustness suites, which
 * feed hostile byte streams to our server. Loopback only; every wait is bounded.
 */
import type { Socket } from "bun";
import type { CurveClient } from "../../shared/curve/curve-client.ts";
import { encodeFrame, FrameDecoder } from "../../shared/zmtp/frame.ts";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";
import { FrameFlag } from "../../shared/zmtp/mechanism.ts";

export interface RawFrame {
  /** MORE and/or COMMAND (LONG removed). */
  readonly flags: number;
  readonly body: Uint8Array;
}

const GREETING_BYTES = 64;

export class RawZmtp {
  /** Bytes the other side sent us, in total. */
  receivedBytes = 0;
  /** Bytes we handed to the kernel, in total. */
  sentBytes = 0;
  closed = false;
  /** performance.now() when the other side closed (or we did). */
  closedAt: number | undefined;
  readonly frames: RawFrame[] = [];
  /** Set when the other side's bytes did not parse as ZMTP. */
  parseError: string | undefined;
  #socket: Socket<undefined> | undefined;
  readonly #greeting = new Uint8Array(GREETING_BYTES);
  #greetingFilled = 0;
  readonly #decoder = new FrameDecoder({ maxFrameSize: 64 * 1024 * 1024 });
  #waiters: Array<() => void> = [];
  #queue: Uint8Array[] = [];
  #framesTaken = 0;

  static async connect(port: number, host = "127.0.0.1"): Promise<RawZmtp> {
    const raw = new RawZmtp();
    raw.#socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        binaryType: "uint8array",
        data: (_socket, chunk) => raw.#onData(chunk),
        drain: () => raw.#flush(),
        close: () => raw.#markClosed(),
        error: () => raw.#markClosed(),
      },
    });
    raw.#socket.setNoDelay(true);
    return raw;
  }

  get greetingReceived(): boolean {
    return this.#greetingFilled === GREETING_BYTES;
  }

  /** Queue bytes; what the kernel does not take now goes out on drain. */
  write(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    this.#queue.push(bytes);
    if (this.#queue.length === 1) this.#flush();
  }

  /** Half-close (FIN): our side is done talking. */
  end(): void {
    if (!this.closed) this.#socket?.end();
  }

  destroy(): void {
    if (!this.closed) this.#socket?.terminate();
  }

  close(): void {
    this.destroy();
  }

  /** Resolves true once the other side has closed, false if `timeoutMs` passes first. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    return this.#until(() => this.closed, timeoutMs).then(
      () => true,
      () => false,
    );
  }

  /** The other side's 64-byte greeting. */
  async greeting(timeoutMs = 3000): Promise<Uint8Array> {
    await this.#until(() => this.greetingReceived, timeoutMs, "greeting");
    return this.#greeting;
  }

  /** The next frame after the greeting that this method has not returned yet. */
  async frame(timeoutMs = 3000): Promise<RawFrame> {
    await this.#until(() => this.frames.length > this.#framesTaken, timeoutMs, "frame");
    return this.frames[this.#framesTaken++] as RawFrame;
  }

  #until(condition: () => boolean, timeoutMs: number, what = "condition"): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (condition()) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        if (this.closed && what !== "condition") {
          clearTimeout(timer);
          reject(new Error(`raw zmtp: connection closed while waiting for a ${what}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== wake);
        reject(new Error(`raw zmtp: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = (): void => {
        if (!check()) this.#waiters.push(wake);
      };
      wake();
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#socket !== undefined && !this.closed) {
      const head = this.#queue[0] as Uint8Array;
      const written = this.#socket.write(head);
      if (written <= 0) return;
      this.sentBytes += written;
      if (written < head.length) {
        this.#queue[0] = head.subarray(written);
        return;
      }
      this.#queue.shift();
    }
  }

  #onData(chunk: Uint8Array): void {
    this.receivedBytes += chunk.length;
    let rest = chunk;
    if (this.#greetingFilled < GREETING_BYTES) {
      const take = Math.min(GREETING_BYTES - this.#greetingFilled, chunk.length);
      this.#greeting.set(chunk.subarray(0, take), this.#greetingFilled);
      this.#greetingFilled += take;
      rest = chunk.subarray(take);
    }
    if (rest.length > 0 && this.parseError === undefined) {
      try {
        this.#decoder.push(rest, (flags, body) => {
          this.frames.push({ flags, body: body.slice() });
        });
      } catch (error) {
        this.parseError = String(error);
      }
    }
    this.#wake();
  }

  #markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.closedAt = performance.now();
    this.#queue = [];
    this.#wake();
  }
}

/** A ZMTP command frame (flags 0x04, long form above 255 bytes). */
export function commandFrame(body: Uint8Array): Uint8Array {
  return encodeFrame(FrameFlag.COMMAND, body);
}

/**
 * Run a whole CURVE client handshake by hand over `raw` (greeting, HELLO, WELCOME, INITIATE,
 * READY). Afterwards `client.encode()` makes MESSAGE bodies the test can frame as it likes.
 */
export async function curveHandshake(
  raw: RawZmtp,
  client: CurveClient,
  timeoutMs = 3000,
): Promise<void> {
  raw.write(encodeGreeting("CURVE", false));
  await raw.greeting(timeoutMs);
  for (const command of client.start().send) raw.write(commandFrame(command));
  const welcome = await raw.frame(timeoutMs);
  const initiate = client.processHandshake(welcome.body);
  if (initiate.status !== "continue") throw new Error(`raw curve: WELCOME refused`);
  for (const command of initiate.send) raw.write(commandFrame(command));
  const ready = await raw.frame(timeoutMs);
  const result = client.processHandshake(ready.body);
  if (result.status !== "ready") {
    const why = result.status === "failed" ? result.failure.message : "not ready";
    throw new Error(`raw curve: handshake did not complete: ${why}`);
  }
}
