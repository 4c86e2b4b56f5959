/**
 * TradingStateHolder: operator set in any direction, automatic escalation only upwards, one event
 * per real change.
 */
import { describe, expect, test } from "bun:test";
import type { TradingState } from "./protocol/types.ts";
import { TestClock } from "./testing/test-clock.ts";
import { isMoreRestrictive, type TradingStateChange, TradingStateHolder } from "./trading-state.ts";

describe("a loss limit's hold", () => {
  test("recorded by a risk escalation, kept under a stricter state, released only explicitly", () => {
    const holder = new TradingStateHolder({ clock: new TestClock() });
    holder.escalate("REDUCING", "daily loss", "daily_loss");
    expect(holder.hold).toEqual({ state: "REDUCING", source: "daily_loss", reason: "daily loss" });
    holder.set("HALTED", "operator on top");
    // The limit asks again while HALTED: the hold stays what it was, the state too
    holder.escalate("REDUCING", "daily loss", "daily_loss");
    expect([holder.state, holder.hold?.state]).toEqual(["HALTED", "REDUCING"]);
    // A stricter limit widens the hold
    holder.escalate("HALTED", "drawdown", "max_drawdown");
    expect(holder.hold).toMatchObject({ state: "HALTED", source: "max_drawdown" });
    expect(holder.releaseHold()?.source).toBe("max_drawdown");
    expect(holder.hold).toBeUndefined();
  });

  test("operator escalations hold nothing; a restored hold names its source", () => {
    const holder = new TradingStateHolder({ clock: new TestClock() });
    holder.escalate("HALTED", "operator", "operator");
    expect(holder.hold).toBeUndefined();
    const restored = new TradingStateHolder({
      clock: new TestClock(),
      initial: "REDUCING",
      initialReason: "from the state file",
      initialHold: { state: "REDUCING", source: "daily_loss", reason: "daily loss" },
    });
    expect([restored.source, restored.reason, restored.hold?.state]).toEqual([
      "daily_loss",
      "from the state file",
      "REDUCING",
    ]);
  });
});

describe("TradingStateHolder", () => {
  test.each<[TradingState, TradingState, boolean]>([
    ["REDUCING", "ACTIVE", true],
    ["HALTED", "REDUCING", true],
    ["HALTED", "ACTIVE", true],
    ["ACTIVE", "REDUCING", false],
    ["REDUCING", "HALTED", false],
    ["REDUCING", "REDUCING", false],
  ])("%s is more restrictive than %s: %p", (candidate, current, expected) => {
    expect(isMoreRestrictive(candidate, current)).toBe(expected);
  });

  // [initial, escalate to, state after]
  test.each<[TradingState, TradingState, TradingState]>([
    ["ACTIVE", "REDUCING", "REDUCING"],
    ["ACTIVE", "HALTED", "HALTED"],
    ["REDUCING", "HALTED", "HALTED"],
    ["HALTED", "REDUCING", "HALTED"],
    ["REDUCING", "REDUCING", "REDUCING"],
  ])("from %s, escalate(%s) leaves %s", (initial, target, expected) => {
    const holder = new TradingStateHolder({ clock: new TestClock(), initial });
    holder.escalate(target, "limit", "daily_loss");
    expect(holder.state).toBe(expected);
  });

  test("the operator can relax; every real change is emitted once with its cause", () => {
    const clock = new TestClock();
    const holder = new TradingStateHolder({ clock });
    const changes: TradingStateChange[] = [];
    holder.onChange((change) => changes.push(change));
    holder.escalate("HALTED", "drawdown 12 %", "max_drawdown");
    clock.advance(1000);
    holder.set("HALTED", "no-op");
    holder.set("REDUCING", "flatten by hand");
    const unsubscribe = holder.onChange(() => {
      throw new Error("listener bug");
    });
    holder.set("ACTIVE", "resume");
    unsubscribe();
    expect(changes.map((c) => [c.previous, c.state, c.source, c.reason])).toEqual([
      ["ACTIVE", "HALTED", "max_drawdown", "drawdown 12 %"],
      ["HALTED", "REDUCING", "operator", "flatten by hand"],
      ["REDUCING", "ACTIVE", "operator", "resume"],
    ]);
    expect([holder.state, holder.reason, holder.since - (changes[0]?.at ?? 0)]).toEqual([
      "ACTIVE",
      "resume",
      1000,
    ]);
  });
});
