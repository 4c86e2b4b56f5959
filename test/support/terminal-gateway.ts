/**
 * Test-only: the real agent-gtw process on the terminal backend, the fake EA dialling its port,
 * and a CURVE test client that has seen the MT5 link UP (the process-level terminal tests).
 * Stopped by cleanupRigs().
 */
import { onCleanup, terminalDeployment } from "../../agent-gtw/backend/terminal/testing/rig.ts";
import { startGateway } from "../../scripts/harness/agents.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type { PingReply } from "../../shared/protocol/index.ts";

export async function liveTerminalGateway(terminal: Record<string, unknown> = {}) {
  const { deployment, fake } = await terminalDeployment({
    heartbeat_ms: 200,
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
  return { deployment, fake, gtw, c };
}
