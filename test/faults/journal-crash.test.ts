/**
 * The gateway killed between the steps of one order (issue 17 §3), with a power cut on top: the
 * journal is cut back to what its last completed fdatasync covered before the restart. For each
 * step, the broker's books hold no deal whose intent the cut journal lacks (nothing executes
 * without a durable journal line), the restarted gateway (the real agent-gtw) says what a
 * careful client needs (never seen, NOT_EXECUTED, or the same FILLED), and after the client's
 * retries every order has exactly one deal (nothing executes twice).
 *
 * The dying gateway is test/faults/crash-gateway.ts: the same app, SIGKILLing itself at a step.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type { OrderRecord, TradeReply } from "../../shared/protocol/index.ts";
import type { CrashStep } from "./crash-gateway.ts";
import { auditBooks, Cleanups } from "./support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const ROOT = join(import.meta.dir, "..", "..");
/** Whether the journal's text holds the intent line of `coid`. */
const intentIn = (journal: string, coid: string) =>
  new RegExp(`"k":"I",(?:"u":"[^"]*",)?"c":"${coid}"`).test(journal);
const open = (coid: string) =>
  ({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.01, client_order_id: coid }) as const;

/** Start the self-killing gateway and wait until it listens (its status file names the port). */
async function startCrashingGateway(deployment: Deployment, step: CrashStep, out: string) {
  const child = Bun.spawn(
    [
      process.execPath,
      join(ROOT, "test", "faults", "crash-gateway.ts"),
      "--config",
      deployment.gtwConfigPath,
      "--step",
      step,
      "--coid",
      "victim",
      "--out",
      out,
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { ...process.env } },
  );
  cleanups.add(() => child.kill("SIGKILL"));
  const statusPath = join(deployment.gtwStateDir, "status.json");
  for (let i = 0; i < 750; i++) {
    if (child.exitCode !== null)
      throw new Error(`crash-gateway exited early: ${await new Response(child.stderr).text()}`);
    try {
      const status = JSON.parse(readFileSync(statusPath, "utf8")) as {
        pid?: number;
        endpoint?: string;
      };
      if (status.pid === child.pid && status.endpoint) return { child, endpoint: status.endpoint };
    } catch {
      // not written yet
    }
    await Bun.sleep(20);
  }
  throw new Error("crash-gateway did not listen within 15 s");
}

interface Expectation {
  /** What GET_ORDER says about the victim after the restart. */
  readonly after: "never seen" | "NOT_EXECUTED" | "FILLED";
  /** Whether the victim's first send got its reply before the crash. */
  readonly answered: boolean;
}

const EXPECTED: Record<CrashStep, Expectation> = {
  "intent-syncing": { after: "never seen", answered: false },
  "intent-durable": { after: "NOT_EXECUTED", answered: false },
  executed: { after: "FILLED", answered: false },
  "outcome-written": { after: "FILLED", answered: false },
  replied: { after: "FILLED", answered: true },
};

describe("the gateway killed between the steps of an order, then a power cut", () => {
  test.each(Object.keys(EXPECTED) as CrashStep[])(
    "killed at %s: no execution without a durable intent, none twice after the restart",
    async (step) => {
      const expected = EXPECTED[step];
      const deployment = createDeployment({ gateway: { log: { level: "warn" } } });
      cleanups.add(() => deployment.remove());
      const out = join(deployment.dir, "crash.json");
      const journalPath = join(deployment.gtwStateDir, "orders.journal");
      const coids = ["before-1", "before-2", "victim", "trigger"];

      const { child, endpoint } = await startCrashingGateway(deployment, step, out);
      const client = new TestClient(endpoint, deployment);
      cleanups.add(() => client.close());
      for (const coid of ["before-1", "before-2"])
        expect((await client.send(open(coid))).status).toBe("FILLED");
      const first = await client.send(open("victim"), 2000).catch(() => undefined);
      // After the reply, the next journal write (this order's intent) is where it dies
      if (step === "replied") await client.send(open("trigger"), 2000).catch(() => undefined);
      expect(await child.exited).not.toBe(0);
      expect(child.signalCode).toBe("SIGKILL");
      await client.close();

      // The power cut: only what an fdatasync covered survives
      expect(existsSync(out)).toBe(true);
      const { durable } = JSON.parse(readFileSync(out, "utf8")) as { durable: number };
      const cut = statSync(journalPath).size - durable;
      truncateSync(journalPath, durable);
      const journal = readFileSync(journalPath, "utf8");
      const beforeRestart = await auditBooks(deployment, coids);
      expect(beforeRestart.strangers).toEqual([]);
      for (const coid of beforeRestart.dealsByCoid.keys())
        expect({ coid, journaled: intentIn(journal, coid) }).toEqual({
          coid,
          journaled: true,
        });
      expect(first !== undefined).toBe(expected.answered);

      const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
      cleanups.add(() => gateway.kill());
      const again = new TestClient(gateway.endpoint, deployment);
      cleanups.add(() => again.close());
      const record = (
        (await again.send({ action: "GET_ORDER", client_order_id: "victim" })) as {
          order: OrderRecord | null;
        }
      ).order;
      expect(record === null ? "never seen" : record.state).toBe(expected.after);
      if (first !== undefined && record !== null) {
        // The reply the client acted on and the reconciled record name the same position
        expect((record.reply as TradeReply).ticket).toBe((first as TradeReply).ticket);
      }
      // A careful client re-sends what was never seen or proved not executed; any further
      // retry is answered from the journal
      const resent = await again.send(open("victim"));
      expect(resent.status).toBe("FILLED");
      expect(resent.duplicate === true).toBe(expected.after === "FILLED");
      expect(await again.send(open("victim"))).toMatchObject({ status: "FILLED", duplicate: true });
      if (step === "replied") {
        const trigger = (await again.send({ action: "GET_ORDER", client_order_id: "trigger" })) as {
          order: OrderRecord | null;
        };
        expect(trigger.order).toBeNull();
      }
      await again.close();
      expect(await gateway.stop()).toBe(0);

      const audit = await auditBooks(deployment, coids);
      expect(audit.strangers).toEqual([]);
      expect(
        ["before-1", "before-2", "victim"].map((coid) => audit.dealsByCoid.get(coid)?.length),
      ).toEqual([1, 1, 1]);
      expect(audit.dealsByCoid.get("trigger")).toBeUndefined();
      console.log(
        `[faults] journal crash ${JSON.stringify({
          step,
          victim_answered_before_crash: first?.status ?? null,
          journal_bytes_lost_to_power_cut: cut,
          victim_after_restart: record === null ? "never seen" : record.state,
          victim_resent: resent.duplicate === true ? "duplicate" : "executed",
          victim_deals: audit.dealsByCoid.get("victim")?.length ?? 0,
        })}`,
      );
    },
    60_000,
  );
});
