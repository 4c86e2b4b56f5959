import { afterEach, describe, expect, test } from "bun:test";
import type { Reply, TradeReply } from "../../shared/protocol/index.ts";
import { createHarness, type Harness } from "../testing/harness.ts";
import { recordingJournalIo } from "../testing/journal-io.ts";

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

async function harness(options: Parameters<typeof createHarness>[0] = {}): Promise<Harness> {
  const built = await createHarness(options);
  harnesses.push(built);
  return built;
}

const buy = (extra: Record<string, unknown> = {}) => ({
  action: "OPEN",
  symbol: "EURUSD",
  side: "BUY",
  volume: 0.1,
  ...extra,
});
const ticketOf = (reply: Reply) => (reply as TradeReply).ticket as number;

describe("order execution", () => {
  test("an OPEN fills once; the same intent again answers from the journal without a second trade", async () => {
    const h = await harness();
    const first = await h.send(buy({ client_order_id: "coid-1" }));
    expect(first).toMatchObject({
      status: "FILLED",
      retcode: 10009,
      client_order_id: "coid-1",
      volume: 0.1,
    });
    const again = await h.send(buy({ client_order_id: "coid-1" }));
    expect(again).toMatchObject({ status: "FILLED", duplicate: true, ticket: ticketOf(first) });
    expect(again.id).not.toBe(first.id);
    expect(h.backend.calls).toBe(1);
    expect(await h.backend.positions()).toHaveLength(1);
    expect(h.journal.lookup("inf-1", "coid-1")?.state).toBe("FILLED");
  });

  test("a client_order_id reused for a different intent is refused", async () => {
    const h = await harness();
    await h.send(buy({ client_order_id: "coid-1" }));
    const reused = await h.send(buy({ client_order_id: "coid-1", volume: 0.2 }));
    expect(reused).toMatchObject({ status: "ERROR", error_code: "CLIENT_ORDER_ID_REUSED" });
    expect(h.backend.calls).toBe(1);
  });

  test("a NOT_EXECUTED id is refused for another intent; the same intent may execute (issue 12 §5)", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "timeout_before_execution" });
    await h.send(buy({ client_order_id: "coid-1", volume: 0.01 }));
    h.clock.advance(1500);
    await h.executor.reconcileUnresolved();
    expect(h.journal.lookup("inf-1", "coid-1")?.state).toBe("NOT_EXECUTED");
    const other = await h.send(buy({ client_order_id: "coid-1", side: "SELL", volume: 0.02 }));
    expect(other).toMatchObject({ status: "ERROR", error_code: "CLIENT_ORDER_ID_REUSED" });
    expect(await h.backend.positions()).toHaveLength(0);
    expect((await h.send(buy({ client_order_id: "coid-1", volume: 0.01 }))).status).toBe("FILLED");
    expect(await h.backend.positions()).toMatchObject([{ side: "BUY", volume: 0.01 }]);
  });

  test("a FILLED reply states the stops the broker holds, not the ones asked for (issue 12 §6)", async () => {
    const h = await harness();
    const filled = await h.send(buy({ client_order_id: "coid-1", sl: 5e-324, tp: 1.2 }));
    const [position] = await h.backend.positions();
    expect(position).toMatchObject({ sl: null, tp: 1.2 });
    expect(filled).toMatchObject({ status: "FILLED", sl: null, tp: 1.2 });
  });

  test("a CLOSE whose position cannot be read back does not claim it closed", async () => {
    const h = await harness();
    const open = await h.send(buy({ client_order_id: "coid-1" }));
    const partial = { action: "CLOSE", ticket: ticketOf(open), volume: 0.05 };
    h.backend.positionsFailing = true;
    const closed = await h.send({ ...partial, client_order_id: "close-1" });
    expect(closed).toMatchObject({ status: "FILLED", volume: 0.05 });
    expect(closed).not.toHaveProperty("remaining_volume");
    h.backend.positionsFailing = false;
    const again = await h.send({ ...partial, client_order_id: "close-2" });
    expect(again).toMatchObject({ status: "FILLED", remaining_volume: 0 });
  });

  test("a repeat while the first is still executing gets ORDER_IN_PROGRESS", async () => {
    const h = await harness();
    let release = () => {};
    h.backend.faults.push({
      kind: "hang",
      release: new Promise<void>((resolve) => (release = resolve)),
    });
    const first = h.send(buy({ client_order_id: "coid-1" }));
    await Bun.sleep(5);
    const second = await h.send(buy({ client_order_id: "coid-1" }));
    expect(second).toMatchObject({ status: "ERROR", error_code: "ORDER_IN_PROGRESS" });
    release();
    expect((await first).status).toBe("FILLED");
    expect(await h.backend.positions()).toHaveLength(1);
  });

  test("MT5's refusal is REJECTED with the retcode, journaled, and its id stays spent", async () => {
    const h = await harness();
    const refused = await h.send(buy({ client_order_id: "coid-1", volume: 0.015 }));
    expect(refused).toMatchObject({
      status: "REJECTED",
      error_code: "INVALID_VOLUME",
      retcode: 10014,
    });
    expect(h.journal.lookup("inf-1", "coid-1")?.state).toBe("REJECTED");
    const again = await h.send(buy({ client_order_id: "coid-1", volume: 0.015 }));
    expect(again).toMatchObject({ status: "REJECTED", duplicate: true, retcode: 10014 });
    expect(h.backend.calls).toBe(1);
  });

  test("a timeout after MT5 executed is UNKNOWN, then reconciled to the fill; never sent twice", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "timeout_after_execution" });
    const reply = await h.send(buy({ client_order_id: "coid-1", comment: "signal-7" }));
    expect(reply).toMatchObject({ status: "ERROR", error_code: "OUTCOME_UNKNOWN" });
    expect(h.journal.lookup("inf-1", "coid-1")?.state).toBe("UNKNOWN");

    const repeat = await h.send(buy({ client_order_id: "coid-1", comment: "signal-7" }));
    expect(repeat).toMatchObject({ error_code: "OUTCOME_UNKNOWN", duplicate: true });
    expect(h.backend.calls).toBe(1);

    const order = await h.send({ action: "GET_ORDER", client_order_id: "coid-1" });
    expect(order).toMatchObject({ status: "OK", order: { state: "FILLED" } });
    const positions = await h.backend.positions();
    expect(positions).toHaveLength(1);
    expect((order as { order: { reply: TradeReply } }).order.reply.ticket).toBe(
      positions[0]?.ticket as number,
    );
  });

  test("a timeout before MT5 executed reconciles to NOT_EXECUTED, and then the same id executes once", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "timeout_before_execution" });
    expect((await h.send(buy({ client_order_id: "coid-1" }))).error_code).toBe("OUTCOME_UNKNOWN");
    h.clock.advance(1500);
    await h.executor.reconcileUnresolved();
    expect(h.journal.lookup("inf-1", "coid-1")?.state).toBe("NOT_EXECUTED");
    const resent = await h.send(buy({ client_order_id: "coid-1" }));
    expect(resent.status).toBe("FILLED");
    expect(await h.backend.positions()).toHaveLength(1);
  });

  test("MT5 unreachable before sending: REJECTED MT5_LINK_DOWN, nothing executed", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "unavailable" });
    expect(await h.send(buy())).toMatchObject({ status: "REJECTED", error_code: "MT5_LINK_DOWN" });
    expect(await h.backend.positions()).toHaveLength(0);
  });

  test("a journal that cannot write refuses the order before MT5 sees it, and recovers", async () => {
    const io = recordingJournalIo();
    const h = await harness({ journalIo: io });
    io.failWrites = true;
    const refused = await h.send(buy({ client_order_id: "coid-1" }));
    expect(refused).toMatchObject({ status: "ERROR", error_code: "JOURNAL_UNAVAILABLE" });
    expect(refused.error_msg).toContain("ENOSPC");
    expect(h.backend.calls).toBe(0);
    io.failWrites = false;
    expect((await h.send(buy({ client_order_id: "coid-1" }))).status).toBe("FILLED");
  });

  test("after a crash, intents left PENDING are reconciled at startup from what the broker shows", async () => {
    const h = await harness();
    // Simulate the crash windows by writing intents the way the executor does, with no outcome.
    const executed = h.frames(buy({ client_order_id: "ran" })).request;
    const lost = h.frames(buy({ client_order_id: "lost" })).request;
    const intent = (clientOrderId: string, hash: string, request: unknown) => ({
      client: "inf-1",
      clientOrderId,
      action: "OPEN" as const,
      intentHash: hash,
      request: request as Record<string, unknown>,
    });
    await h.journal.recordIntent(intent("ran", "h1", executed));
    await h.journal.recordIntent(intent("lost", "h2", lost));
    await h.brokerBuy("ran", 0.1);
    harnesses.splice(harnesses.indexOf(h), 1);
    const restarted = await h.restart();
    harnesses.push(restarted);
    expect(await restarted.executor.reconcileUnresolved()).toBe(0);
    expect(restarted.journal.lookup("inf-1", "ran")?.state).toBe("FILLED");
    expect(restarted.journal.lookup("inf-1", "lost")?.state).toBe("NOT_EXECUTED");
    expect(await restarted.backend.positions()).toHaveLength(1);
  });
});

describe("the gateway's gate", () => {
  test("HALTED refuses everything, journaled as REJECTED", async () => {
    const h = await harness();
    const open = await h.send(buy({ client_order_id: "before" }));
    h.tradingState.set("HALTED", "test");
    expect(await h.send(buy())).toMatchObject({ status: "REJECTED", error_code: "TRADING_HALTED" });
    expect(await h.send({ action: "CLOSE", ticket: ticketOf(open) })).toMatchObject({
      error_code: "TRADING_HALTED",
    });
    expect(h.backend.calls).toBe(1);
  });

  test("REDUCING refuses OPEN but lets CLOSE and MODIFY through", async () => {
    const h = await harness();
    const open = await h.send(buy());
    h.tradingState.set("REDUCING", "test");
    expect(await h.send(buy())).toMatchObject({ error_code: "REDUCING_ONLY" });
    expect((await h.send({ action: "MODIFY", ticket: ticketOf(open), sl: 1.0 })).status).toBe(
      "FILLED",
    );
    expect((await h.send({ action: "CLOSE", ticket: ticketOf(open) })).status).toBe("FILLED");
  });

  test.each([
    ["a symbol off the allow-list", buy({ symbol: "XAUUSD" }), "SYMBOL_NOT_ALLOWED"],
    ["a volume above the limit", buy({ volume: 6 }), "VOLUME_ABOVE_MAX"],
  ])("refuses %s", async (_, body, code) => {
    const h = await harness();
    expect(await h.send(body)).toMatchObject({ status: "REJECTED", error_code: code });
    expect(h.backend.calls).toBe(0);
  });

  test("counts OPENs still executing against the position limit", async () => {
    const h = await harness({ maxOpenPositions: 2 });
    await h.send(buy());
    let release = () => {};
    h.backend.faults.push({
      kind: "hang",
      release: new Promise<void>((resolve) => (release = resolve)),
    });
    const pending = h.send(buy());
    await Bun.sleep(5);
    expect(await h.send(buy())).toMatchObject({ error_code: "MAX_POSITIONS" });
    release();
    expect((await pending).status).toBe("FILLED");
  });

  test("a link that is down halts trading with MT5_LINK_DOWN, and PING says so", async () => {
    const h = await harness();
    h.backend.linkState = { state: "DOWN", detail: "EA not connected" };
    expect(await h.send(buy())).toMatchObject({ status: "REJECTED", error_code: "MT5_LINK_DOWN" });
    const ping = await h.send({ action: "PING" });
    expect(ping).toMatchObject({
      trading_state: "HALTED",
      mt5: { link: "DOWN", detail: "EA not connected" },
    });
  });
});

describe("events from the broker", () => {
  test("a late fill reported by the broker settles an UNKNOWN outcome at once", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "timeout_before_execution" });
    const body = buy({ client_order_id: "late-1" });
    expect((await h.send(body)).error_code).toBe("OUTCOME_UNKNOWN");
    // The terminal executed it after all (an EA answering after the gateway's timeout): its DEAL
    // event arrives; no clock advance, no GET_ORDER.
    await h.brokerBuy("late-1", 0.1);
    const { eventually } = await import("../../scripts/harness/eventually.ts");
    await eventually(() => h.journal.lookup("inf-1", "late-1")?.state === "FILLED", {
      timeoutMs: 2000,
    });
    expect(await h.send(body)).toMatchObject({ status: "FILLED", duplicate: true });
    expect(await h.backend.positions()).toHaveLength(1);
  });
});
