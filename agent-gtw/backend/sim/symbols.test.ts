/**
 * The symbol table (defaults, overrides), epsilon-safe volume steps, filling-mode choice by
 * execution mode, and the weekly forex session boundaries.
 */
import { describe, expect, test } from "bun:test";
import { isOnVolumeStep } from "../../../shared/protocol/index.ts";
import { isSessionOpen } from "./sessions.ts";
import {
  allowedFillings,
  DEFAULT_SYMBOLS,
  requestFilling,
  resolveSymbols,
  roundVolume,
  type SymbolSpec,
} from "./symbols.ts";

const spec = (symbol: string): SymbolSpec => resolveSymbols().get(symbol)!;

describe("default symbols", () => {
  test("cover forex, metal, index CFDs and 24/7 crypto with realistic properties", () => {
    const names = DEFAULT_SYMBOLS.map((entry) => entry.symbol);
    expect(names).toEqual(
      expect.arrayContaining(["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US500", "BTCUSD"]),
    );
    expect(spec("EURUSD")).toMatchObject({ digits: 5, contract_size: 100_000, calc_mode: "FOREX" });
    expect(spec("USDJPY")).toMatchObject({ digits: 3, currency_profit: "JPY" });
    expect(spec("XAUUSD")).toMatchObject({ contract_size: 100, execution_mode: "INSTANT" });
    expect(spec("GER40").calc_mode).toBe("CFD_INDEX");
    expect(spec("US500").calc_mode).toBe("CFD_LEVERAGE");
    expect(spec("BTCUSD")).toMatchObject({ calc_mode: "CFD", session: "24x7" });
  });
});

describe("overrides", () => {
  test("merge into a default symbol", () => {
    const table = resolveSymbols([{ symbol: "EURUSD", trade_mode: "CLOSE_ONLY" }]);
    expect(table.get("EURUSD")).toMatchObject({ trade_mode: "CLOSE_ONLY", digits: 5 });
  });

  test("add a complete new symbol", () => {
    const table = resolveSymbols([{ ...spec("EURUSD"), symbol: "EURUSD.pro", stops_level: 0 }]);
    expect(table.get("EURUSD.pro")?.stops_level).toBe(0);
  });

  test("refuse an incomplete new symbol and a nonsensical value", () => {
    expect(() => resolveSymbols([{ symbol: "AUDUSD", digits: 5 }])).toThrow(
      /sim: symbol AUDUSD is not a default symbol and lacks/,
    );
    expect(() => resolveSymbols([{ symbol: "EURUSD", volume_step: 0 }])).toThrow(
      "sim: symbol EURUSD volume_step must be > 0 (was 0)",
    );
  });
});

describe("volume steps", () => {
  test("isOnVolumeStep tolerates binary float error but not real off-step volumes", () => {
    expect(isOnVolumeStep(0.07, 0.01)).toBe(true);
    expect(isOnVolumeStep(0.1 + 0.2, 0.01)).toBe(true);
    expect(isOnVolumeStep(0.015, 0.01)).toBe(false);
    expect(isOnVolumeStep(1.5, 0.1)).toBe(true);
    expect(isOnVolumeStep(1.55, 0.1)).toBe(false);
    // issue 12 §6: off the grid in the last decimal the wire carries, at any size
    expect(isOnVolumeStep(4.99999999, 0.01)).toBe(false);
    expect(isOnVolumeStep(99_999.99999999, 0.01)).toBe(false);
    expect(isOnVolumeStep(99_999.99, 0.01)).toBe(true);
    expect(isOnVolumeStep(1234.5, 0.5)).toBe(true);
  });

  test("roundVolume removes float dust", () => {
    expect(roundVolume(0.1 + 0.2, 0.01)).toBe(0.3);
    expect(roundVolume(0.3 - 0.1, 0.01)).toBe(0.2);
  });
});

describe("filling", () => {
  test("execution mode narrows the symbol's flags (MT5 Fill Policy)", () => {
    const base = spec("EURUSD");
    const all = ["FOK", "IOC", "RETURN"] as const;
    expect(allowedFillings({ ...base, execution_mode: "INSTANT", filling_modes: all })).toEqual([
      "FOK",
    ]);
    expect(allowedFillings({ ...base, execution_mode: "REQUEST", filling_modes: all })).toEqual([
      "FOK",
    ]);
    expect(allowedFillings({ ...base, execution_mode: "MARKET", filling_modes: all })).toEqual([
      "FOK",
      "IOC",
    ]);
    expect(allowedFillings({ ...base, execution_mode: "EXCHANGE", filling_modes: all })).toEqual(
      all,
    );
  });

  test("the request carries FOK, else IOC, else RETURN, unless forced", () => {
    expect(requestFilling(spec("EURUSD"), undefined)).toBe("FOK");
    expect(requestFilling(spec("USDJPY"), undefined)).toBe("IOC");
    expect(requestFilling({ ...spec("EURUSD"), filling_modes: [] }, undefined)).toBe("RETURN");
    expect(requestFilling(spec("EURUSD"), "IOC")).toBe("IOC");
  });
});

describe("sessions", () => {
  const at = (day: number, hour: number, minute = 0) => Date.UTC(2026, 10, day, hour, minute);
  test.each([
    ["Wednesday noon", at(18, 12), true],
    ["Friday 21:59", at(20, 21, 59), true],
    ["Friday 22:00", at(20, 22), false],
    ["Saturday noon", at(21, 12), false],
    ["Sunday 21:59", at(22, 21, 59), false],
    ["Sunday 22:00", at(22, 22), true],
    ["Monday 00:00", at(23, 0), true],
  ])("forex session on %s open=%p", (_name, time, open) => {
    expect(isSessionOpen("forex", "forex", time)).toBe(open);
  });

  test("24x7 symbols and the 'always' schedule never close", () => {
    expect(isSessionOpen("forex", "24x7", at(21, 12))).toBe(true);
    expect(isSessionOpen("always", "forex", at(21, 12))).toBe(true);
  });
});
