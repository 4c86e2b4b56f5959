/**
 * Load (issue 7 §3): 10 inference hosts (10 agent-inf processes, each with its own keys) send
 * 1,000 orders each through their local APIs to one gateway on the simulated MT5, OPEN and CLOSE
 * of the same position in turn, a few in flight per host. Every order must be accounted for:
 * answered FILLED, recorded FILLED in the gateway's journal, and present as exactly one deal in
 * the broker's books, with no position left open. Throughput and latency percentiles (HTTP
 * request in to answer out, so risk, signing, CURVE, journal and fill included) are printed;
 * nothing here asserts a timing.
 *
 * Default: 10 × 1,000 orders. LOAD_ORDERS changes the count per host; MLB_LONG=1 runs 10 × 5,000.
 */
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { auditBooks, Cleanups, percentile } from "../faults/support.ts";
import { scaled } from "../support/long.ts";
import { type FleetClient, startFleet } from "./fleet.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const HOSTS = 10;
const ORDERS_PER_HOST = Number(process.env["LOAD_ORDERS"] ?? scaled(1000, 5000));
/** OPEN/CLOSE pairs in flight per host. */
const IN_FLIGHT = 4;
const SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY"] as const;

interface Sent {
  readonly coid: string;
  readonly action: "OPEN" | "CLOSE";
  readonly ms: number;
  readonly outcome: string;
}

function rssMib(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Math.round(Number(match?.[1]) / 102.4) / 10;
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function drive(client: FleetClient, host: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  let next = 0;
  const timed = async (coid: string, action: "OPEN" | "CLOSE", path: string, body: object) => {
    const started = performance.now();
    const answer = await client.api.call("POST", path, body, 60_000);
    const outcome = String(answer.json["outcome"] ?? answer.status);
    sent.push({ coid, action, ms: performance.now() - started, outcome });
    return answer;
  };
  const loop = async () => {
    while (next + 2 <= ORDERS_PER_HOST) {
      const n = next;
      next += 2;
      const open = await timed(`ld-${host}-${n}`, "OPEN", "/v1/orders", {
        client_order_id: `ld-${host}-${n}`,
        symbol: SYMBOLS[n % SYMBOLS.length],
        side: n % 4 === 0 ? "BUY" : "SELL",
        volume: 0.01,
      });
      const ticket = (open.json["reply"] as { ticket?: number } | undefined)?.ticket;
      if (ticket === undefined) continue;
      await timed(`ld-${host}-${n + 1}`, "CLOSE", `/v1/positions/${ticket}/close`, {
        client_order_id: `ld-${host}-${n + 1}`,
      });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  return sent;
}

test(
  `${HOSTS} inference hosts × ${ORDERS_PER_HOST.toLocaleString("en-US")} orders against one gateway: every order accounted for`,
  async () => {
    const fleet = await startFleet(cleanups, HOSTS);
    const idle = {
      gateway_rss_mib: rssMib(fleet.gateway.process.pid),
      agent_inf_rss_mib: rssMib(fleet.clients[0]?.agent.process.pid as number),
    };
    let peakGateway = 0;
    let peakInf = 0;
    const sampler = setInterval(() => {
      peakGateway = Math.max(peakGateway, rssMib(fleet.gateway.process.pid));
      peakInf = Math.max(peakInf, rssMib(fleet.clients[0]?.agent.process.pid as number));
    }, 100);
    const cpu = () => ({
      gateway: cpuSeconds(fleet.gateway.process.pid),
      agents: fleet.clients.reduce((sum, client) => sum + cpuSeconds(client.agent.process.pid), 0),
      driver: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    });
    const cpuBefore = cpu();
    const started = performance.now();
    let results: Sent[][];
    try {
      results = await Promise.all(fleet.clients.map((client, host) => drive(client, host)));
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = cpu();
    const all = results.flat();

    // Every order answered FILLED, and the journal (asked through each host's agent-inf) agrees
    expect(all).toHaveLength(HOSTS * ORDERS_PER_HOST);
    expect(all.filter((sent) => sent.outcome !== "FILLED").slice(0, 5)).toEqual([]);
    const journalMisses: string[] = [];
    for (const [host, client] of fleet.clients.entries()) {
      for (const sent of results[host] as Sent[]) {
        if (sent.coid.endsWith("7")) {
          // A sample per host through the API; the books below check every one
          const record = await client.api.order(sent.coid);
          if (record?.state !== "FILLED") journalMisses.push(`${sent.coid}: ${record?.state}`);
        }
      }
    }
    expect(journalMisses).toEqual([]);

    expect(await fleet.gateway.stop()).toBe(0);
    const sender = new Map<string, string>();
    for (const [host, client] of fleet.clients.entries())
      for (const sent of results[host] as Sent[]) sender.set(sent.coid, client.name);
    const audit = await auditBooks(
      fleet.deployment,
      all.map((sent) => sent.coid),
      (coid) => sender.get(coid) ?? "",
    );
    expect(audit.strangers).toEqual([]);
    const wrong = all.filter((sent) => audit.dealsByCoid.get(sent.coid)?.length !== 1);
    expect(wrong.map((sent) => sent.coid).slice(0, 5)).toEqual([]);
    expect(audit.positions).toEqual([]);

    const latency = all.map((sent) => sent.ms).sort((a, b) => a - b);
    const of = (action: string) =>
      all
        .filter((sent) => sent.action === action)
        .map((sent) => sent.ms)
        .sort((a, b) => a - b);
    const stats = (sorted: number[]) => ({
      p50_ms: Math.round(percentile(sorted, 0.5) * 100) / 100,
      p95_ms: Math.round(percentile(sorted, 0.95) * 100) / 100,
      p99_ms: Math.round(percentile(sorted, 0.99) * 100) / 100,
      max_ms: Math.round((sorted[sorted.length - 1] as number) * 100) / 100,
    });
    console.log(
      `[load] ${JSON.stringify({
        hosts: HOSTS,
        orders: all.length,
        in_flight: HOSTS * IN_FLIGHT,
        seconds: Math.round(seconds * 10) / 10,
        orders_per_second: Math.round(all.length / seconds),
        all: stats(latency),
        open: stats(of("OPEN")),
        close: stats(of("CLOSE")),
        filled: all.length,
        deals: all.length,
        positions_left: 0,
        idle,
        peak_gateway_rss_mib: peakGateway,
        peak_agent_inf_rss_mib: peakInf,
        // Where the 2 × seconds of CPU went: the gateway, the 10 agent-inf processes, this driver
        cpu_seconds: {
          gateway: Math.round((cpuAfter.gateway - cpuBefore.gateway) * 10) / 10,
          agent_inf_all: Math.round((cpuAfter.agents - cpuBefore.agents) * 10) / 10,
          http_driver: Math.round((cpuAfter.driver - cpuBefore.driver) * 10) / 10,
        },
      })}`,
    );
  },
  scaled(180_000, 900_000),
);
