/**
 * The operator's drain (`agent-gtw upgrade` sends it before stopping the service): the gateway
 * refuses new signed actions (SHUTTING_DOWN: nothing executed, the client may retry), waits until
 * the orders in flight have finished and their outcomes are journaled, and answers how many it
 * waited for. The drain is a lease: if no stop follows within `hold_ms` (the upgrade died or gave
 * up), the gateway takes orders again by itself; `resume` ends it at once. A drain that cannot
 * finish in `wait_ms` resumes and says how many orders are still in flight.
 */
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import type { HandlerContext, OperatorResult, RequestBody, RequestHandler } from "./requests.ts";

/** Bounds of wait_ms and hold_ms. */
export const MAX_DRAIN_MS = 600_000;
const POLL_MS = 10;

export interface DrainResult extends OperatorResult {
  readonly drained?: boolean;
  readonly resumed?: boolean;
  /** Orders executing when the drain began; all finished when drained. */
  readonly in_flight_at_start?: number;
  readonly in_flight?: number;
  readonly waited_ms?: number;
  /** Journal entries whose outcome is still unknown (reconciled at the next start). */
  readonly unresolved?: number;
}

export interface OperatorDrainOptions {
  readonly gateway: { drain(): void; resume(): void };
  readonly executor: { readonly inFlight: number };
  readonly journal: { unresolved(): readonly unknown[] };
  readonly clock: Clock;
  readonly logger: Logger;
}

export class OperatorDrain {
  readonly #options: OperatorDrainOptions;
  #lease: TimerHandle | undefined;
  #stopped = false;

  constructor(options: OperatorDrainOptions) {
    this.#options = options;
  }

  /** The handler of `drain` requests. */
  handler(): RequestHandler {
    return (request, context) => this.#run(request, context);
  }

  /** The gateway is stopping: no lease may resume it any more. */
  stop(): void {
    this.#stopped = true;
    this.#lease?.cancel();
    this.#lease = undefined;
  }

  async #run(request: RequestBody, context: HandlerContext): Promise<Omit<DrainResult, "id">> {
    const { gateway, executor, journal, clock, logger } = this.#options;
    if (request["resume"] === true) {
      this.#resume("operator");
      return { resumed: true };
    }
    const waitMs = request["wait_ms"];
    const holdMs = request["hold_ms"];
    if (!isDuration(waitMs) || !isDuration(holdMs))
      return { error: `wait_ms and hold_ms must be 1 to ${MAX_DRAIN_MS} ms` };
    if (this.#stopped || context.stopped()) return { error: "the gateway is stopping already" };
    this.#lease?.cancel();
    gateway.drain();
    const atStart = executor.inFlight;
    const started = clock.monotonic();
    logger.warn("Draining: new orders are refused until the gateway stops", {
      in_flight: atStart,
      hold_ms: holdMs,
    });
    while (executor.inFlight > 0 && clock.monotonic() - started < waitMs && !this.#stopped)
      await new Promise<void>((resolve) => clock.setTimeout(resolve, POLL_MS));
    const waited = Math.round(clock.monotonic() - started);
    if (this.#stopped) return { error: "the gateway is stopping", in_flight: executor.inFlight };
    if (executor.inFlight > 0) {
      this.#resume("drain timed out");
      return {
        drained: false,
        in_flight: executor.inFlight,
        waited_ms: waited,
        error: `${executor.inFlight} order(s) still in flight after ${waited} ms; the gateway takes orders again`,
      };
    }
    this.#lease = clock.setTimeout(() => this.#resume("drain lease expired"), holdMs);
    return {
      drained: true,
      in_flight_at_start: atStart,
      in_flight: 0,
      waited_ms: waited,
      unresolved: journal.unresolved().length,
    };
  }

  #resume(why: string): void {
    this.#lease?.cancel();
    this.#lease = undefined;
    if (this.#stopped) return;
    this.#options.gateway.resume();
    this.#options.logger.warn("Drain ended: the gateway takes orders again", { reason: why });
  }
}

function isDuration(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_DRAIN_MS;
}
