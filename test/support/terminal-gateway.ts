/**
 * Test-only: the real agent-gtw process on the terminal backend, the fake EA dialling its port,
 * and a CURVE test client that has seen the MT5 link UP and the journal cross-checked with the
 * broker, so signed actions are taken (the process-level terminal tests). Stopped by
 * cleanupRigs().
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { onCleanup, terminalDeployment } from "../../agent-gtw/backend/terminal/testing/rig.ts";
import { startGateway } from "../../scripts/harness/agents.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type { PingReply } from "../../shared/protocol/index.ts";

export async function liveTerminalGateway(terminal: Record<string, unknown> = {}) {
  const { deployment, fake } = await terminalDeployment({
    // The fake EA runs in the test process: three missed beats take a stall of 1.5 s here, not
    // the 0.6 s a loaded machine sometimes gives at 200 ms
    heartbeat_ms: 500,
    command_timeout_ms: 3000,
    ...terminal,
  });
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  onCleanup(() => gtw.stop().catch(() => gtw.kill()));
  const c = new TestClient(gtw.endpoint, deployment);
  onCleanup(() => c.close());
  await eventually(
    async () => ((await c.send({ action: "PING" })) as PingReply).mt5.link === "UP",
    { timeoutMs: 10_000 },
  );
  await brokerChecked(deployment.gtwStateDir);
  return { deployment, fake, gtw, c };
}

/**
 * Wait until the gateway has cross-checked its journal with the broker. The check starts when
 * the MT5 link comes UP; until it is done signed actions are refused with JOURNAL_UNAVAILABLE.
 * The status file (rewritten every second) says when.
 */
export async function brokerChecked(gtwStateDir: string): Promise<void> {
  const statusPath = join(gtwStateDir, "status.json");
  await eventually(
    () => {
      const status = JSON.parse(readFileSync(statusPath, "utf8")) as {
        journal?: { broker_check?: { done?: boolean } };
      };
      return status.journal?.broker_check?.done === true;
    },
    { timeoutMs: 10_000, intervalMs: 50, message: "the journal cross-checked with the broker" },
  );
}
