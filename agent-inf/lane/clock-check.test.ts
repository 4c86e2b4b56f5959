import { describe, expect, test } from "bun:test";
import {
  clockOffsetWatcher,
  gatewayWindow,
  judgeClockOffset,
  offsetLimitMs,
} from "./clock-check.ts";

/** A logger that keeps each line as "LEVEL message". */
function recordingLogger() {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  const logger = {
    level: "info" as const,
    error: log("ERROR"),
    warn: log("WARN"),
    info: log("INFO"),
    debug: log("DEBUG"),
    child() {
      return logger;
    },
  };
  return { lines, logger };
}

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
    const { lines, logger } = recordingLogger();
    const watch = clockOffsetWatcher("gtw-1", logger);
    for (const offset of [10, 300, 320, 310, 600, 700, 20, 30]) watch(-offset);
    expect(lines.map((line) => line.split(" ")[0])).toEqual(["WARN", "ERROR", "INFO"]);
  });
});

describe("the gateway's own window, from its PING reply", () => {
  test("a gateway with a tight window fails an offset the defaults would only warn about", () => {
    // signatures: { ttl_ms: 500, max_skew_ms: 100 }: a gateway 300 ms behind refuses every order
    const window = gatewayWindow({ signature_window: { ttl_ms: 500, max_skew_ms: 100 } });
    expect(window).toEqual({ ttlMs: 500, skewMs: 100 });
    expect(judgeClockOffset(-300).level).toBe("warn");
    expect(judgeClockOffset(-300, window).level).toBe("fail");
    expect(offsetLimitMs(700, window)).toBe(600);
    expect(judgeClockOffset(700, window).level).toBe("fail");
  });

  test("a gateway with a wide window is not failed by the defaults' limit", () => {
    const window = gatewayWindow({ signature_window: { ttl_ms: 10_000, max_skew_ms: 2_000 } });
    expect(judgeClockOffset(-900).level).toBe("fail");
    expect(judgeClockOffset(-900, window).level).toBe("ok");
  });

  test("no reply yet, or an older gateway that states none: the protocol's defaults", () => {
    expect(gatewayWindow(undefined)).toEqual({ ttlMs: 2000, skewMs: 500 });
    expect(gatewayWindow({})).toEqual({ ttlMs: 2000, skewMs: 500 });
  });

  test("the watcher judges by the window it is given", () => {
    const { lines, logger } = recordingLogger();
    const watch = clockOffsetWatcher("gtw-1", logger);
    watch(-300, { ttlMs: 500, skewMs: 100 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("ERROR");
    expect(lines[0]).toContain("beyond the 100 ms");
  });
});
