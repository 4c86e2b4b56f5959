import { describe, expect, test } from "bun:test";
import type { Deal } from "./types.ts";
import { parseRequest } from "./validate.ts";
import { encodeEventBody, encodeEventFrame, isEventObject, parseEvent } from "./validate-event.ts";

const encoder = new TextEncoder();
const bytes = (value: unknown) => encoder.encode(JSON.stringify(value));

const deal: Deal = {
  ticket: 7002,
  order: 6002,
  position: 5001,
  symbol: "EURUSD",
  side: "SELL",
  entry: "OUT",
  reason: "SL",
  volume: 0.1,
  price: 1.095,
  profit: -63.5,
  commission: 0,
  swap: 0,
  magic: 20261118,
  comment: "BYZR16VBKCY momentum",
  time: 1795003250120,
};

describe("events", () => {
  test("encode once, frame per peer, and read back", () => {
    const body = encodeEventBody("POSITION_CLOSED", {
      ticket: 5001,
      symbol: "EURUSD",
      reason: "SL",
      deal,
    });
    const parsed = parseEvent(encodeEventFrame(body, 19));

    expect(parsed).toEqual({
      ok: true,
      event: {
        v: 1,
        event: "POSITION_CLOSED",
        seq: 19,
        ticket: 5001,
        symbol: "EURUSD",
        reason: "SL",
        deal,
      },
    });
  });

  test("are told apart from replies by shape", () => {
    expect(isEventObject({ v: 1, event: "QUOTE", seq: 1 })).toBe(true);
    expect(isEventObject({ v: 1, id: "a", status: "OK" })).toBe(false);
    expect(isEventObject({ v: 1, event: "QUOTE", status: "OK" })).toBe(false);
    expect(isEventObject({ v: 1, event: "QUOTE", id: "a" })).toBe(false);
  });

  test("an event type from a newer gateway is skipped but keeps its seq", () => {
    expect(parseEvent(bytes({ v: 1, event: "MARGIN_CALL", seq: 7, whatever: [1] }))).toEqual({
      ok: true,
      event: undefined,
      unknown: "MARGIN_CALL",
      seq: 7,
    });
  });

  test.each([
    ["seq 0", { v: 1, event: "QUOTE", seq: 0, symbol: "X", bid: 1, ask: 1, time: 1 }, "seq"],
    ["seq missing", { v: 1, event: "QUOTE", symbol: "X", bid: 1, ask: 1, time: 1 }, "seq"],
    ["version 2", { v: 2, event: "QUOTE", seq: 1 }, "this peer speaks 1"],
    ["bad name", { v: 1, event: "quote<script>", seq: 1 }, "event name"],
    [
      "bid not finite",
      { v: 1, event: "QUOTE", seq: 1, symbol: "X", bid: "1", ask: 1, time: 1 },
      "bid",
    ],
    [
      "deal reason",
      { v: 1, event: "DEAL", seq: 1, deal: { ...deal, reason: "MAGIC" } },
      "deal.reason",
    ],
    [
      "close without deal",
      { v: 1, event: "POSITION_CLOSED", seq: 1, ticket: 1, symbol: "X", reason: "SL" },
      "deal",
    ],
    [
      "link state",
      { v: 1, event: "LINK_STATE", seq: 1, mt5: { link: "MAYBE", backend: "sim" } },
      "mt5.link",
    ],
  ])("refuses %s", (_name, value, fragment) => {
    const parsed = parseEvent(bytes(value));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toContain(fragment);
  });
});

describe("stream requests", () => {
  const request = (body: Record<string, unknown>) =>
    parseRequest(bytes({ v: 1, id: "s1", ts: 1795003200000, ...body }));

  test.each([
    [{ action: "SUBSCRIBE", symbols: ["EURUSD"], throttle_ms: 100, events: true }],
    [{ action: "SUBSCRIBE", events: true }],
    [{ action: "UNSUBSCRIBE" }],
    [{ action: "UNSUBSCRIBE", symbols: ["EURUSD"], events: true }],
    [{ action: "RESYNC", since: 0 }],
    [{ action: "RESYNC", since: 1795003200000, after_deal: 7001 }],
  ])("accepts %j", (body) => {
    expect(request(body).ok).toBe(true);
  });

  test.each([
    [{ action: "SUBSCRIBE" }, "symbols or events must be set"],
    [{ action: "SUBSCRIBE", events: false }, "must be true"],
    [{ action: "SUBSCRIBE", throttle_ms: 10, events: true }, "throttle_ms needs symbols"],
    [{ action: "SUBSCRIBE", symbols: [] }, "1 to 64 distinct symbols"],
    [{ action: "SUBSCRIBE", symbols: ["A", "A"] }, "repeated"],
    [{ action: "SUBSCRIBE", symbols: Array.from({ length: 65 }, (_, n) => `S${n}`) }, "1 to 64"],
    [{ action: "SUBSCRIBE", symbols: ["EUR USD"] }, "each must contain only"],
    [{ action: "SUBSCRIBE", symbols: ["EURUSD"], throttle_ms: 60_001 }, "0 to 60000"],
    [{ action: "RESYNC" }, "field since is required"],
    [{ action: "RESYNC", since: 1.5 }, "non-negative integer"],
    [{ action: "RESYNC", since: 0, after_deal: -1 }, "non-negative integer"],
    [{ action: "RESYNC", since: 0, symbol: "EURUSD" }, "not allowed in RESYNC"],
  ])("refuses %j", (body, fragment) => {
    const parsed = request(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toContain(fragment);
  });
});
