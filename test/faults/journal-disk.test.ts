/**
 * The journal's disk fails (issue 7 §1c): the gateway process keeps its order journal on a small
 * tmpfs mounted for the test, a real file system that really runs out of space (ENOSPC from
 * write(2)), so nothing in the gateway is stubbed. While the disk is full every order is refused
 * JOURNAL_UNAVAILABLE with the reason, before it reaches the broker; queries and PING still work;
 * the status file says why; once space returns the same client_order_ids fill, exactly once,
 * and a restart reads everything back. A journal on a read-only file system stops the gateway
 * at start with a message naming the file.
 *
 * Needs root for mount(8), as the CI runs (Debian, root); the mounts are unmounted in cleanup.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentCommand, spawnAgent } from "../../scripts/harness/agents.ts";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type { OrderRecord, Reply } from "../../shared/protocol/index.ts";
import { auditBooks, Cleanups, startStack } from "./support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

/** Mount a tmpfs of `size` on a new temp folder; unmounted (and removed) by cleanup. */
function tmpfs(size: string, readOnly = false): string {
  const dir = mkdtempSync(join(tmpdir(), "mlb-journal-fs-"));
  const options = `size=${size},mode=0700${readOnly ? ",ro" : ""}`;
  const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir]);
  if (mounted.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `cannot mount a tmpfs for the disk-full test (needs root, as in CI): ${mounted.stderr.toString().trim()}`,
    );
  }
  cleanups.add(() => {
    Bun.spawnSync(["umount", dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Write a ballast file until the file system refuses even one more byte. */
function fill(path: string): number {
  const fd = openSync(path, "w");
  let written = 0;
  try {
    for (const size of [1 << 16, 1 << 12, 1]) {
      const chunk = new Uint8Array(size).fill(0x78);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

function open(coid: string) {
  return {
    action: "OPEN",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.01,
    client_order_id: coid,
  } as const;
}

describe("the journal's disk", () => {
  test("full: orders are refused JOURNAL_UNAVAILABLE and never executed; space back, they fill once", async () => {
    const mount = tmpfs("1m");
    const stack = await startStack(cleanups, {
      gatewayConfig: { journal: { path: join(mount, "orders.journal") } },
    });
    const client = new TestClient(stack.gateway.endpoint, stack.deployment);
    cleanups.add(() => client.close());
    const positions = async () =>
      ((await client.send({ action: "GET_POSITIONS" })) as unknown as { positions: unknown[] })
        .positions.length;

    expect(await client.send(open("disk-warmup"))).toMatchObject({ status: "FILLED" });
    const ballast = join(mount, "ballast");
    const ballastBytes = fill(ballast);

    // The journal's last page may still hold a few records; then every order is refused
    const filledBeforeFull: string[] = ["disk-warmup"];
    const refused = new Map<string, Reply>();
    for (let i = 0; refused.size < 10; i++) {
      expect(i).toBeLessThan(60);
      const coid = `disk-${i}`;
      const reply = await client.send(open(coid));
      if (reply.status === "FILLED" && refused.size === 0) filledBeforeFull.push(coid);
      else refused.set(coid, reply);
    }
    for (const reply of refused.values()) {
      expect(reply).toMatchObject({ status: "ERROR", error_code: "JOURNAL_UNAVAILABLE" });
      expect(reply.error_msg).toContain("no space left on device");
      expect(reply.error_msg).toContain(join(mount, "orders.journal"));
    }
    expect(await positions()).toBe(filledBeforeFull.length);
    for (const coid of refused.keys()) {
      const record = (await client.send({ action: "GET_ORDER", client_order_id: coid })) as {
        order?: OrderRecord | null;
      };
      expect(record.order).toBeNull();
    }
    // What the strategy sees through agent-inf: the gateway's refusal, and nothing executed
    const viaApi = await stack.api.call("POST", "/v1/orders", {
      ...open("disk-api"),
      action: undefined,
    });
    expect(viaApi.status).toBe(502);
    expect(viaApi.json).toMatchObject({
      outcome: "ERROR",
      reply: { error_code: "JOURNAL_UNAVAILABLE" },
    });
    refused.set("disk-api", viaApi.json["reply"] as Reply);
    expect(await client.send({ action: "PING" })).toMatchObject({ status: "OK" });
    const statusFile = join(stack.deployment.gtwStateDir, "status.json");
    const status = await eventually(() => {
      const journal = JSON.parse(readFileSync(statusFile, "utf8")).journal as {
        failure: string | null;
      };
      return journal.failure?.includes("no space left on device") ? journal : undefined;
    });
    expect(status.failure).toContain("orders.journal");
    // ... and so does the operator's command
    const operator = Bun.spawnSync([
      ...agentCommand("agent-gtw"),
      "status",
      "--config",
      stack.deployment.gtwConfigPath,
    ]);
    expect(operator.stdout.toString()).toMatch(
      /^journal {3}\d+ orders, \d+ unresolved, FAILING: journal: cannot write .*no space left on device/m,
    );
    expect(await positions()).toBe(filledBeforeFull.length);

    // Space returns: the refused ids go through as they are, each once
    rmSync(ballast);
    for (const coid of refused.keys()) {
      expect(await client.send(open(coid))).toMatchObject({ status: "FILLED" });
    }
    const total = filledBeforeFull.length + refused.size;
    expect(await positions()).toBe(total);
    await client.close();

    // And a restart reads it all back; an outcome the full disk kept out is reconciled
    expect(await stack.gateway.stop()).toBe(0);
    const again = await stack.restartGateway();
    const after = new TestClient(again.endpoint, stack.deployment);
    cleanups.add(() => after.close());
    for (const coid of [...filledBeforeFull, ...refused.keys()]) {
      const record = (await after.send({ action: "GET_ORDER", client_order_id: coid })) as {
        order?: OrderRecord | null;
      };
      expect(record.order?.state).toBe("FILLED");
    }
    await after.close();
    expect(await again.stop()).toBe(0);
    const audit = await auditBooks(stack.deployment, [...filledBeforeFull, ...refused.keys()]);
    expect([...audit.dealsByCoid.values()].map((deals) => deals.length)).toEqual(
      Array.from({ length: total }, () => 1),
    );
    const gatewayLog = stack.gateways.map((gateway) => gateway.log()).join("");
    console.log(
      `[faults] journal disk full ${JSON.stringify({
        tmpfs: "1 MiB",
        ballast_bytes: ballastBytes,
        filled_in_last_page_before_refusals: filledBeforeFull.length - 1,
        refused_while_full: refused.size,
        refusal: [...refused.values()][0]?.error_msg?.replace(mount, "<tmpfs>"),
        executed_while_full: 0,
        outcomes_not_journaled: gatewayLog.match(/Outcome not journaled/g)?.length ?? 0,
        reconciled_after_restart: gatewayLog.match(/Reconciled order/g)?.length ?? 0,
        filled_after_space_returned: refused.size,
        deals_per_order: 1,
      })}`,
    );
  }, 60_000);

  test("read-only at start: the gateway refuses to start and names the journal's folder", async () => {
    const mount = tmpfs("64k", true);
    const deployment = createDeployment({
      gateway: { journal: { path: join(mount, "orders.journal") } },
    });
    cleanups.add(() => deployment.remove());
    const gateway = spawnAgent("agent-gtw", ["run", "--config", deployment.gtwConfigPath]);
    cleanups.add(() => gateway.kill());
    const code = await Promise.race([gateway.exited(), Bun.sleep(15_000).then(() => -1)]);
    expect(code).not.toBe(0);
    expect(code).not.toBe(-1);
    // The folder is locked before the journal is opened: its lock file is the first write
    expect(gateway.log()).toContain(`cannot lock state folder ${mount}:`);
    expect(gateway.log()).toContain("EROFS: read-only file system");
    console.log(`[faults] journal read-only ${JSON.stringify({ exit_code: code })}`);
  }, 30_000);
});
