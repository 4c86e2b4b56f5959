import { describe, expect, test } from "bun:test";
import { clockOffsetWatcher, judgeClockOffset, offsetLimitMs } from "./clock-check.ts";

describe("clock offset against the signature window (ttl 2000, skew 500)", () => {
  test("a gateway behind us may be 500 ms behind, one ahead 2500 ms ahead", () => {
    expect(offsetLimitMs(-1)).toBe(500);
    expect(offsetLimitMs(1)).toBe(2500);
  });

  test.each([
    [0, "ok"],
    [-250, "ok"],
    [-251, "warn"],
    [-500, "warn"],
    [-501, "fail"],
    [1250, "ok"],
    [1251, "warn"],
    [2501, "fail"],
    [5000, "fail"],
  ] as const)("offset %d ms is %s", (offset, level) => {
    expect(judgeClockOffset(offset).level).toBe(level);
  });

  test("the watcher logs once per crossing, not once per PING", () => {
    const lines: string[] = [];
    const log = (level: string) => (message: string) => lines.push(`${level} ${message}`);
    const watch = clockOffsetWatcher("gtw-1", {
      level: "info",
      error: log("ERROR"),
      warn: log("WARN"),
      info: log("INFO"),
      debug: log("DEBUG"),
      child() {
        return this;
      },
    });
    for (const offset of [10, 300, 320, 310, 600, 700, 20, 30]) watch(-offset);
    expect(lines.map((line) => line.split(" ")[0])).toEqual(["WARN", "ERROR", "INFO"]);
  });
});
