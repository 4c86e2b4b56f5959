/**
 * `agent-inf ping`: a latency test straight to the gateway with this host's CURVE keys, without
 * the running agent (it proves keys, firewall and gateway before the service is installed). PINGs
 * go one after another, each waiting for its reply, so a round trip is never queued behind another.
 * Clock offset per reply: gateway server_time − our wall clock at the round trip's midpoint.
 */
import { ExitCode, locateConfig } from "../../shared/cli.ts";
import { systemClock } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import { readSecretKeyFile } from "../../shared/keys/curve-keys.ts";
import { silentLogger } from "../../shared/log.ts";
import type { PingReply } from "../../shared/protocol/index.ts";
import { installCryptoBackend } from "../../shared/sodium/install.ts";
import { findGateway, loadInferenceConfig } from "../config.ts";
import { connectionFor } from "../gateway/connection.ts";
import type { GatewayStatus } from "../gateway/events.ts";
import { GatewayClient } from "../gateway/gateway-client.ts";
import { GatewayRefused } from "../gateway/port.ts";
import { type CliCommand, CONFIG_ENV, CONFIG_FILE, PROGRAM } from "./command.ts";
import { ms, signed } from "./format.ts";

type PingCommand = Extract<CliCommand, { kind: "ping" }>;

/** Above this many PINGs only the summary is printed. */
const LIST_LIMIT = 20;

export interface PingSummary {
  readonly gateway: string;
  readonly endpoint: string;
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  /** Round trips in ms; absent when nothing came back. */
  readonly rtt_ms?: {
    readonly min: number;
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
  };
  /** Median of gateway server_time − local midpoint, ms. */
  readonly clock_offset_ms?: number;
}

export function summarize(
  gateway: string,
  endpoint: string,
  sent: number,
  rtts: readonly number[],
  offsets: readonly number[],
): PingSummary {
  const sorted = rtts.toSorted((a, b) => a - b);
  const base = { gateway, endpoint, sent, received: rtts.length, lost: sent - rtts.length };
  if (sorted.length === 0) return base;
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    ...base,
    rtt_ms: {
      min: micro(sorted[0] as number),
      p50: micro(nearestRank(sorted, 50)),
      p95: micro(nearestRank(sorted, 95)),
      p99: micro(nearestRank(sorted, 99)),
      max: micro(sorted[sorted.length - 1] as number),
      mean: micro(sum / sorted.length),
    },
    clock_offset_ms: micro(
      nearestRank(
        offsets.toSorted((a, b) => a - b),
        50,
      ),
    ),
  };
}

export function formatPingSummary(summary: PingSummary): string {
  const loss = summary.sent === 0 ? 0 : (summary.lost / summary.sent) * 100;
  const lines = [
    `--- ${summary.gateway} (${summary.endpoint}) ping statistics ---`,
    `${summary.sent} sent, ${summary.received} received, ${summary.lost} lost (${loss.toFixed(1)} % loss)`,
  ];
  const rtt = summary.rtt_ms;
  if (rtt !== undefined) {
    lines.push(
      `rtt min ${ms(rtt.min)}  p50 ${ms(rtt.p50)}  p95 ${ms(rtt.p95)}  p99 ${ms(rtt.p99)}  max ${ms(rtt.max)}`,
    );
  }
  const offset = summary.clock_offset_ms;
  if (offset !== undefined) {
    lines.push(`clock offset ${signed(offset)} ms (gateway server_time − local midpoint, median)`);
  }
  return `${lines.join("\n")}\n`;
}

export async function runPing(command: PingCommand): Promise<number> {
  const config = loadInferenceConfig(locateConfig(command.config, CONFIG_ENV, CONFIG_FILE));
  const entry = findGateway(config, command.gateway);
  const keys = readSecretKeyFile(config.keys.client_secret);
  // Boxes as `run` does, so ping measures the agent's crypto and refuses the same bad settings
  installCryptoBackend();
  // PING is never signed: no signer, so the signing key stays unread (it may live with another
  // user). Nothing is logged; what went wrong comes back as the session's status events.
  const client = new GatewayClient({
    port: connectionFor(entry, keys, systemClock, silentLogger),
    clock: systemClock,
    logger: silentLogger,
  });
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on("SIGINT", onSigint);
  try {
    // Wait for the handshake so the first round trip measures a PING, not the connection.
    const problem = await reachGateway(client, entry.request_timeout_ms);
    if (problem !== undefined) {
      process.stderr.write(`${PROGRAM}: ${problem}\n`);
      return ExitCode.FAILURE;
    }
    // Untimed: the first PINGs of a process pay for JIT compilation, not for the network
    for (let i = 0; i < (command.warmup ?? 0) && !interrupted; i++) {
      await client
        .query({ action: "PING" }, { timeoutMs: entry.request_timeout_ms, retries: 0 })
        .catch(() => undefined);
    }
    const list = !command.json && command.count <= LIST_LIMIT;
    const rtts: number[] = [];
    const offsets: number[] = [];
    let sent = 0;
    for (let seq = 1; seq <= command.count && !interrupted; seq++) {
      if (seq > 1 && command.intervalMs > 0) await Bun.sleep(command.intervalMs);
      sent += 1;
      const startedAt = performance.now();
      try {
        const reply = await client.query(
          { action: "PING" },
          { timeoutMs: entry.request_timeout_ms, retries: 0 },
        );
        const rtt = performance.now() - startedAt;
        if (reply.status !== "OK") throw new GatewayRefused("PING", reply);
        const midpoint = performance.timeOrigin + startedAt + rtt / 2;
        const offset = (reply as PingReply).server_time - midpoint;
        rtts.push(rtt);
        offsets.push(offset);
        if (list) process.stdout.write(`seq=${seq} rtt=${ms(rtt)}  offset=${signed(offset)} ms\n`);
      } catch (error) {
        if (list) process.stdout.write(`seq=${seq} lost: ${describeError(error)}\n`);
      }
    }
    const summary = summarize(entry.name, entry.endpoint, sent, rtts, offsets);
    process.stdout.write(
      command.json ? `${JSON.stringify(summary)}\n` : formatPingSummary(summary),
    );
    return summary.lost === 0 ? ExitCode.OK : ExitCode.FAILURE;
  } finally {
    process.off("SIGINT", onSigint);
    await client.close();
  }
}

/**
 * Connect and wait for the CURVE session: undefined once it is up, else why not in one line
 * (the last handshake failure the session reported, such as a refused key, when there was one).
 */
export async function reachGateway(
  client: GatewayClient,
  timeoutMs: number,
): Promise<string | undefined> {
  let failure: Extract<GatewayStatus, { type: "handshake_failed" }> | undefined;
  const off = client.onStatus((status) => {
    if (status.type === "handshake_failed") failure = status;
  });
  try {
    client.connect();
    if (await client.waitConnected(timeoutMs)) return undefined;
  } finally {
    off();
  }
  const why =
    failure === undefined ? "" : `: handshake failed (${failure.code}): ${failure.reason}`;
  return `cannot reach gateway ${client.name} at ${client.endpoint} within ${timeoutMs} ms${why}`;
}

/** Round ms to whole microseconds: the precision the timers give, without float noise. */
function micro(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function nearestRank(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}
