import { describe, expect, test } from "bun:test";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { deny } from "../risk/denial.ts";
import { OrderLog } from "./order-log.ts";
import type { OrderResult } from "./order-service.ts";

const filled = (coid: string, gateway = "gtw-1"): OrderResult => ({
  outcome: "FILLED",
  gateway,
  client_order_id: coid,
  reply: {
    v: 1,
    id: "r",
    status: "FILLED",
    client_order_id: coid,
    ticket: 7,
    volume: 0.1,
    price: 1.1,
  },
});

describe("order log", () => {
  test("each outcome is kept with its latency, and the reason when refused", () => {
    const clock = new TestClock();
    const log = new OrderLog({
      clock,
      symbolOf: (_, ticket) => (ticket === 7 ? "EURUSD" : undefined),
    });
    log.orderFinished("OPEN", filled("a"), 1.25);
    log.orderFinished(
      "OPEN",
      {
        outcome: "DENIED",
        gateway: "gtw-1",
        client_order_id: "b",
        denial: deny("VOLUME_ABOVE_MAX", "volume is above the configured maximum", {
          symbol: "GBPUSD",
          volume: 11,
        }),
      },
      0.2,
    );
    log.orderFinished(
      "CLOSE",
      {
        outcome: "REJECTED",
        gateway: "gtw-1",
        client_order_id: "c",
        reply: { v: 1, id: "r", status: "REJECTED", error_code: "NO_MONEY", error_msg: "no money" },
      },
      3,
    );
    log.orderFinished(
      "OPEN",
      { outcome: "UNKNOWN", gateway: "gtw-1", client_order_id: "d", reason: "no reply" },
      5000,
    );

    expect(log.recent({ limit: 10 })).toEqual([
      expect.objectContaining({
        seq: 4,
        client_order_id: "d",
        outcome: "UNKNOWN",
        reason: "no reply",
      }),
      expect.objectContaining({ seq: 3, action: "CLOSE", code: "NO_MONEY", reason: "no money" }),
      expect.objectContaining({ seq: 2, code: "VOLUME_ABOVE_MAX", symbol: "GBPUSD" }),
      {
        seq: 1,
        time: clock.now(),
        gateway: "gtw-1",
        action: "OPEN",
        client_order_id: "a",
        outcome: "FILLED",
        latency_ms: 1.25,
        symbol: "EURUSD",
        ticket: 7,
        volume: 0.1,
        price: 1.1,
      },
    ]);
  });

  test("filters by gateway and outcome, newest first, at most the limit", () => {
    const log = new OrderLog({ clock: new TestClock() });
    for (let i = 0; i < 5; i++)
      log.orderFinished("OPEN", filled(`a${i}`, i % 2 ? "gtw-2" : "gtw-1"), 1);
    log.orderFinished(
      "OPEN",
      { outcome: "UNKNOWN", gateway: "gtw-1", client_order_id: "u", reason: "x" },
      1,
    );

    const coids = (entries: { client_order_id: string }[]) => entries.map((e) => e.client_order_id);
    expect(coids(log.recent({ limit: 2, gateway: "gtw-1" }))).toEqual(["u", "a4"]);
    expect(coids(log.recent({ limit: 10, outcomes: new Set(["FILLED"]) }))).toEqual([
      "a4",
      "a3",
      "a2",
      "a1",
      "a0",
    ]);
  });

  test("the ring is bounded and the latency histogram is per gateway", () => {
    const log = new OrderLog({ clock: new TestClock(), size: 3 });
    for (let i = 0; i < 10; i++) log.orderFinished("OPEN", filled(`a${i}`), 2);

    expect(log.recent({ limit: 100 }).map((e) => e.seq)).toEqual([10, 9, 8]);
    expect(log.latency("gtw-1").count).toBe(10);
    expect(log.latency("gtw-1").sum).toBeCloseTo(0.02);
    expect(log.latency("gtw-2").count).toBe(0);
  });

  test("describe fills in what the intent asked for, without overwriting what the result said", () => {
    const log = new OrderLog({ clock: new TestClock() });
    log.orderFinished("OPEN", filled("a"), 1);
    log.describe(filled("a"), { symbol: "EURUSD", side: "BUY", volume: 0.5 });
    log.describe(filled("never-logged"), { symbol: "X" });

    expect(log.recent({ limit: 10 })).toEqual([
      expect.objectContaining({ client_order_id: "a", symbol: "EURUSD", side: "BUY", volume: 0.1 }),
    ]);
  });
});
