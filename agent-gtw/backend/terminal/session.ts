/**
 * One authenticated EA session (docs/EA-LINK.md §6.3): at most one CMD in flight, its REPLY
 * matched by id, a timeout per command, EVENT frames passed up. Any protocol violation (a REPLY
 * for another id, an unknown frame type, a malformed field) or a timeout closes the session
 * (§6.3): a late reply then dies with the socket and can never be taken for the next command's.
 */
import type { Clock, TimerHandle } from "../../../shared/clock.ts";
import { encodeOutbound, type WireObject } from "./framing.ts";
import type { EaHello } from "./hello.ts";
import type { LinkSocket } from "./link-socket.ts";
import { WireFields } from "./wire-fields.ts";

/** A command that got no REPLY; `delivered` says whether its whole frame left this process. */
export class CommandFailure extends Error {
  readonly delivered: boolean;
  readonly timedOut: boolean;
  /** The session the command was meant for. */
  readonly serial: number;

  constructor(message: string, delivered: boolean, timedOut: boolean, serial: number) {
    super(message);
    this.name = "CommandFailure";
    this.delivered = delivered;
    this.timedOut = timedOut;
    this.serial = serial;
  }
}

export interface SessionHandlers {
  event(message: Readonly<Record<string, unknown>>): void;
  /** Called once when the session ends, after the in-flight command (if any) was failed. */
  closed(session: EaSession, reason: string): void;
}

interface InFlight {
  readonly id: number;
  readonly cmd: string;
  readonly endOffset: number;
  readonly timer: TimerHandle;
  readonly resolve: (reply: WireFields) => void;
  readonly reject: (error: CommandFailure) => void;
}

export class EaSession {
  /** Increases by one per session; in-doubt trade ids remember the session they were sent on. */
  readonly serial: number;
  readonly hello: EaHello;
  readonly #socket: LinkSocket;
  readonly #clock: Clock;
  readonly #handlers: SessionHandlers;
  #inFlight: InFlight | undefined;
  #closeReason: string | undefined;

  constructor(
    serial: number,
    socket: LinkSocket,
    hello: EaHello,
    clock: Clock,
    handlers: SessionHandlers,
  ) {
    this.serial = serial;
    this.hello = hello;
    this.#socket = socket;
    this.#clock = clock;
    this.#handlers = handlers;
    socket.setHandlers({
      frame: (message) => this.#onFrame(message),
      closed: (reason) => this.#onClosed(reason),
    });
  }

  get address(): string {
    return this.#socket.address;
  }

  get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  get inFlightCommand(): string | undefined {
    return this.#inFlight?.cmd;
  }

  get closed(): boolean {
    return this.#closeReason !== undefined;
  }

  /** Write a frame that is not a command (HELLO_ACK). */
  sendRaw(message: WireObject): void {
    this.#socket.write(encodeOutbound(message));
  }

  /**
   * Send one command and wait for its REPLY (any `ok`). Rejects with CommandFailure when the
   * session ends first, when the reply does not come within `timeoutMs` (which ends the session),
   * or, with nothing sent, when the command cannot be encoded for the EA (§4).
   */
  request(id: number, cmd: string, fields: WireObject, timeoutMs: number): Promise<WireFields> {
    if (this.#closeReason !== undefined) {
      return Promise.reject(
        new CommandFailure(`EA link closed: ${this.#closeReason}`, false, false, this.serial),
      );
    }
    if (this.#inFlight !== undefined) {
      // The backend's queue guarantees this never happens (§6.3: one command in flight)
      throw new Error(`terminal: ${cmd} sent while ${this.#inFlight.cmd} is in flight`);
    }
    let bytes: Uint8Array;
    try {
      // The envelope's keys name the frame; a field of the same name would silently replace one
      const clash = ["type", "id", "cmd"].find((key) => Object.hasOwn(fields, key));
      if (clash !== undefined) throw new RangeError(`terminal: ${cmd} has a field named ${clash}`);
      bytes = encodeOutbound({ type: "CMD", id, cmd, ...fields });
    } catch (error) {
      return Promise.reject(
        new CommandFailure((error as Error).message, false, false, this.serial),
      );
    }
    return new Promise<WireFields>((resolve, reject) => {
      const endOffset = this.#socket.write(bytes);
      const timer = this.#clock.setTimeout(() => {
        this.close(`no REPLY to ${cmd} id=${id} within ${timeoutMs} ms`, true);
      }, timeoutMs);
      this.#inFlight = { id, cmd, endOffset, timer, resolve, reject };
    });
  }

  /** End the session (idempotent); the in-flight command fails. */
  close(reason: string, timedOut = false): void {
    if (this.#closeReason !== undefined) return;
    this.#failInFlight(reason, timedOut);
    this.#socket.destroy(reason);
  }

  #onFrame(message: Record<string, unknown>): void {
    if (this.#closeReason !== undefined) return;
    const type = message["type"];
    if (type === "EVENT") {
      this.#handlers.event(message);
      return;
    }
    if (type !== "REPLY") {
      this.close(`protocol violation: frame type ${JSON.stringify(type)} from the EA`);
      return;
    }
    const id = message["id"];
    const inFlight = this.#inFlight;
    if (inFlight === undefined || id !== inFlight.id) {
      // §6.3: a REPLY for another id is a protocol error; never hand it to the waiting command
      const waiting = inFlight === undefined ? "none" : String(inFlight.id);
      this.close(`protocol violation: REPLY id=${String(id)}, in flight id=${waiting}`);
      return;
    }
    this.#inFlight = undefined;
    inFlight.timer.cancel();
    inFlight.resolve(new WireFields(message, `${inFlight.cmd} reply`));
  }

  #onClosed(reason: string): void {
    this.#failInFlight(reason, false);
    this.#handlers.closed(this, this.#closeReason ?? reason);
  }

  #failInFlight(reason: string, timedOut: boolean): void {
    this.#closeReason ??= reason;
    const inFlight = this.#inFlight;
    if (inFlight === undefined) return;
    this.#inFlight = undefined;
    inFlight.timer.cancel();
    const delivered = this.#socket.sentThrough(inFlight.endOffset);
    inFlight.reject(
      new CommandFailure(
        `EA link closed during ${inFlight.cmd} id=${inFlight.id}: ${reason}`,
        delivered,
        timedOut,
        this.serial,
      ),
    );
  }
}
