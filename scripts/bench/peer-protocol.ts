/**
 * What scripts/bench-transport.ts and its peer processes say to each other. A peer reads ONE
 * line of JSON config from stdin, then reports JSON lines on stdout; a server runs until its
 * stdin closes, a client exits after its `result`. Keys travel on stdin, not argv, so they do
 * not show up in `ps`. scripts/bench/libzmq-peer.mjs (Node) speaks the same shapes.
 *
 * Clients report raw round-trip samples: the orchestrator computes every percentile with one
 * function, whichever runtime measured them.
 */

export type BenchTransport = "tcp" | "ours" | "libzmq";

/** CURVE key pairs as Z85 text (RFC 32), fresh for every run. */
export interface BenchKeys {
  readonly serverPublic: string;
  readonly serverSecret: string;
  readonly clientPublic: string;
  readonly clientSecret: string;
}

export interface ServerConfig {
  readonly role: "server";
  readonly keys: BenchKeys;
  /** Send/receive high-water mark, set far above the window so no echo is ever dropped. */
  readonly highWaterMark: number;
}

/** What to measure for one message size (large messages get fewer, smaller windows). */
export interface SizePlan {
  readonly size: number;
  /** Timed round trips, one message in flight, after `warmUp` untimed ones. */
  readonly roundTrips: number;
  readonly warmUp: number;
  /** Echoed messages with `window` in flight, after `throughputWarmUp` untimed ones. */
  readonly throughputMessages: number;
  readonly throughputWarmUp: number;
  readonly window: number;
}

export interface ClientConfig {
  readonly role: "client";
  readonly endpoint: string;
  readonly keys: BenchKeys;
  readonly highWaterMark: number;
  /** All round trips of every size first, then all throughput runs, in this order. */
  readonly plans: readonly SizePlan[];
  /** Fail when nothing arrives for this long (a dropped message would otherwise hang). */
  readonly stallMs: number;
}

export type PeerConfig = ServerConfig | ClientConfig;

export interface LatencyReport {
  readonly size: number;
  /** Round-trip times in µs, in the order measured. */
  readonly samples: readonly number[];
}

export interface ThroughputReport {
  readonly size: number;
  readonly messages: number;
  readonly nanoseconds: number;
}

export type PeerRecord =
  | {
      readonly ev: "ready";
      readonly endpoint: string;
      /** e.g. "bun 1.4.5" or "node v20.20.2" */
      readonly runtime: string;
      /** libzmq peer only: the library's version, e.g. "4.3.5". */
      readonly libzmq?: string;
    }
  | {
      readonly ev: "result";
      readonly latency: readonly LatencyReport[];
      readonly throughput: readonly ThroughputReport[];
    }
  | { readonly ev: "error"; readonly message: string };
