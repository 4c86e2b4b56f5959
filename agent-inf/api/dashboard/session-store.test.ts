import { describe, expect, test } from "bun:test";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import { LoginThrottle } from "./login-throttle.ts";
import { SessionStore } from "./session-store.ts";

const LIMITS = { ttlMs: 10_000, idleMs: 3000, maxSessions: 3 };

describe("dashboard sessions", () => {
  test("a session is found by its id, with its role and its own CSRF token", () => {
    const store = new SessionStore(new TestClock(), LIMITS);
    const a = store.create("operator");
    const b = store.create("strategy");

    expect(store.find(a.id)?.role).toBe("operator");
    expect(store.find(b.id)?.role).toBe("strategy");
    expect(a.session.csrfToken).not.toBe(b.session.csrfToken);
    expect(a.session.csrfMatches(a.session.csrfToken)).toBe(true);
    expect(a.session.csrfMatches(b.session.csrfToken)).toBe(false);
    expect(a.session.csrfMatches(null)).toBe(false);
    expect(a.session.csrfMatches("")).toBe(false);
  });

  test("forged and malformed ids find nothing", () => {
    const store = new SessionStore(new TestClock(), LIMITS);
    const { id } = store.create("operator");
    const forged = `${id.slice(0, -1)}${id.endsWith("A") ? "B" : "A"}`;

    for (const given of [forged, "A".repeat(43), id.slice(1), `${id}x`, "", undefined, "../x"])
      expect(store.find(given)).toBeUndefined();
    expect(store.find(id)).toBeDefined();
  });

  test("idle sessions end; use keeps one alive, but never past its lifetime", () => {
    const clock = new TestClock();
    const store = new SessionStore(clock, LIMITS);
    const idle = store.create("operator");
    const busy = store.create("operator");

    for (let i = 0; i < 4; i++) {
      clock.advance(2000);
      expect(store.find(busy.id)).toBeDefined();
    }
    expect(store.find(idle.id)).toBeUndefined();
    clock.advance(2000);
    // 10 s after the login: over, however busy
    expect(store.find(busy.id)).toBeUndefined();
  });

  test("logout revokes at once and ends what follows the session; a second logout finds nothing", () => {
    const store = new SessionStore(new TestClock(), LIMITS);
    const { id, session } = store.create("operator");
    let ended = 0;
    session.onEnd(() => {
      ended += 1;
    });

    expect(store.revoke(id)).toBe(true);
    expect(store.find(id)).toBeUndefined();
    expect(store.revoke(id)).toBe(false);
    expect(ended).toBe(1);
  });

  test("the sweeper ends expired sessions nobody asks about, and their streams with them", () => {
    const clock = new TestClock();
    const store = new SessionStore(clock, LIMITS);
    let ended = false;
    store.create("operator").session.onEnd(() => {
      ended = true;
    });

    clock.advance(LIMITS.idleMs + 1000);
    expect(ended).toBe(true);
    expect(store.size).toBe(0);
    store.dispose();
    expect(clock.pendingTimers).toBe(0);
  });

  test("past the limit the least recently used session goes", () => {
    const clock = new TestClock();
    const store = new SessionStore(clock, LIMITS);
    const first = store.create("operator");
    const second = store.create("operator");
    const third = store.create("operator");
    clock.advance(10);
    store.find(first.id);
    store.create("strategy");

    expect(store.size).toBe(3);
    expect(store.find(second.id)).toBeUndefined();
    expect(store.find(first.id)).toBeDefined();
    expect(store.find(third.id)).toBeDefined();
  });
});

describe("login throttle", () => {
  const limits = { windowMs: 60_000, perAddress: 3, total: 5 };

  test("an address that failed too often waits until the window has moved on", () => {
    const clock = new TestClock();
    const throttle = new LoginThrottle(clock, limits);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs("a")).toBe(0);
      throttle.failed("a");
      clock.advance(1000);
    }

    expect(throttle.retryAfterMs("a")).toBe(57_000);
    expect(throttle.retryAfterMs("b")).toBe(0);
    clock.advance(57_000);
    expect(throttle.retryAfterMs("a")).toBe(0);
  });

  test("failures from every address count together", () => {
    const clock = new TestClock();
    const throttle = new LoginThrottle(clock, limits);
    for (const address of ["a", "b", "c", "d", "e"]) throttle.failed(address);

    expect(throttle.retryAfterMs("f")).toBe(60_000);
    clock.advance(60_000);
    expect(throttle.retryAfterMs("f")).toBe(0);
  });
});
