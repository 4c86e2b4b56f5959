/**
 * Operator control of a running gateway without another listening port: two small files in the
 * state directory.
 *
 * - `trading-state.json`: the operator's trading state. `agent-gtw state HALTED` writes it
 *   (atomically); the gateway polls it, applies changes within a second, and reads it at startup,
 *   so a HALT survives restarts.
 * - `status.json`: what the gateway is doing, rewritten every second; `agent-gtw status` prints it.
 *
 * File permissions are the access control: whoever can write the state directory can halt trading.
 */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { AgentError, FaultCode } from "../../shared/errors.ts";
import { readStateText, writeStateFile } from "../../shared/keys/private-file.ts";
import type { Logger } from "../../shared/log.ts";
import { TRADING_STATES, type TradingState } from "../../shared/protocol/index.ts";
import type { TradingStateHolder } from "../../shared/trading-state.ts";

export const STATE_FILE = "trading-state.json";
export const STATUS_FILE = "status.json";
const MAX_CONTROL_FILE_BYTES = 16 * 1024;
const MAX_STATUS_BYTES = 1024 * 1024;

export interface OperatorState {
  readonly state: TradingState;
  readonly reason: string;
  /** Unix ms of the operator's command. */
  readonly at: number;
}

/** Write the operator's state file atomically (tmp + rename), creating the directory. */
export function writeOperatorState(stateDir: string, state: OperatorState): void {
  mkdirSync(stateDir, { recursive: true });
  writeStateFile(join(stateDir, STATE_FILE), `${JSON.stringify(state)}\n`, {
    what: "trading state file",
  });
}

/** The operator's state file, or undefined when there is none. Throws naming the file if invalid. */
export function readOperatorState(stateDir: string): OperatorState | undefined {
  const path = join(stateDir, STATE_FILE);
  const fail = (why: string): never => {
    throw new AgentError(
      FaultCode.CONFIG_INVALID,
      `control: ${path}: ${why}; fix it with: agent-gtw state <ACTIVE|REDUCING|HALTED>`,
    );
  };
  // A link, a FIFO or an oversized file is refused with a message naming it
  const text = readStateText(path, "trading state file", MAX_CONTROL_FILE_BYTES);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail("not valid JSON");
  }
  const record = value as Partial<OperatorState> | null;
  if (
    typeof record !== "object" ||
    record === null ||
    !TRADING_STATES.includes(record.state as TradingState)
  ) {
    return fail(`"state" must be one of ${TRADING_STATES.join(", ")}`);
  }
  return {
    state: record.state as TradingState,
    reason: typeof record.reason === "string" ? record.reason.slice(0, 200) : "operator",
    at: typeof record.at === "number" ? record.at : 0,
  };
}

/** Poll the state file and apply what the operator wrote; returns the stop function. */
export function watchOperatorState(
  stateDir: string,
  holder: TradingStateHolder,
  clock: Clock,
  logger: Logger,
  intervalMs = 500,
): () => void {
  const path = join(stateDir, STATE_FILE);
  let lastStamp = stamp(path);
  const timer: TimerHandle = clock.setInterval(() => {
    const current = stamp(path);
    if (current === lastStamp) return;
    lastStamp = current;
    try {
      const operator = readOperatorState(stateDir);
      if (operator !== undefined) holder.set(operator.state, operator.reason, "operator");
    } catch (error) {
      // Keep the current state: a broken file must not silently re-enable trading.
      logger.error("Operator state file ignored", { path, error: (error as Error).message });
    }
  }, intervalMs);
  return () => timer.cancel();
}

function stamp(path: string): string {
  try {
    const info = statSync(path);
    return `${info.mtimeMs}:${info.size}:${info.ino}`;
  } catch {
    return "missing";
  }
}

/** Write the status file (best effort: the gateway keeps running if the disk refuses). */
export function writeStatus(
  stateDir: string,
  status: Readonly<Record<string, unknown>>,
  logger: Logger,
): void {
  const path = join(stateDir, STATUS_FILE);
  try {
    mkdirSync(stateDir, { recursive: true });
    // Never through a link planted at status.json.tmp or status.json (issue 12 §6)
    writeStateFile(path, `${JSON.stringify(status, null, 2)}\n`, { what: "status file" });
  } catch (error) {
    logger.warn("Status file not written", { path, error: (error as Error).message });
  }
}

/** A status file is fresh for this long; after it, the gateway counts as not running. */
export const STATUS_FRESH_MS = 5000;

/** Whether the status file shows a running gateway (rewritten every second, no stop recorded). */
export function isRunning(status: Readonly<Record<string, unknown>>, now: number): boolean {
  return (
    status["stopped_at"] === undefined && now - Number(status["updated_at"] ?? 0) < STATUS_FRESH_MS
  );
}

export function readStatus(stateDir: string): Record<string, unknown> | undefined {
  try {
    const text = readStateText(join(stateDir, STATUS_FILE), "status file", MAX_STATUS_BYTES);
    return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}
