/**
 * Test-only: a GatewayPort without sockets. Every request and signed submission is recorded and
 * answered by the test's script: a reply (at once, or after a delay on the TestClock), a timeout
 * that fires on the TestClock, or a full send queue. The session's status and stream events are
 * pushed by the test. Production code never imports this file.
 */
import type { Reply, Request } from "../../../shared/protocol/index.ts";
import type { TestClock } from "../../../shared/testing/test-clock.ts";
import type { EventListener, GatewayEvent, GatewayStatus, StatusListener } from "../events.ts";
import { GatewayBusy, type GatewayPort, RequestTimeout, type SignedFrames } from "../port.ts";

/** How the fake answers one call. */
export type FakeAnswer =
  | Reply
  | { readonly kind: "reply"; readonly reply: Reply; readonly afterMs: number }
  | { readonly kind: "timeout" }
  | { readonly kind: "busy" };

export const TIMEOUT: FakeAnswer = { kind: "timeout" };
export const BUSY: FakeAnswer = { kind: "busy" };

/** One call as the fake saw it; `signed` is set for submit(). */
export interface FakeCall {
  readonly request: Request;
  readonly timeoutMs: number;
  readonly signed?: SignedFrames;
}

export class FakePort implements GatewayPort {
  readonly name: string;
  readonly endpoint = "tcp://127.0.0.1:1";
  connected = false;
  connects = 0;
  closed = false;
  readonly calls: FakeCall[] = [];
  /** Answers each call; the default answers every request OK with nothing else. */
  answer: (call: FakeCall) => FakeAnswer = (call) => ok(call.request);
  readonly #clock: TestClock;
  readonly #events = new Set<EventListener>();
  readonly #statuses = new Set<StatusListener>();

  constructor(clock: TestClock, name = "gtw-1") {
    this.#clock = clock;
    this.name = name;
  }

  /** The signed submissions, in order. */
  get submitted(): SignedFrames[] {
    return this.calls.flatMap((call) => (call.signed === undefined ? [] : [call.signed]));
  }

  /** The unsigned requests of one action, in order. */
  requests(action: string): Request[] {
    return this.calls
      .filter((call) => call.signed === undefined && call.request.action === action)
      .map((call) => call.request);
  }

  connect(): void {
    this.connects++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  request(request: Request, timeoutMs: number): Promise<Reply> {
    return this.#call({ request, timeoutMs });
  }

  submit(signed: SignedFrames, timeoutMs: number): Promise<Reply> {
    return this.#call({ request: signed.request, timeoutMs, signed });
  }

  subscribe(listener: EventListener): () => void {
    this.#events.add(listener);
    return () => this.#events.delete(listener);
  }

  onStatus(listener: StatusListener): () => void {
    this.#statuses.add(listener);
    return () => this.#statuses.delete(listener);
  }

  /** The session comes up. */
  up(): void {
    this.connected = true;
    this.status({ type: "connected" });
  }

  /** The session goes down. */
  down(reason = "test"): void {
    this.connected = false;
    this.status({ type: "disconnected", reason });
  }

  status(status: GatewayStatus): void {
    for (const listener of this.#statuses) listener(status);
  }

  push(event: GatewayEvent): void {
    for (const listener of this.#events) listener(event);
  }

  #call(call: FakeCall): Promise<Reply> {
    this.calls.push(call);
    const answer = this.answer(call);
    const { promise, resolve, reject } = Promise.withResolvers<Reply>();
    if ("status" in answer) {
      resolve(answer);
    } else if (answer.kind === "reply") {
      this.#clock.setTimeout(() => resolve(answer.reply), answer.afterMs);
    } else if (answer.kind === "timeout") {
      this.#clock.setTimeout(
        () => reject(new RequestTimeout(call.request.action, call.timeoutMs)),
        call.timeoutMs,
      );
    } else {
      reject(new GatewayBusy(call.request.action, this.name));
    }
    return promise;
  }
}

/** A plain OK reply to `request`, with `fields` added. */
export function ok(request: Request, fields: Record<string, unknown> = {}): Reply {
  return { v: 1, id: request.id, status: "OK", ...fields } as Reply;
}
