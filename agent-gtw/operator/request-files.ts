/**
 * The command side of the operator's request files (`agent-gtw cancel`, `agent-gtw reload`): a
 * command writes a request into `<state_dir>/operator/`, the gateway takes it by renaming it and
 * answers in a result file the command reads once and removes.
 */
import { rmSync } from "node:fs";
import { readStateText } from "../../shared/keys/private-file.ts";

/** The result at `path` once the gateway wrote it (removed as it is read), else undefined. */
export function takeResultFile<T>(path: string, what: string, maxBytes: number): T | undefined {
  const text = readStateText(path, what, maxBytes);
  if (text === undefined) return undefined;
  rmSync(path, { force: true });
  return JSON.parse(text) as T;
}

/** A command giving up: remove its request if no gateway took it yet; true when it was there. */
export function withdrawRequestFile(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}
