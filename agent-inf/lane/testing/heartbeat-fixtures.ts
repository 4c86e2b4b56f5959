/**
 * Test-only: a scripted gateway whose PING replies are driven by a TestClock, plus helpers to let
 * promise callbacks run between clock steps. Production code never imports this file.
 */
import { flush } from "../../../shared/testing/drive.ts";
import type { TestClock } from "../../../shared/testing/test-clock.ts";
import type { PingResult } from "../heartbeat.ts";

export type ScriptedReply =
  /**
   * Answer after `latencyMs` (0: at once), stamped with a clock `aheadMs` ahead of ours;
   * `ignoresAbort` answers even after the heartbeat gave up on it.
   */
  | {
      readonly kind: "ok";
      readonly latencyMs?: number;
      readonly aheadMs?: number;
      readonly ignoresAbort?: boolean;
    }
  | { readonly kind: "fail" }
  | { readonly kind: "hang" }
  | { readonly kind: "throw" };

export const OK: ScriptedReply = { kind: "ok" };
export const FAIL: ScriptedReply = { kind: "fail" };
export const HANG: ScriptedReply = { kind: "hang" };

export class ScriptedGateway {
  calls = 0;
  /** Pings neither answered nor aborted right now, and the most there ever were. */
  active = 0;
  maxActive = 0;
  aborted = 0;
  readonly #clock: TestClock;
  readonly #script: (call: number) => ScriptedReply;

  /** `script(n)` answers the n-th ping, counting from 0. */
  constructor(clock: TestClock, script: (call: number) => ScriptedReply) {
    this.#clock = clock;
    this.#script = script;
  }

  readonly ping = (signal: AbortSignal): Promise<PingResult> => {
    const reply = this.#script(this.calls++);
    if (reply.kind === "throw") throw new Error("socket closed");
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const { promise, resolve, reject } = Promise.withResolvers<PingResult>();
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      this.active--;
      return true;
    };
    let timer: { cancel(): void } | undefined;
    const ignoresAbort = reply.kind === "ok" && reply.ignoresAbort === true;
    signal.addEventListener("abort", () => {
      if (ignoresAbort) return;
      timer?.cancel();
      if (finish()) this.aborted++;
    });
    if (reply.kind === "fail") {
      finish();
      reject(new Error("gateway refused"));
    } else if (reply.kind === "ok") {
      const latency = reply.latencyMs ?? 0;
      // The gateway stamps its clock half-way through the round trip
      const answer = () => {
        if (!finish()) return;
        resolve({ serverTime: this.#clock.now() - latency / 2 + (reply.aheadMs ?? 0) });
      };
      if (latency === 0) answer();
      else timer = this.#clock.setTimeout(answer, latency);
    }
    return promise;
  };
}

/** Advance `ms` in one step, then let callbacks run (enough when replies are instant). */
export async function step(clock: TestClock, ms: number): Promise<void> {
  clock.advance(ms);
  await flush();
}

/** Advance `ms` one millisecond at a time, so delayed replies are handled at their own instant. */
export async function run(clock: TestClock, ms: number): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed++) await step(clock, 1);
}
