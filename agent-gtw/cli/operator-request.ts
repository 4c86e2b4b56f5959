/**
 * The command side of the operator channel (operator/requests.ts), shared by `agent-gtw cancel`,
 * `sim` and `upgrade`: write the request, wait a bounded time for the running gateway's result,
 * and when none comes, withdraw the request (so it never acts later) or say it was taken.
 */
import { UsageError } from "../../shared/cli.ts";
import {
  type OperatorResult,
  type RequestBody,
  type RequestKind,
  readOperatorResult,
  withdrawOperatorRequest,
  writeOperatorRequest,
} from "../operator/requests.ts";

/** --wait's default and bounds, in seconds. */
export const DEFAULT_WAIT_SECONDS = 10;
const MAX_WAIT_SECONDS = 60;

/** --wait SECONDS as given, checked. */
export function parseWaitSeconds(
  text: string | undefined,
  fallback = DEFAULT_WAIT_SECONDS,
): number {
  const seconds = Number(text ?? String(fallback));
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_WAIT_SECONDS)
    throw new UsageError(`--wait must be 1–${MAX_WAIT_SECONDS} seconds, was ${text}`);
  return seconds;
}

/** Why no result came: nobody took the request (withdrawn), or the gateway took it and is silent. */
export type NoAnswer = "NOT_TAKEN" | "NO_ANSWER";

export async function sendOperatorRequest<T extends OperatorResult>(
  stateDir: string,
  kind: RequestKind,
  body: RequestBody,
  waitSeconds: number,
): Promise<T | NoAnswer> {
  const id = writeOperatorRequest(stateDir, kind, { ...body, at: Date.now() });
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const result = readOperatorResult<T>(stateDir, kind, id);
    if (result !== undefined) return result;
    if (Date.now() > deadline)
      return withdrawOperatorRequest(stateDir, kind, id) ? "NOT_TAKEN" : "NO_ANSWER";
    await Bun.sleep(100);
  }
}

/** The line to print when no result came. */
export function noAnswerMessage(
  why: NoAnswer,
  waitSeconds: number,
  stateDir: string,
  nothingDone: string,
): string {
  return why === "NOT_TAKEN"
    ? `agent-gtw: no running gateway took the request within ${waitSeconds} s; it was withdrawn, ${nothingDone} (is agent-gtw running with state_dir ${stateDir}?)\n`
    : `agent-gtw: the gateway took the request but has not answered within ${waitSeconds} s; check its log and \`agent-gtw status\`\n`;
}
