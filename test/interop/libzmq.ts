/**
 * Test harness around libzmq-peer.mjs: starts a real libzmq socket in a Node subprocess and lets
 * a Bun test send through it and wait for what it saw. Every wait is bounded.
 *
 * The same JSON-lines protocol is spoken by pyzmq-peer.py (Debian python3-zmq, libzmq 4.3.4), a
 * second, independent libzmq build (research §7.2): pass `{ runtime: "pyzmq" }` to start().
 */
import type { Subprocess } from "bun";

export interface PeerRecord {
  readonly ev: string;
  readonly [key: string]: unknown;
}

export interface LibzmqPeerConfig {
  type: "dealer" | "router" | "req" | "rep";
  bind?: string;
  connect?: string;
  curve?: { server?: boolean; publicKey: string; secretKey: string; serverKey?: string };
  zap?: { allow: string[]; deny?: 300 | 400 | 500 };
  routingId?: string;
  heartbeat?: { interval?: number; ttl?: number; timeout?: number };
  handshakeInterval?: number;
  reconnectInterval?: number;
  maxMessageSize?: number;
  echo?: boolean;
  /** Further zeromq.js socket options (ignored by the pyzmq peer), e.g. reconnectIntervalMax. */
  options?: Record<string, number | string | boolean>;
}

export interface PeerStartOptions {
  /** "node": zeromq.js 6.8.0 (libzmq 4.3.5) under Node; "pyzmq": /usr/bin/python3 + python3-zmq. */
  readonly runtime?: "node" | "pyzmq";
  readonly timeoutMs?: number;
}

const SCRIPT = new URL("./libzmq-peer.mjs", import.meta.url).pathname;
const PY_SCRIPT = new URL("./pyzmq-peer.py", import.meta.url).pathname;

export class LibzmqPeer {
  readonly records: PeerRecord[] = [];
  endpoint = "";
  readonly #process: Subprocess<"pipe", "pipe", "pipe">;
  #waiters: Array<() => void> = [];
  #stderr = "";
  #paused = false;

  private constructor(process: Subprocess<"pipe", "pipe", "pipe">) {
    this.#process = process;
  }

  static async start(
    config: LibzmqPeerConfig,
    options: number | PeerStartOptions = {},
  ): Promise<LibzmqPeer> {
    const { runtime = "node", timeoutMs = 10_000 } =
      typeof options === "number" ? { timeoutMs: options } : options;
    // Debian's python (not whatever python3 is first on PATH) is the one with python3-zmq
    const command =
      runtime === "node"
        ? ["node", SCRIPT, JSON.stringify(config)]
        : ["/usr/bin/python3", "-u", PY_SCRIPT, JSON.stringify(config)];
    const child = Bun.spawn(command, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const peer = new LibzmqPeer(child);
    peer.#pump();
    const ready = await peer.waitFor(
      (record) => record.ev === "ready" || record.ev === "error",
      timeoutMs,
    );
    if (ready.ev === "error")
      throw new Error(`libzmq peer failed to start: ${String(ready["message"])}`);
    peer.endpoint = String(ready["endpoint"]);
    return peer;
  }

  /** Send one multipart message (for a ROUTER, the first part is the routing id). */
  send(parts: readonly (Uint8Array | string)[]): void {
    const encoded = parts.map((part) => Buffer.from(part).toString("base64"));
    this.#process.stdin.write(`${JSON.stringify({ op: "send", parts: encoded })}\n`);
    this.#process.stdin.flush();
  }

  /** The subprocess id (for SIGSTOP/SIGCONT tests). */
  get pid(): number {
    return this.#process.pid;
  }

  /** True once the subprocess has exited. */
  get exited(): boolean {
    return this.#process.exitCode !== null || this.#process.signalCode !== null;
  }

  /** Freeze the peer (SIGSTOP): its kernel still ACKs TCP, but libzmq sends and answers nothing. */
  pause(): void {
    this.#process.kill("SIGSTOP");
    this.#paused = true;
  }

  resume(): void {
    this.#process.kill("SIGCONT");
    this.#paused = false;
  }

  /**
   * Send `count` messages `${prefix}0`, `${prefix}1`, … in order, each after the `head` frames
   * (for a ROUTER: the routing id).
   */
  burst(count: number, prefix: string, head: readonly (Uint8Array | string)[] = []): void {
    const encoded = head.map((part) => Buffer.from(part).toString("base64"));
    this.#process.stdin.write(`${JSON.stringify({ op: "burst", count, prefix, head: encoded })}\n`);
    this.#process.stdin.flush();
  }

  /** Messages received so far, decoded. */
  get messages(): Uint8Array[][] {
    return this.records
      .filter((record) => record.ev === "message")
      .map((record) =>
        (record["parts"] as string[]).map((part) => new Uint8Array(Buffer.from(part, "base64"))),
      );
  }

  /** Socket monitor events of one type. */
  socketEvents(type: string): PeerRecord[] {
    return this.records.filter((record) => record.ev === "socket" && record["type"] === type);
  }

  async waitFor(predicate: (record: PeerRecord) => boolean, timeoutMs = 5000): Promise<PeerRecord> {
    const deadline = performance.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.records.length; seen++) {
        const record = this.records[seen] as PeerRecord;
        if (predicate(record)) return record;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new Error(
          `libzmq peer: expected record not seen within ${timeoutMs} ms; saw ${JSON.stringify(this.records.slice(-10))}${this.#stderr === "" ? "" : `; stderr: ${this.#stderr.slice(-500)}`}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 50));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Wait until `count` messages have arrived and return them. */
  async waitForMessages(count: number, timeoutMs = 5000): Promise<Uint8Array[][]> {
    let received = 0;
    await this.waitFor((record) => record.ev === "message" && ++received >= count, timeoutMs);
    return this.messages.slice(0, count);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    // A stopped process cannot read its stdin: wake it first so it can shut down cleanly
    if (this.#paused) this.resume();
    try {
      this.#process.stdin.write(`${JSON.stringify({ op: "close" })}\n`);
      this.#process.stdin.end();
    } catch {
      // already gone
    }
    const exited = await Promise.race([
      this.#process.exited,
      Bun.sleep(2000).then(() => undefined),
    ]);
    if (exited === undefined) this.#process.kill(9);
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    void (async () => {
      for await (const chunk of this.#process.stderr) this.#stderr += decoder.decode(chunk);
    })();
    for await (const chunk of this.#process.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== "") {
          try {
            this.records.push(JSON.parse(line) as PeerRecord);
          } catch {
            this.records.push({ ev: "unparsed", line });
          }
        }
        newline = buffered.indexOf("\n");
      }
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }
}
