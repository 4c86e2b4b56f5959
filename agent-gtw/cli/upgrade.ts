/**
 * `agent-gtw upgrade --binary FILE | --rollback` (shared/service/upgrade.ts does the work): the
 * gateway's drain goes through the operator channel (operator/drain.ts), and its health is its
 * status file: running, the expected version, the MT5 link up and the journal writable.
 */
import { locateConfig } from "../../shared/cli.ts";
import type { HealthReport, UpgradeHooks } from "../../shared/service/upgrade.ts";
import {
  runUpgradeCommand,
  type UpgradeCommandSeams,
} from "../../shared/service/upgrade-command.ts";
import { loadGatewayConfig } from "../config.ts";
import { isRunning, readStatus } from "../operator/control.ts";
import type { DrainResult } from "../operator/drain.ts";
import { sendOperatorRequest } from "./operator-request.ts";

const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";
/** The drain holds this long past its wait: time for the service manager to stop the gateway. */
const DRAIN_HOLD_MS = 120_000;

export function runGatewayUpgrade(
  args: readonly string[],
  seams: UpgradeCommandSeams = {},
): Promise<number> {
  return runUpgradeCommand(
    args,
    {
      program: "agent-gtw",
      drains: true,
      locateConfig: (flag) => locateConfig(flag, CONFIG_ENV, CONFIG_FILE),
      hooks: (configPath, drainTimeoutMs) =>
        gatewayUpgradeHooks(loadGatewayConfig(configPath).state_dir, drainTimeoutMs),
    },
    seams,
  );
}

/** The gateway's drain, resume and health probe for upgrade.ts. */
export function gatewayUpgradeHooks(stateDir: string, drainTimeoutMs: number): UpgradeHooks {
  return {
    async drain() {
      // The gateway answers within its wait; the request is picked up within half a second
      const result = await sendOperatorRequest<DrainResult>(
        stateDir,
        "drain",
        { wait_ms: drainTimeoutMs, hold_ms: drainTimeoutMs + DRAIN_HOLD_MS },
        Math.ceil(drainTimeoutMs / 1000) + 5,
      );
      if (result === "NOT_TAKEN")
        return "no running gateway took the drain request: nothing in flight";
      if (result === "NO_ANSWER")
        throw new Error("the gateway took the drain request but did not answer; check its log");
      if (result.error !== undefined || result.drained !== true)
        throw new Error(result.error ?? "the gateway did not drain");
      return `drained: new orders refused, ${result.in_flight_at_start ?? 0} in flight finished and journaled (${result.waited_ms ?? 0} ms)${result.unresolved ? `; ${result.unresolved} unresolved, reconciled at the next start` : ""}`;
    },
    async resume() {
      await sendOperatorRequest(stateDir, "drain", { resume: true }, 5);
    },
    async probe() {
      const status = readStatus(stateDir);
      if (status === undefined || !isRunning(status, Date.now())) return undefined;
      return gatewayHealth(status);
    },
  };
}

/** What a status file says about the gateway's health. */
export function gatewayHealth(status: Readonly<Record<string, unknown>>): HealthReport {
  const mt5 = status["mt5"] as { state?: string; detail?: string } | undefined;
  const journal = status["journal"] as { failure?: string | null } | undefined;
  const problems = [
    ...(mt5?.state === "UP"
      ? []
      : [`MT5 link ${mt5?.state ?? "?"}${mt5?.detail ? ` (${mt5.detail})` : ""}`]),
    ...(journal?.failure ? [`journal failing: ${journal.failure}`] : []),
  ];
  return {
    version: String(status["version"]),
    ok: problems.length === 0,
    detail: problems.join("; ") || "ok",
  };
}
