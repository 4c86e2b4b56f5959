/**
 * Test harness around libzmq-peer.mjs: starts a real libzmq socket in a Node subprocess and lets
 * a Bun test send through it and wait for what it saw. Every wait is bounded.
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
}

const SCRIPT = new URL("./libzmq-peer.mjs", import.meta.url).pathname;

export class LibzmqPeer {
  readonly records: PeerRecord[] = [];
  endpoint = "";
  readonly #process: Subprocess<"pipe", "pipe", "pipe">;
  #waiters: Array<() => void> = [];
  #stderr = "";

  private constructor(process: Subprocess<"pipe", "pipe", "pipe">) {
    this.#process = process;
  }

  static async start(config: LibzmqPeerConfig, timeoutMs = 10_000): Promise<LibzmqPeer> {
    const child = Bun.spawn(["node", SCRIPT, JSON.stringify(config)], {
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
