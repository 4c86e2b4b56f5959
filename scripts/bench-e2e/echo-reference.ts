/**
 * The references scripts/bench.ts measures in the same run as the agents, by driving the peer
 * scripts of `bun run bench:transport` with their protocol (scripts/bench/peer-protocol.ts):
 *
 * - `libzmq`: a CURVE DEALER→ROUTER echo between two Node processes running zeromq.js (bundled
 *   libzmq), scripts/bench/libzmq-peer.mjs;
 * - `ours`: the same echo over our ZMTP/CURVE transport between two Bun processes
 *   (scripts/bench/bun-peer.ts ours): the transport the agents use, without the application;
 * - `tcp`: a raw Bun TCP echo between two processes (bun-peer.ts tcp), the floor under both.
 *
 * One message in flight; round-trip samples in µs.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import { generateKeyPair } from "../../shared/curve/box.ts";
import { z85Encode } from "../../shared/curve/z85.ts";
import type { BenchKeys, PeerConfig, PeerRecord } from "../bench/peer-protocol.ts";
import { spawned } from "./processes.ts";

const LIBZMQ_PEER = join(import.meta.dir, "..", "bench", "libzmq-peer.mjs");
const BUN_PEER = join(import.meta.dir, "..", "bench", "bun-peer.ts");

export type EchoKind = "libzmq" | "ours" | "tcp";
const ROOT = join(import.meta.dir, "..", "..");

export interface EchoResult {
  /** Round trips in µs, in the order measured (warm-up excluded). */
  readonly samples: number[];
  readonly runtime: string;
  /** libzmq's version (libzmq peers only). */
  readonly libzmq?: string;
}

/** Lines of JSON a peer writes, read as they come. */
class PeerProcess {
  readonly #process: Subprocess<"pipe", "pipe", "pipe">;
  readonly #records: PeerRecord[] = [];
  #stderr = "";
  #ended = false;

  constructor(kind: EchoKind, name: string) {
    const command = kind === "libzmq" ? ["node", LIBZMQ_PEER] : [process.execPath, BUN_PEER, kind];
    const child = spawned(
      Bun.spawn(command, { cwd: ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe" }),
      name,
    );
    this.#process = child;
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) this.#stderr += decoder.decode(chunk);
    })();
    void (async () => {
      const decoder = new TextDecoder();
      let buffered = "";
      for await (const chunk of child.stdout) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let at = buffered.indexOf("\n"); at >= 0; at = buffered.indexOf("\n")) {
          const line = buffered.slice(0, at).trim();
          buffered = buffered.slice(at + 1);
          if (line !== "") this.#records.push(JSON.parse(line) as PeerRecord);
        }
      }
      this.#ended = true;
    })();
  }

  /** Typed: the peer protocol changed once under this caller without the compiler noticing. */
  send(config: PeerConfig): void {
    this.#process.stdin.write(`${JSON.stringify(config)}\n`);
    this.#process.stdin.flush();
  }

  async next<E extends PeerRecord["ev"]>(ev: E, timeoutMs: number) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.#records.find((record) => record.ev === ev || record.ev === "error");
      if (found?.ev === "error") throw new Error(`echo peer: ${found.message}`);
      if (found !== undefined) return found as Extract<PeerRecord, { ev: E }>;
      if (this.#ended)
        throw new Error(`echo peer exited before "${ev}": ${this.#stderr.slice(-500)}`);
      if (performance.now() > deadline) throw new Error(`echo peer: no "${ev}" in ${timeoutMs} ms`);
      await Bun.sleep(5);
    }
  }

  async stop(): Promise<void> {
    try {
      this.#process.stdin.end();
    } catch {
      // already closed
    }
    const exited = await Promise.race([this.#process.exited, Bun.sleep(3000).then(() => null)]);
    if (exited === null) this.#process.kill("SIGKILL");
  }
}

/** `roundTrips` timed echoes of `size` bytes after `warmUp` untimed ones, over `kind`. */
export async function echoReference(
  kind: EchoKind,
  size: number,
  roundTrips: number,
  warmUp: number,
): Promise<EchoResult> {
  const server = generateKeyPair();
  const client = generateKeyPair();
  const keys: BenchKeys = {
    serverPublic: z85Encode(server.publicKey),
    serverSecret: z85Encode(server.secretKey),
    clientPublic: z85Encode(client.publicKey),
    clientSecret: z85Encode(client.secretKey),
  };
  const router = new PeerProcess(kind, `${kind} echo server`);
  try {
    router.send({ role: "server", keys, highWaterMark: 100_000 });
    const ready = await router.next("ready", 20_000);
    const dealer = new PeerProcess(kind, `${kind} echo client`);
    try {
      dealer.send({
        role: "client",
        endpoint: ready.endpoint,
        keys,
        highWaterMark: 100_000,
        // Only the round trips are used; the throughput run is the peer's minimum
        plans: [
          {
            size,
            roundTrips,
            warmUp,
            throughputMessages: 1000,
            throughputWarmUp: 100,
            window: 100,
          },
        ],
        stallMs: 10_000,
      });
      const result = await dealer.next("result", 180_000);
      return {
        samples: [...(result.latency[0]?.samples ?? [])],
        runtime: ready.runtime,
        ...(ready.libzmq === undefined ? {} : { libzmq: ready.libzmq }),
      };
    } finally {
      await dealer.stop();
    }
  } finally {
    await router.stop();
  }
}
