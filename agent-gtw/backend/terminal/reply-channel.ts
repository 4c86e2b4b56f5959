/**
 * Non-trade commands and their replies (docs/EA-LINK.md §9): send through the queue, turn a
 * missing reply into the Backend's fault codes, an `ok:false` into TerminalCommandError, and a
 * malformed reply into a closed link plus BACKEND_UNAVAILABLE for the caller.
 */
import { describeError, FaultCode } from "../../../shared/errors.ts";
import { BackendError } from "../backend.ts";
import type { CommandQueue } from "./command-queue.ts";
import type { WireObject } from "./framing.ts";
import { LinkProtocolError, type WireFields } from "./wire-fields.ts";

/** A REPLY with ok:false to a read command (§9). */
export class TerminalCommandError extends BackendError {
  /** The EA's stable error code, e.g. UNKNOWN_SYMBOL. */
  readonly eaError: string;

  constructor(cmd: string, eaError: string, message: string) {
    super(
      FaultCode.BACKEND_UNAVAILABLE,
      `terminal: EA answered ${cmd} with ${eaError}: ${message}`,
    );
    this.name = "TerminalCommandError";
    this.eaError = eaError;
  }
}

export class ReplyChannel {
  readonly #queue: CommandQueue;
  readonly #timeoutMs: number;
  readonly #violation: (error: unknown) => void;

  /** `violation` closes the link over a malformed reply. */
  constructor(queue: CommandQueue, timeoutMs: number, violation: (error: unknown) => void) {
    this.#queue = queue;
    this.#timeoutMs = timeoutMs;
    this.#violation = violation;
  }

  /** The REPLY's fields when ok, else TerminalCommandError. */
  async exchange(
    cmd: string,
    fields: WireObject,
    timeoutMs = this.#timeoutMs,
  ): Promise<WireFields> {
    let reply: WireFields;
    try {
      reply = (await this.#queue.enqueue(cmd, fields, timeoutMs)).fields;
    } catch (error) {
      if (error instanceof BackendError) throw error;
      const timedOut = (error as { timedOut?: boolean }).timedOut === true;
      throw new BackendError(
        timedOut ? FaultCode.BACKEND_TIMEOUT : FaultCode.BACKEND_UNAVAILABLE,
        `terminal: ${describeError(error)}`,
        { cause: error },
      );
    }
    if (!this.parse(reply, (parsed) => parsed.boolean("ok"))) {
      const code = this.parse(reply, (parsed) => parsed.string("error"));
      throw new TerminalCommandError(cmd, code, reply.optionalString("error_msg") ?? "");
    }
    return reply;
  }

  /** Map a reply; a malformed one closes the link. */
  parse<T>(reply: WireFields, map: (fields: WireFields) => T): T {
    try {
      return map(reply);
    } catch (error) {
      throw this.#translate(error);
    }
  }

  /** Run a multi-reply read (paging) with the same treatment of malformed replies. */
  async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #translate(error: unknown): unknown {
    if (!(error instanceof LinkProtocolError)) return error;
    this.#violation(error);
    return new BackendError(FaultCode.BACKEND_UNAVAILABLE, error.message, { cause: error });
  }
}
