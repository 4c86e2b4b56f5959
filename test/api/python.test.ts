/**
 * The Python examples (examples/python) against a real stack: the strategy loop trades a
 * position end to end, and the stdlib client's every method, typed errors, bearer token and
 * same-id retries on an unreachable gateway work as docs/API.md says.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  type ApiStack,
  DEAD_GATEWAY,
  MAX_LOTS,
  SLOW_GATEWAY,
  startStack,
} from "../support/api-stack.ts";

const PYTHON = "/usr/bin/python3";
const EXAMPLES = join(import.meta.dir, "..", "..", "examples", "python");
const RUN_TIMEOUT_MS = 20_000;

const stacks: ApiStack[] = [];
afterEach(async () => {
  for (const stack of stacks.splice(0)) await stack.close();
});

async function stack(options: Parameters<typeof startStack>[0] = {}): Promise<ApiStack> {
  const started = await startStack(options);
  stacks.push(started);
  return started;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run python; killed (and failing) if it outlives RUN_TIMEOUT_MS. */
async function python(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const child = Bun.spawn([PYTHON, ...args], {
    cwd: EXAMPLES,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // No __pycache__ in the source tree; no proxy settings from the developer's shell
    env: {
      PATH: process.env["PATH"] ?? "",
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONPATH: EXAMPLES,
      ...env,
    },
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** A Python snippet that uses mlb_client and prints one JSON object. */
async function script(
  source: string,
  env: Record<string, string>,
): Promise<Record<string, unknown>> {
  const run = await python(["-c", source], env);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe("examples/python strategy_loop.py", () => {
  test("opens with SL/TP, watches, closes and exits 0", async () => {
    const s = await stack();

    const run = await python([
      "strategy_loop.py",
      "--api",
      s.api.url,
      "--iterations",
      "3",
      "--interval",
      "0.05",
      "--signal",
      "random",
      "--seed",
      "1",
      "--hold",
      "2",
    ]);
    const opened = /OPEN FILLED ticket=(\d+) .*coid=(\S+)/.exec(run.stdout);
    const left = await s.call("GET", "/v1/positions");
    const record = await s.call("GET", `/v1/orders/${opened?.[2]}`);

    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toContain("iteration 3:");
    expect(opened).not.toBeNull();
    expect(run.stdout).toContain(`CLOSE FILLED ticket=${opened?.[1]}`);
    expect(left.json["positions"]).toEqual([]);
    expect(record.json).toMatchObject({ order: { action: "OPEN", state: "FILLED" } });
  });

  test("a denied order is reported, not retried, and the loop carries on", async () => {
    const s = await stack();

    const run = await python([
      "strategy_loop.py",
      "--api",
      s.api.url,
      "--iterations",
      "2",
      "--interval",
      "0.05",
      "--signal",
      "random",
      "--seed",
      "3",
      "--volume",
      String(MAX_LOTS * 5),
    ]);
    const orders = await s.call("GET", "/metrics");

    expect(run.code).toBe(0);
    expect(run.stdout.match(/OPEN DENIED VOLUME_ABOVE_MAX/g)).toHaveLength(2);
    expect(run.stdout).toContain("iteration 2:");
    expect(orders.text).toContain('agent_inf_risk_denials_total{code="VOLUME_ABOVE_MAX"} 2');
  });
});

describe("examples/python mlb_client.py", () => {
  test("every route through the client, with typed errors", async () => {
    const s = await stack();

    const out = await script(
      `
import json
from mlb_client import KEEP, InvalidRequest, MlbClient, NotFound, UnknownGateway

c = MlbClient("${s.api.url}")
out = {}
quote = c.symbol_info("EURUSD")
opened = c.open("EURUSD", "BUY", 0.1 + 0.2, sl=round(quote["bid"] - 0.01, 5), comment="py")
out["open"] = [opened.outcome, opened.http_status, opened.reply["volume"]]
out["positions"] = [p["ticket"] for p in c.positions("EURUSD")] == [opened.ticket]
out["order"] = c.get_order(opened.client_order_id)["state"]
out["never"] = c.get_order("never-sent")
modified = c.modify(opened.ticket, sl=None, tp=KEEP)
out["modify"] = [modified.outcome, modified.reply["sl"]]
closed = c.close(opened.ticket)
out["close"] = [closed.outcome, closed.reply["remaining_volume"]]
denied = c.open("EURUSD", "SELL", ${MAX_LOTS + 1})
out["denied"] = [denied.outcome, denied.http_status, denied.code]
out["account"] = c.account()["currency"]
out["health"] = c.set_trading_state("REDUCING", reason="py test")["gateways"][0]["trading_state"]
c.set_trading_state("ACTIVE")
out["breaker"] = c.engage_breaker("py drill")["gateways"][0]["breaker"]["engaged"]
out["reset"] = c.reset_breaker()["gateways"][0]["breaker"]["engaged"]
out["metrics"] = "agent_inf_orders_total" in c.metrics()
for name, call in [("bad", lambda: c.open("EURUSD", "BUY", 0)),
                   ("symbol", lambda: c.symbol_info("NOPE")),
                   ("gateway", lambda: c.account(gateway="nowhere"))]:
    try:
        call()
        out[name] = "no error"
    except (InvalidRequest, UnknownGateway, NotFound) as error:
        out[name] = [type(error).__name__, error.status, error.code, error.field]
print(json.dumps(out))
`,
      {},
    );

    expect(out).toEqual({
      open: ["FILLED", 200, 0.3],
      positions: true,
      order: "FILLED",
      never: null,
      modify: ["FILLED", null],
      close: ["FILLED", 0],
      denied: ["DENIED", 422, "VOLUME_ABOVE_MAX"],
      account: "USD",
      health: "REDUCING",
      breaker: true,
      reset: false,
      metrics: true,
      bad: ["InvalidRequest", 400, "INVALID_REQUEST", "volume"],
      symbol: ["NotFound", 404, "UNKNOWN_SYMBOL", null],
      gateway: ["UnknownGateway", 404, "UNKNOWN_GATEWAY", "gateway"],
    });
  });

  test("an unanswered order keeps its client_order_id through retries and polling", async () => {
    const s = await stack();

    const out = await script(
      `
import json
from mlb_client import MlbClient, GatewayUnavailable

c = MlbClient("${s.api.url}", retries=1, retry_delay=0.01, settle_timeout=0.2)
result = c.open("EURUSD", "BUY", 0.1, client_order_id="py-unknown-1", gateway="${SLOW_GATEWAY}")
try:
    c.account(gateway="${DEAD_GATEWAY}")
    unavailable = None
except GatewayUnavailable as error:
    unavailable = [error.status, error.code]
print(json.dumps({"outcome": result.outcome, "coid": result.client_order_id,
                  "duplicate": result.reply.get("duplicate") if result.reply else None,
                  "unavailable": unavailable}))
`,
      {},
    );
    const metrics = await s.call("GET", "/metrics");
    const positions = await s.call("GET", `/v1/positions?gateway=${SLOW_GATEWAY}`);

    // The first attempt executed but its outcome was UNKNOWN; the retry with the same id was
    // answered from the gateway's journal instead of trading again.
    expect(out).toEqual({
      outcome: "FILLED",
      coid: "py-unknown-1",
      duplicate: true,
      unavailable: [504, "GATEWAY_UNREACHABLE"],
    });
    expect((positions.json["positions"] as unknown[]).length).toBe(1);
    // Both attempts reached the agent as the same intent
    expect(metrics.text).toContain('agent_inf_orders_total{action="OPEN",outcome="UNKNOWN"} 1');
    expect(metrics.text).toContain('agent_inf_orders_total{action="OPEN",outcome="FILLED"} 1');
  });

  test("sends the bearer token from MLB_API_TOKEN and reports a wrong one", async () => {
    const s = await stack({ gateway: false, token: "py-token-123" });
    const source = `
import json
from mlb_client import MlbClient, Unauthorized, read_token
try:
    print(json.dumps({"agent": MlbClient("${s.api.url}", read_token(None)).health()["agent"]}))
except Unauthorized as error:
    print(json.dumps({"refused": [error.status, error.code]}))
`;

    const right = await script(source, { MLB_API_TOKEN: "py-token-123" });
    const wrong = await script(source, { MLB_API_TOKEN: "nope" });

    expect(right).toEqual({ agent: "inf-api-test" });
    expect(wrong).toEqual({ refused: [401, "UNAUTHORIZED"] });
  });
});
