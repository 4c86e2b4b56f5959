/**
 * The broker cross-check at start (cross-check.ts, issue 12 §5), in process: what it changes in
 * the journal, and that signed actions wait for it. The lost-journal cases against the gateway
 * process (lines deleted, journal and checkpoint deleted) are test/faults/journal-loss.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { openHarnesses } from "../testing/harness.ts";

const { harness, restart } = openHarnesses();

const buy = (clientOrderId: string) => ({
  action: "OPEN",
  symbol: "EURUSD",
  side: "BUY",
  volume: 0.01,
  client_order_id: clientOrderId,
});

describe("broker cross-check", () => {
  test("an id the journal says NOT_EXECUTED whose tag the broker holds is decided again, and the intent does not execute twice", async () => {
    const h = await harness();
    // The journal settles NOT_EXECUTED (a timeout before MT5 ran it) ...
    h.backend.faults.push({ kind: "timeout_before_execution" });
    await h.send(buy("late"));
    h.clock.advance(1500);
    await h.executor.reconcileUnresolved();
    expect(h.journal.lookup("inf-1", "late")?.state).toBe("NOT_EXECUTED");
    // ... but the broker holds a trade with its tag (it ran after all, as a late request can)
    await h.brokerBuy("late", 0.01);

    const restarted = await restart(h);
    // Put back to UNKNOWN by the check, then reconciled from the broker's deal
    await restarted.executor.reconcileUnresolved();
    expect(restarted.journal.lookup("inf-1", "late")?.state).toBe("FILLED");
    const again = await restarted.send(buy("late"));
    expect(again).toMatchObject({ status: "FILLED", duplicate: true });
    expect(restarted.backend.calls).toBe(0);
    expect(await restarted.backend.positions()).toHaveLength(1);
  });

  test("until the check has succeeded, signed actions are refused and nothing reaches MT5", async () => {
    const h = await harness();
    const filled = await h.send(buy("first"));
    expect(filled.status).toBe("FILLED");

    // Restarted while MT5 cannot list its deals: the check fails and is retried
    const restarted = await restart(h, { dealsFailing: true });
    expect(restarted.executor.brokerCheckState()).toMatchObject({ done: false });
    const refused = await restarted.send(buy("second"));
    expect(refused).toMatchObject({ status: "ERROR", error_code: "JOURNAL_UNAVAILABLE" });
    expect(refused.error_msg).toContain("cross-checked");
    expect(restarted.backend.calls).toBe(0);
    expect(restarted.journal.lookup("inf-1", "second")).toBeUndefined();
    // Reads and a repeat of a journaled id are still answered from the journal
    expect(await restarted.send(buy("first"))).toMatchObject({ status: "FILLED", duplicate: true });

    restarted.backend.dealsFailing = false;
    restarted.clock.advance(1000);
    expect(await restarted.executor.checkBroker()).toBe(true);
    expect(await restarted.send(buy("second"))).toMatchObject({ status: "FILLED" });
    expect(restarted.backend.calls).toBe(1);
  });

  test("an action that arrives while the check runs waits for it, and is refused only if it takes too long", async () => {
    const h = await harness();
    const restarted = await restart(h, { dealsFailing: true });
    // The retry finds MT5 answering, slowly
    let release = () => {};
    restarted.backend.dealsHeld = new Promise<void>((resolve) => (release = resolve));
    restarted.backend.dealsFailing = false;
    restarted.clock.advance(1000);
    expect(restarted.executor.brokerCheckState()).toMatchObject({ done: false });
    const waiting = restarted.send(buy("during"));
    await Bun.sleep(20);
    release();
    expect(await waiting).toMatchObject({ status: "FILLED" });

    // A check that does not end within the wait: refused, retryable, nothing executed
    const again = await restart(restarted, { dealsFailing: true });
    again.backend.dealsHeld = new Promise<void>(() => {});
    again.backend.dealsFailing = false;
    again.clock.advance(1000);
    const refused = again.send(buy("slow"));
    await Bun.sleep(20);
    again.clock.advance(3000);
    expect(await refused).toMatchObject({ status: "ERROR", error_code: "JOURNAL_UNAVAILABLE" });
    expect(again.backend.calls).toBe(0);
  });
});
