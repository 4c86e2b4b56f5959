/**
 * A handshake flood against the gateway process while an established client PINGs (issue 7 §2,
 * DESIGN §8 "handshake floods must not starve established links"): another process opens
 * hundreds of connections a second, each with a valid-looking HELLO (scripts/bench-e2e/
 * hello-flood.ts). Every PING of the established session is still answered; its p50/p99 with
 * and without the flood are printed (scripts/bench.ts measures the same on the compiled agents
 * for docs/PERFORMANCE.md). The bound asserted on p99 is generous; the figure is the point. The
 * flood must not turn into one log line per connection either: the gateway logs to a file here,
 * as its Windows service does, and the lines it writes during the flood are counted.
 */
import { afterEach, expect, test } from "bun:test";
import { startFlood } from "../../scripts/bench-e2e/flood.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type { PingReply } from "../../shared/protocol/index.ts";
import { Cleanups, percentile, startStack } from "../faults/support.ts";
import { scaled } from "../support/long.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

/** PINGs back to back for this long, with and without the flood. */
const PING_SECONDS = scaled(3, 20);
const FLOOD_RATE = Number(process.env["FLOOD_RATE"] ?? 500);
/** FLOOD_FROM=127.0.0.1 measures a flood sharing the established client's address. */
const FLOOD_FROM = process.env["FLOOD_FROM"] ?? "127.0.0.2";

/** Round trips in ms, sorted; a PING that is not answered OK fails the test. */
async function pings(client: TestClient, seconds: number): Promise<number[]> {
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const started = performance.now();
    const reply = (await client.send({ action: "PING" }, 5000)) as PingReply;
    samples.push(performance.now() - started);
    if (reply.status !== "OK") throw new Error(`PING answered ${JSON.stringify(reply)}`);
  }
  return samples.sort((a, b) => a - b);
}

const summary = (sorted: number[]) => ({
  p50_ms: Math.round(percentile(sorted, 0.5) * 1000) / 1000,
  p99_ms: Math.round(percentile(sorted, 0.99) * 1000) / 1000,
  max_ms: Math.round((sorted[sorted.length - 1] as number) * 1000) / 1000,
});

test(
  `${FLOOD_RATE} HELLOs/s from another process: every PING of an established session is answered`,
  async () => {
    // With a log file, as the Windows service runs: every line is a synchronous append
    const stack = await startStack(cleanups, {
      inference: false,
      gatewayConfig: { log: { level: "info", file: "state/gtw.log" } },
    });
    const client = new TestClient(stack.gateway.endpoint, stack.deployment);
    cleanups.add(() => client.close());
    await pings(client, 0.5); // warm-up: session, JIT
    const quiet = await pings(client, PING_SECONDS);

    const logBefore = stack.gateway.log().length;
    // From an address of its own, as a remote attacker's would be (issue 12 §3: the pre-auth
    // limits are per address; one sharing the client's address is measured in RELIABILITY §7.5)
    const flooder = await startFlood({
      endpoint: stack.gateway.endpoint,
      serverKey: stack.deployment.gatewayKeys.publicKey,
      rate: FLOOD_RATE,
      maxSeconds: PING_SECONDS + 30,
      from: FLOOD_FROM,
    });
    cleanups.add(() => flooder.kill());
    const flooded = await pings(client, PING_SECONDS);
    // A new client during the flood: how long its handshake takes
    const joinedAt = performance.now();
    const newcomer = new TestClient(stack.gateway.endpoint, stack.deployment);
    cleanups.add(() => newcomer.close());
    const newcomerReply = await newcomer.send({ action: "PING" }, 10_000).catch(() => undefined);
    const newcomerMs = performance.now() - joinedAt;
    const flood = await flooder.stop();
    const gatewayLog = stack.gateway.log().slice(logBefore);
    const logLines = gatewayLog.split("\n").length - 1;

    expect(flooded.length).toBeGreaterThan(1000);
    expect(flood.per_second).toBeGreaterThan(200);
    expect(flood.welcomed + flood.refused).toBeGreaterThan(0);
    expect(stack.gateway.process.exitCode).toBeNull();
    expect(percentile(flooded, 0.99)).toBeLessThan(250);
    // From another address, the newcomer's handshake does not compete with the flood's
    if (FLOOD_FROM !== "127.0.0.1") expect(newcomerMs).toBeLessThan(1000);
    // The flood costs a bounded number of log lines, not one per connection (server.ts); the
    // rest are counted, and the count is logged when the window ends (here: at shutdown)
    expect(logLines).toBeLessThan(80);
    expect(await stack.gateway.stop()).toBe(0);
    const suppressed = [
      ...stack.gateway
        .log()
        .matchAll(/Handshake failures and refusals not logged one by one count=(\d+)/g),
    ].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(suppressed).toBeGreaterThan(0);
    console.log(
      `[hostile] handshake flood ${JSON.stringify({
        ping_seconds: PING_SECONDS,
        pings: { without_flood: quiet.length, with_flood: flooded.length },
        without_flood: summary(quiet),
        with_flood: summary(flooded),
        flood,
        new_client_first_ping_ms:
          newcomerReply === undefined ? "no answer in 10 s" : Math.round(newcomerMs),
        gateway_log_lines_during_flood: logLines,
        gateway_failures_counted_not_logged: suppressed,
      })}`,
    );
  },
  scaled(60_000, 300_000),
);
