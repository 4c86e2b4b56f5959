/** The backend a gateway's config names (`backend.type`): built here, started by app.ts. */
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import type { GatewayConfig } from "../config.ts";
import type { Backend } from "./backend.ts";
import { SimBackend } from "./sim/sim-backend.ts";
import { readSecretFile } from "./terminal/secret.ts";
import { TerminalBackend } from "./terminal/terminal-backend.ts";

/** The backend the config names: the simulated MT5 or the terminal (EA) link. */
export function createBackend(config: GatewayConfig, clock: Clock, logger: Logger): Backend {
  if (config.backend.type === "terminal") {
    const terminal = config.backend.terminal;
    return new TerminalBackend({
      port: terminal.port,
      secret: readSecretFile(terminal.secret_file),
      heartbeatMs: terminal.heartbeat_ms,
      commandTimeoutMs: terminal.command_timeout_ms,
      clock,
      logger,
    });
  }
  const sim = config.backend.sim;
  return new SimBackend({
    clock,
    seed: sim.seed,
    stateDir: sim.state_dir,
    logger: logger.child("sim"),
    sessions: sim.sessions,
    tickIntervalMs: sim.tick_interval_ms,
    volatility: sim.volatility,
    account: {
      login: sim.account.login,
      currency: sim.account.currency,
      balance: sim.account.balance,
      leverage: sim.account.leverage,
      marginMode: sim.account.margin_mode,
    },
  });
}
