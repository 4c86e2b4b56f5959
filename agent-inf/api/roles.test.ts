/**
 * Who may do what through the local API (issue 12 §2): the strategy token trades and reads, the
 * operator token also sets the trading state and the breaker, and a state a loss limit set is
 * held until the operator overrides it, with a reason, in the log.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { type ApiStack, startStack } from "../../test/support/api-stack.ts";

const STRATEGY = { authorization: "Bearer strategy-token-for-roles" };
const OPERATOR = { authorization: "Bearer operator-token-for-roles" };
let stack: ApiStack;

beforeAll(async () => {
  stack = await startStack({
    gateway: false,
    auth: {
      kind: "token",
      strategyToken: "strategy-token-for-roles",
      operatorToken: "operator-token-for-roles",
    },
  });
});
afterAll(() => stack.close());

const lane = () => stack.app.lane();

beforeEach(() => {
  lane().tradingState.releaseHold();
  lane().tradingState.set("ACTIVE", "test setup");
  lane().breaker.reset("test setup");
});

describe("roles", () => {
  test("the strategy token reads and trades", async () => {
    expect((await stack.call("GET", "/v1/health", undefined, STRATEGY)).status).toBe(200);
    expect((await stack.call("GET", "/metrics", undefined, STRATEGY)).status).toBe(200);
    const order = await stack.call(
      "POST",
      "/v1/orders",
      { symbol: "EURUSD", side: "BUY", volume: 0.1 },
      STRATEGY,
    );
    // No gateway in this stack: the order is not sent, but the token was good enough to try
    expect(order.json).toMatchObject({ outcome: "ERROR" });
  });

  test.each([
    ["/v1/trading-state", { state: "HALTED" }],
    ["/v1/breaker", { action: "engage" }],
  ])(
    "the strategy token may not POST %s: 403 FORBIDDEN_ROLE, nothing changes",
    async (path, body) => {
      const answer = await stack.call("POST", path, body, STRATEGY);

      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({ error: { code: "FORBIDDEN_ROLE" } });
      expect([lane().tradingState.state, lane().breaker.engaged]).toEqual(["ACTIVE", false]);
    },
  );

  test("the operator token sets the state and the breaker, and reads like the strategy", async () => {
    const halt = await stack.call("POST", "/v1/trading-state", { state: "HALTED" }, OPERATOR);
    const engage = await stack.call("POST", "/v1/breaker", { action: "engage" }, OPERATOR);

    expect([halt.status, engage.status]).toEqual([200, 200]);
    expect([lane().tradingState.state, lane().breaker.engaged]).toEqual(["HALTED", true]);
    expect((await stack.call("GET", "/v1/health", undefined, OPERATOR)).status).toBe(200);
  });
});

describe("a loss limit's hold on the trading state", () => {
  const hold = () =>
    lane().tradingState.escalate("REDUCING", "DAILY_LOSS_LIMIT: daily_loss=600", "daily_loss");

  test("a plain resume is 409 RISK_HOLD and changes nothing", async () => {
    hold();
    const answer = await stack.call("POST", "/v1/trading-state", { state: "ACTIVE" }, OPERATOR);

    expect(answer.status).toBe(409);
    expect(answer.json).toMatchObject({
      error: {
        code: "RISK_HOLD",
        holds: [{ state: "REDUCING", source: "daily_loss" }],
      },
    });
    expect(lane().tradingState.state).toBe("REDUCING");
  });

  test("an override needs a reason, then lifts the hold", async () => {
    hold();
    const bare = await stack.call(
      "POST",
      "/v1/trading-state",
      { state: "ACTIVE", override_risk: true },
      OPERATOR,
    );
    const given = await stack.call(
      "POST",
      "/v1/trading-state",
      { state: "ACTIVE", override_risk: true, reason: "new day, checked by hand" },
      OPERATOR,
    );

    expect(bare.status).toBe(400);
    expect(given.status).toBe(200);
    expect([lane().tradingState.state, lane().tradingState.hold]).toEqual(["ACTIVE", undefined]);
  });

  test("the hold outlasts a stricter state the operator chose", async () => {
    hold();
    const halt = await stack.call("POST", "/v1/trading-state", { state: "HALTED" }, OPERATOR);
    const resume = await stack.call("POST", "/v1/trading-state", { state: "ACTIVE" }, OPERATOR);
    const reduce = await stack.call("POST", "/v1/trading-state", { state: "REDUCING" }, OPERATOR);

    expect([halt.status, resume.status, reduce.status]).toEqual([200, 409, 200]);
    expect(lane().tradingState.state).toBe("REDUCING");
  });
});
