/** The state folders one gateway owns, locked for one process (issue 12 §5). */
import { dirname, resolve } from "node:path";
import { acquireStateLock, type StateLock } from "../../shared/service/state-lock.ts";
import type { GatewayConfig } from "../config.ts";

/** The program name in lock files and their messages. */
export const LOCK_PROGRAM = "agent-gtw";
/**
 * The folders one gateway owns: the state folder (status, operator files), the journal's, and the
 * simulated broker's. Locked before anything in them is read (shared/service/state-lock.ts).
 */
export function lockStateFolders(config: GatewayConfig, sim: boolean): StateLock[] {
  const folders = new Set([resolve(config.state_dir), resolve(dirname(config.journal.path))]);
  if (sim && config.backend.type === "sim") folders.add(resolve(config.backend.sim.state_dir));
  const locks: StateLock[] = [];
  try {
    for (const folder of folders) locks.push(acquireStateLock(folder, { program: LOCK_PROGRAM }));
  } catch (error) {
    for (const lock of locks) lock.release();
    throw error;
  }
  return locks;
}
