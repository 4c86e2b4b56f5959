/**
 * `agent-inf upgrade --binary FILE | --rollback` (shared/service/upgrade.ts does the work). The
 * drain is the service's stop: the API stops taking requests and waits for the ones in flight
 * (orders included, up to their reconcile deadline; TimeoutStopSec allows for it). Health is the
 * running agent's `/v1/health`: its version, and "ok" if it was ok before the upgrade.
 */
import { locateConfig } from "../../shared/cli.ts";
import { describeError } from "../../shared/errors.ts";
import type { HealthReport, UpgradeHooks } from "../../shared/service/upgrade.ts";
import {
  runUpgradeCommand,
  type UpgradeCommandSeams,
} from "../../shared/service/upgrade-command.ts";
import { loadInferenceConfig } from "../config.ts";
import { apiBaseUrl, commandToken } from "./api-commands.ts";
import { CONFIG_ENV, CONFIG_FILE, PROGRAM } from "./command.ts";

const PROBE_TIMEOUT_MS = 3000;

export function runInferenceUpgrade(
  args: readonly string[],
  seams: UpgradeCommandSeams = {},
): Promise<number> {
  return runUpgradeCommand(
    args,
    {
      program: PROGRAM,
      locateConfig: (flag) => locateConfig(flag, CONFIG_ENV, CONFIG_FILE),
      hooks: (configPath) => inferenceUpgradeHooks(configPath),
    },
    seams,
  );
}

export function inferenceUpgradeHooks(configPath: string): UpgradeHooks {
  const config = loadInferenceConfig(configPath);
  // Health is a read: the strategy's token suffices
  const token = commandToken(config.api, "strategy");
  const url = `${apiBaseUrl(config.api.listen)}/v1/health`;
  return {
    async probe(): Promise<HealthReport | undefined> {
      let response: Response;
      try {
        response = await fetch(url, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
        });
      } catch {
        return undefined; // not running (yet)
      }
      let body: { status?: unknown; version?: unknown; gateways?: unknown };
      try {
        body = (await response.json()) as typeof body;
      } catch (error) {
        throw new Error(
          `${url} answered ${response.status} without JSON (${describeError(error)})`,
        );
      }
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
      return {
        version: String(body.version),
        ok: body.status === "ok",
        detail: `status ${String(body.status)}; see ${PROGRAM} status`,
      };
    },
  };
}
