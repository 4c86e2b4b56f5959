/**
 * A slow or hung MT5 (issue 7 §1c): the gateway process on the terminal backend, the fake
 * terminal (the EA side, on its own simulated broker) in this process, agent-inf in front. The
 * gateway gives a trade command 500 ms; past that the outcome is UNKNOWN, never re-sent, and is
 * reconciled from the broker's deals once the terminal is reachable again. agent-inf waits for
 * that reconciliation instead of guessing, and the strategy ends with one answer per order and
 * the broker with one deal.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createFakeTerminal,
  type FakeTerminal,
} from "../../agent-gtw/backend/terminal/testing/fake-terminal.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { freePort } from "../../scripts/harness/free-port.ts";
import { brokerOrderKey, hasCommentTag } from "../../shared/protocol/index.ts";
import { type ApiClient, Cleanups, type Stack, startStack } from "./support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const SECRET = "faults-secret-6d1e0b93a7c24f58e1d2c3b4a5968778";
const COMMAND_TIMEOUT_MS = 500;

interface Rig {
  readonly stack: Stack;
  readonly api: ApiClient;
  readonly fake: FakeTerminal;
}

async function rig(): Promise<Rig> {
  const port = freePort();
  const stack = await startStack(cleanups, {
    heartbeatMs: 300,
    gateway: { request_timeout_ms: 1000, order_timeout_ms: 3000, reconcile_deadline_ms: 15_000 },
    gatewayConfig: {
      backend: {
        type: "terminal",
        terminal: {
          port,
          secret_file: "keys/terminal.secret",
          heartbeat_ms: 200,
          command_timeout_ms: COMMAND_TIMEOUT_MS,
        },
      },
    },
    beforeGateway: (deployment) => {
      const file = join(deployment.dir, "gtw", "keys", "terminal.secret");
      writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    },
  });
  const fake = await createFakeTerminal({ port, secret: SECRET });
  cleanups.add(() => fake.dispose());
  fake.start();
  await mt5Link(stack.api, "UP");
  return { stack, api: stack.api, fake };
}

/** agent-inf's view of the MT5 link, from its last heartbeat. */
async function mt5Link(api: ApiClient, state: string): Promise<void> {
  await eventually(
    async () =>
      ((await api.health()).gateways[0] as unknown as { mt5_link?: string }).mt5_link === state,
    { timeoutMs: 10_000, message: `mt5 link ${state}` },
  );
}

function order(coid: string) {
  return { client_order_id: coid, symbol: "EURUSD", side: "BUY", volume: 0.01 };
}

/** Deals the terminal's broker holds for `coid`. */
async function dealsOf(fake: FakeTerminal, coid: string): Promise<number> {
  const deals = await fake.sim.deals({ from: 0, to: Number.MAX_SAFE_INTEGER });
  // The id's key at the broker is scoped by the client, inf-1 here (PROTOCOL.md §8)
  const key = brokerOrderKey("inf-1", coid);
  return deals.filter((deal) => hasCommentTag(deal.comment, key)).length;
}

async function finalState(api: ApiClient, coid: string): Promise<string> {
  return eventually(
    async () => {
      const record = await api.order(coid);
      return record?.state === "FILLED" || record?.state === "REJECTED" ? record.state : undefined;
    },
    { timeoutMs: 15_000, message: `${coid} settled` },
  );
}

describe("a slow or hung MT5 behind the gateway", () => {
  test("slow: the reply comes after the command timeout; UNKNOWN, then reconciled FILLED, executed once", async () => {
    const { api, fake, stack } = await rig();
    fake.faults.push({ kind: "delay", cmd: "OPEN", ms: 3 * COMMAND_TIMEOUT_MS });
    const started = performance.now();
    const answer = await api.call("POST", "/v1/orders", order("slow-1"));
    const answeredMs = performance.now() - started;
    // agent-inf asked until the gateway knew: FILLED, or UNKNOWN if its deadline came first
    expect(["FILLED", "UNKNOWN"]).toContain(answer.json["outcome"] as string);
    expect(await finalState(api, "slow-1")).toBe("FILLED");
    expect(await dealsOf(fake, "slow-1")).toBe(1);
    const gatewayLog = stack.gateway.log();
    expect(gatewayLog).toContain("Outcome unknown");
    expect(gatewayLog).toMatch(/Reconciled order coid=slow-1 action=OPEN state=FILLED/);
    // The link is back and the next order is ordinary
    const next = await api.call("POST", "/v1/orders", order("slow-2"));
    expect(next.json["outcome"]).toBe("FILLED");
    expect(await dealsOf(fake, "slow-2")).toBe(1);
    console.log(
      `[faults] backend slow ${JSON.stringify({
        command_timeout_ms: COMMAND_TIMEOUT_MS,
        reply_delay_ms: 3 * COMMAND_TIMEOUT_MS,
        api_outcome: answer.json["outcome"],
        api_answered_ms: Math.round(answeredMs),
        journal_state: "FILLED",
        deals: 1,
      })}`,
    );
  }, 60_000);

  test("hung: the terminal stops inside OrderSend; UNKNOWN while it hangs, other orders refused, then reconciled once", async () => {
    const { api, fake, stack } = await rig();
    let release = (): void => {};
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.beforeCommand = async (cmd) => {
      if (cmd !== "OPEN") return;
      fake.beforeCommand = undefined;
      await hung;
    };
    const started = performance.now();
    const first = api.call("POST", "/v1/orders", order("hung-1"));
    // The gateway gives up on the command and drops the link; the heartbeat shows MT5 DOWN
    await mt5Link(api, "DOWN");
    const during = await api.call("POST", "/v1/orders", order("hung-2"));
    expect(["DENIED", "ERROR", "REJECTED"]).toContain(during.json["outcome"] as string);
    const record = await api.order("hung-1");
    expect(["UNKNOWN", "PENDING"]).toContain(record?.state as string);

    // The terminal comes back to life: OrderSend finishes (its reply is lost with the old link),
    // the EA redials, and the gateway finds the deal
    await Bun.sleep(500);
    release();
    const answer = await first;
    const answeredMs = performance.now() - started;
    expect(await finalState(api, "hung-1")).toBe("FILLED");
    expect(await dealsOf(fake, "hung-1")).toBe(1);
    expect(await dealsOf(fake, "hung-2")).toBe(0);
    expect(stack.gateway.log()).toMatch(/Reconciled order coid=hung-1 action=OPEN state=FILLED/);
    console.log(
      `[faults] backend hung ${JSON.stringify({
        command_timeout_ms: COMMAND_TIMEOUT_MS,
        hang_ms: Math.round(answeredMs),
        journal_state_during_hang: record?.state,
        order_during_hang:
          `${during.json["outcome"]} ${(during.json["reply"] as { error_code?: string } | undefined)?.error_code ?? ""}`.trim(),
        api_outcome: answer.json["outcome"],
        journal_state: "FILLED",
        deals: 1,
      })}`,
    );
  }, 60_000);

  test("frozen: a terminal that answers nothing halts trading; thawed, orders fill again", async () => {
    const { api, fake } = await rig();
    fake.freeze();
    await mt5Link(api, "DOWN");
    const refused = await api.call("POST", "/v1/orders", order("frozen-1"));
    // Refused here (the heartbeat saw MT5 down: DENIED) or by the gateway; never executed
    expect(["DENIED", "ERROR", "REJECTED"]).toContain(refused.json["outcome"] as string);
    fake.thaw();
    await mt5Link(api, "UP");
    const filled = await api.call("POST", "/v1/orders", order("frozen-2"));
    expect(filled.json["outcome"]).toBe("FILLED");
    expect(await dealsOf(fake, "frozen-1")).toBe(0);
    expect(await dealsOf(fake, "frozen-2")).toBe(1);
    console.log(
      `[faults] backend frozen ${JSON.stringify({
        order_while_frozen:
          `${refused.json["outcome"]} ${(refused.json["reply"] as { error_code?: string } | undefined)?.error_code ?? ""}`.trim(),
        deals_while_frozen: 0,
        order_after_thaw: filled.json["outcome"],
      })}`,
    );
  }, 60_000);
});
