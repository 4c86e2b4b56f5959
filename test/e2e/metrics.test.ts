/**
 * Monitoring as an operator meets it (issue 18 §1): both agents started as processes, an order
 * through them, then their /metrics scraped. The exposition passes `promtool check metrics`, the
 * alert rules pass `promtool check rules`, and every metric the alert rules and the Grafana
 * dashboard name is one a real agent exports: a renamed metric fails here, not silently in a
 * dashboard months later. promtool comes from Debian's `prometheus` package (scripts/setup.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type RunningAgent,
  type RunningGateway,
  startGateway,
} from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import {
  bearer,
  type InferenceSetup,
  PERMISSIVE_RISK,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";

const ROOT = join(import.meta.dir, "..", "..");
const RULES = join(ROOT, "deploy", "prometheus", "alerts.yml");
const DASHBOARD = join(ROOT, "deploy", "grafana", "mt5-bridge.json");
/** Series Prometheus makes itself, not the agents. */
const PROMETHEUS_BUILTINS = new Set(["up"]);

let deployment: Deployment;
let gateway: RunningGateway;
let inference: RunningAgent;
let setup: InferenceSetup;
let gatewayMetrics = "";
let inferenceMetrics = "";

function promtool(args: readonly string[], stdin?: string) {
  const result = Bun.spawnSync(["promtool", ...args], {
    stdin: stdin === undefined ? "ignore" : Buffer.from(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    code: result.exitCode,
    output: `${result.stdout.toString()}${result.stderr.toString()}`,
  };
}

/** Metric families a scrape declares (`# TYPE name kind`). */
function declared(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm))
    families.set(match[1] as string, match[2] as string);
  return families;
}

/** The agent metric names a PromQL text mentions (histogram series by their family). */
function namedIn(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/\b(agent_(?:inf|gtw)_[a-z0-9_]+|up)\b/g))
    names.add(match[1] as string);
  return names;
}

function family(name: string, families: Map<string, string>): string | undefined {
  if (families.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return families.get(base) === "histogram" ? base : undefined;
}

beforeAll(async () => {
  deployment = createDeployment();
  gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  setup = writeInferenceConfig(deployment, gateway.endpoint, { risk: PERMISSIVE_RISK });
  inference = await startInference(setup, 30_000);
  // One order through both agents, so the latency and journal histograms have samples; in lower
  // case, which MT5 accepts too: it reaches the gateway in the broker's spelling (issue 18 §4)
  const order = await fetch(`${setup.apiUrl}/v1/orders`, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(setup.token) },
    body: JSON.stringify({ symbol: "eurusd", side: "BUY", volume: 0.01 }),
  });
  expect(await order.json()).toMatchObject({ outcome: "FILLED" });
  const positions = await (
    await fetch(`${setup.apiUrl}/v1/positions?symbol=eurusd`, { headers: bearer(setup.token) })
  ).json();
  expect(positions).toMatchObject({ positions: [{ symbol: "EURUSD", volume: 0.01 }] });
  const status = JSON.parse(readFileSync(join(deployment.gtwStateDir, "status.json"), "utf8")) as {
    metrics?: string;
  };
  expect(status.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  gatewayMetrics = await (await fetch(status.metrics as string)).text();
  // The account gauges follow the equity poll (every heartbeat interval)
  inferenceMetrics = await eventually(
    async () => {
      const text = await (
        await fetch(`${setup.apiUrl}/metrics`, { headers: bearer(setup.token) })
      ).text();
      return text.includes("agent_inf_account_equity{") ? text : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}, 60_000);

afterAll(async () => {
  await inference?.stop();
  await gateway?.stop();
});

describe("metrics of real agents", () => {
  test("the gateway counts the order by action and outcome, per stage, and its journal sync", () => {
    expect(gatewayMetrics).toContain('agent_gtw_orders_total{action="OPEN",outcome="FILLED"} 1');
    for (const stage of ["verify", "journal", "backend"])
      expect(gatewayMetrics).toMatch(
        new RegExp(`agent_gtw_order_stage_seconds_count\\{stage="${stage}"\\} [1-9]`),
      );
    expect(gatewayMetrics).toMatch(/^agent_gtw_journal_fsync_seconds_count [1-9]/m);
    expect(gatewayMetrics).toMatch(/^agent_gtw_journal_bytes [1-9]\d*$/m);
    expect(gatewayMetrics).toMatch(/^agent_gtw_mt5_link_up 1$/m);
    expect(gatewayMetrics).toMatch(/^agent_gtw_clients_connected [1-9]$/m);
    expect(gatewayMetrics).toMatch(
      /^agent_gtw_build_info\{version="[^"]+",runtime="bun [^"]+"\} 1$/m,
    );
  });

  test("the gateway's refusals are counted by stage and reason", async () => {
    // Every reason is exported from the start, at 0, so a rate() over it never starts empty
    expect(gatewayMetrics).toContain(
      'agent_gtw_refusals_total{stage="pre_auth",reason="refused_key"} 0',
    );
    expect(gatewayMetrics).toContain(
      'agent_gtw_refusals_total{stage="client",reason="malformed_request"} 0',
    );
    // A stranger's bytes that are no ZMTP greeting: refused before any handshake work
    const port = Number(new URL(gateway.endpoint.replace("tcp://", "http://")).port);
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: { data() {}, close() {}, error() {} },
    });
    socket.write(new Uint8Array(64).fill(0xab));
    const metricsUrl = (
      JSON.parse(readFileSync(join(deployment.gtwStateDir, "status.json"), "utf8")) as {
        metrics: string;
      }
    ).metrics;
    const after = await eventually(
      async () => {
        const text = await (await fetch(metricsUrl)).text();
        return /agent_gtw_refusals_total\{stage="pre_auth",reason="handshake_protocol"\} [1-9]/.test(
          text,
        )
          ? text
          : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: "the garbage greeting counted" },
    );
    socket.end();
    expect(after).toContain('agent_gtw_refusals_total{stage="pre_auth",reason="refused_key"} 0');
  });

  test("the inference agent reports the account, the clock offset and loss limits", () => {
    expect(inferenceMetrics).toMatch(/^agent_inf_account_equity\{gateway="gtw-test"\} \d/m);
    expect(inferenceMetrics).toMatch(/^agent_inf_account_balance\{gateway="gtw-test"\} \d/m);
    expect(inferenceMetrics).toMatch(/^agent_inf_clock_offset_seconds\{gateway="gtw-test"\} /m);
    // A ratio from 0 to 1, however it is spelt (a tiny one prints as 1.2e-7)
    const used = inferenceMetrics.match(
      /^agent_inf_clock_offset_window_used_ratio\{gateway="gtw-test"\} (\S+)$/m,
    )?.[1];
    expect(used).toBeDefined();
    expect(Number(used)).toBeGreaterThanOrEqual(0);
    expect(Number(used)).toBeLessThan(1);
    expect(inferenceMetrics).toMatch(/^agent_inf_open_positions\{gateway="gtw-test"\} 1$/m);
    expect(inferenceMetrics).toMatch(/^agent_inf_build_info\{/m);
  });

  test("both expositions pass promtool check metrics", () => {
    for (const text of [gatewayMetrics, inferenceMetrics]) {
      const result = promtool(["check", "metrics"], text);
      expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: "" });
    }
  });

  test("the alert rules pass promtool check rules, the scrape config its syntax check", () => {
    const rules = promtool(["check", "rules", RULES]);
    expect(rules.output).toContain("SUCCESS");
    expect(rules.code).toBe(0);
    const config = promtool([
      "check",
      "config",
      "--syntax-only",
      join(ROOT, "deploy", "prometheus", "prometheus.yml"),
    ]);
    expect(config.code).toBe(0);
  });

  test("every metric the alert rules and the dashboard name exists in a real agent's /metrics", () => {
    const families = new Map([...declared(gatewayMetrics), ...declared(inferenceMetrics)]);
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((t) => t.expr);
    const named = new Set([...namedIn(readFileSync(RULES, "utf8")), ...namedIn(exprs.join("\n"))]);
    expect(named.size).toBeGreaterThan(30);
    const missing = [...named].filter(
      (name) => !PROMETHEUS_BUILTINS.has(name) && family(name, families) === undefined,
    );
    expect(missing).toEqual([]);
  });
});
