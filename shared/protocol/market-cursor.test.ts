import { describe, expect, test } from "bun:test";
import { decodeCursor, encodeCursor, queryCheck } from "./market-cursor.ts";

const query = {
  v: 1,
  id: "a",
  ts: 1,
  action: "GET_RATES",
  symbol: "EURUSD",
  timeframe: "M1",
  from: 0,
  to: 9,
};

describe("market cursor", () => {
  test("round-trips numbers and names, and ignores the envelope in its check", () => {
    const cursor = encodeCursor(query, "R", [1795003300000, 1795089540000]);
    expect(cursor).toMatch(/^R1\.1795003300000\.1795089540000\.[0-9a-f]{8}$/);
    const again = { ...query, id: "b", ts: 2, cursor };
    expect(decodeCursor(again, "R")).toEqual({ ok: true, values: [1795003300000, 1795089540000] });
    const names = encodeCursor({ action: "GET_SYMBOLS" }, "S", ["US500.cash"]);
    expect(decodeCursor({ action: "GET_SYMBOLS", cursor: names }, "S")).toEqual({
      ok: true,
      values: ["US500.cash"],
    });
    const unicode = encodeCursor({ action: "GET_SYMBOLS" }, "S", ["ÄPFEL€"]);
    expect(decodeCursor({ action: "GET_SYMBOLS", cursor: unicode }, "S")).toMatchObject({
      values: ["ÄPFEL€"],
    });
  });

  test("refuses a cursor of another query, another action or damaged", () => {
    const cursor = encodeCursor(query, "R", [5, 9]);
    expect(decodeCursor({ ...query, symbol: "GBPUSD", cursor }, "R")).toMatchObject({
      ok: false,
      message: "cursor belongs to another query; repeat the first request's fields with it",
    });
    expect(decodeCursor({ ...query, cursor }, "T")).toMatchObject({ ok: false });
    const check = queryCheck(query);
    for (const bad of [
      `R1.5.${check}`,
      `R1.05.9.${check}`,
      `R1.-5.9.${check}`,
      `R1.5.9.9.${check}`,
      `R2.5.9.${check}`,
      `R1.99999999999999999.9.${check}`,
      "x".repeat(300),
    ]) {
      expect(decodeCursor({ ...query, cursor: bad }, "R").ok).toBe(false);
    }
    expect(
      decodeCursor(
        { action: "GET_SYMBOLS", cursor: `S1.xzz.${queryCheck({ action: "GET_SYMBOLS" })}` },
        "S",
      ).ok,
    ).toBe(false);
    // Bytes that are not UTF-8
    expect(
      decodeCursor(
        { action: "GET_SYMBOLS", cursor: `S1.xff.${queryCheck({ action: "GET_SYMBOLS" })}` },
        "S",
      ).ok,
    ).toBe(false);
  });
});
