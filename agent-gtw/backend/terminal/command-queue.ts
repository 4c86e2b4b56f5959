/**
 * Serialises commands onto the EA session (docs/EA-LINK.md §6.3: one command in flight). Callers
 * wait in a bounded queue; a full queue or a missing session fails at once with
 * BACKEND_UNAVAILABLE, because nothing was sent. Ids come from one counter for the backend's
 * whole life, so they are unique per session as §6.3 asks, and across sessions too.
 */
import { FaultCode } from "../../../shared/errors.ts";
import { BackendError } from "../backend.ts";
import type { WireObject } from "./framing.ts";
import type { EaSession } from "./session.ts";
import type { WireFields } from "./wire-fields.ts";

export const DEFAULT_MAX_QUEUED_COMMANDS = 64;

/** A REPLY and the session that produced it. */
export interface SessionReply {
  readonly fields: WireFields;
  readonly serial: number;
}

interface Queued {
  readonly cmd: string;
  readonly fields: WireObject;
  readonly timeoutMs: number;
  readonly resolve: (reply: SessionReply) => void;
  readonly reject: (error: unknown) => void;
}

export class CommandQueue {
  readonly #max: number;
  readonly #session: () => EaSession | undefined;
  #items: Queued[] = [];
  #lastId = 0;

  constructor(max: number, session: () => EaSession | undefined) {
    this.#max = max;
    this.#session = session;
  }

  get length(): number {
    return this.#items.length;
  }

  /** Whether a command could go out right now (a session, nothing in flight or waiting). */
  get idle(): boolean {
    const session = this.#session();
    return session !== undefined && !session.busy && this.#items.length === 0;
  }

  enqueue(cmd: string, fields: WireObject, timeoutMs: number): Promise<SessionReply> {
    const session = this.#session();
    if (session === undefined) {
      return Promise.reject(
        new BackendError(
          FaultCode.BACKEND_UNAVAILABLE,
          `terminal: EA not connected; ${cmd} not sent`,
        ),
      );
    }
    if (this.#items.length >= this.#max) {
      return Promise.reject(
        new BackendError(
          FaultCode.BACKEND_UNAVAILABLE,
          `terminal: ${this.#max} commands already wait for the EA; ${cmd} not sent`,
        ),
      );
    }
    const promise = new Promise<SessionReply>((resolve, reject) => {
      this.#items.push({ cmd, fields, timeoutMs, resolve, reject });
    });
    this.pump();
    return promise;
  }

  /** Send the next command if the session is free; called after every reply and new session. */
  pump(): void {
    const session = this.#session();
    if (session === undefined || session.busy || session.closed) return;
    const next = this.#items.shift();
    if (next === undefined) return;
    this.#lastId += 1;
    session
      .request(this.#lastId, next.cmd, next.fields, next.timeoutMs)
      .then((fields) => next.resolve({ fields, serial: session.serial }), next.reject)
      .finally(() => this.pump());
  }

  /** The link is gone: every waiting command fails, certainly not sent. */
  failAll(reason: string): void {
    const items = this.#items;
    this.#items = [];
    for (const item of items) {
      item.reject(
        new BackendError(
          FaultCode.BACKEND_UNAVAILABLE,
          `terminal: EA link lost before ${item.cmd} was sent: ${reason}`,
        ),
      );
    }
  }
}
