/**
 * Orders whose outcome is UNKNOWN keep their exposure reserved (risk/exposure-ledger.ts): the
 * position may exist. This asks the gateway about them (GET_ORDER) until it knows, so a
 * reservation is neither dropped while the order may still have executed nor held for ever:
 *
 * - FILLED (with its ticket): settled, so it counts as the position from now on;
 * - REJECTED or NOT_EXECUTED: released;
 * - never seen: released once no gateway could still accept the signed request
 *   (MAX_SIGNED_REQUEST_AGE_MS after the outcome became unknown, the last moment it was sent);
 * - PENDING, or no answer: asked again later.
 *
 * Besides this, a strategy retrying the same client_order_id, and a snapshot that shows the
 * order's position (the comment tag), resolve it too (order-service.ts, the ledger's observe).
 */
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  MAX_SIGNED_REQUEST_AGE_MS,
  type OrderRecord,
  type TradeReply,
} from "../../shared/protocol/index.ts";
import type { GatewayLane } from "../lane/lane.ts";
import type { ExposureLedger } from "../risk/exposure-ledger.ts";

/** How often unknown outcomes are asked about while there are any. */
export const UNKNOWN_POLL_MS = 5000;
/** Questions per lane per round, so a pile of unknowns cannot flood the gateway. */
const PER_ROUND = 32;

/**
 * What a GET_ORDER record says about an unknown reservation; `neverSeen` is what a null record
 * (the gateway never saw the id) means to the caller. Returns whether it was resolved.
 */
export function resolveFromRecord(
  ledger: ExposureLedger,
  clientOrderId: string,
  record: OrderRecord | null,
  neverSeen: "release" | "keep",
): boolean {
  if (record === null) {
    if (neverSeen === "keep") return false;
    ledger.resolve(clientOrderId, "not_executed");
    return true;
  }
  switch (record.state) {
    case "FILLED": {
      // The position's ticket, or a PLACE's order ticket (its reply has no position)
      const reply = record.reply as TradeReply | null;
      ledger.resolve(clientOrderId, "executed", reply?.ticket ?? reply?.order);
      return true;
    }
    case "REJECTED":
    case "NOT_EXECUTED":
      ledger.resolve(clientOrderId, "not_executed");
      return true;
    default:
      return false;
  }
}

export class UnknownOutcomes {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timers = new Map<GatewayLane, TimerHandle>();
  #stopped = false;

  constructor(clock: Clock, logger: Logger) {
    this.#clock = clock;
    this.#log = logger;
  }

  /** Start asking about `lane`'s unknown outcomes, unless that is running already. */
  watch(lane: GatewayLane): void {
    if (this.#stopped || this.#timers.has(lane)) return;
    if (lane.risk.exposure.unknowns().length === 0) return;
    this.#timers.set(
      lane,
      this.#clock.setTimeout(() => void this.#round(lane), UNKNOWN_POLL_MS),
    );
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }

  async #round(lane: GatewayLane): Promise<void> {
    const ledger = lane.risk.exposure;
    try {
      for (const unknown of ledger.unknowns().slice(0, PER_ROUND)) {
        if (this.#stopped || !lane.client.connected) break;
        try {
          const record = await lane.client.orderRecord(unknown.clientOrderId, { retries: 0 });
          // Never seen: it can still arrive until no gateway would accept its signature
          const expired = this.#clock.now() - unknown.since >= MAX_SIGNED_REQUEST_AGE_MS;
          const neverSeen = expired ? "release" : "keep";
          if (resolveFromRecord(ledger, unknown.clientOrderId, record, neverSeen))
            this.#log.info("Unknown outcome resolved", {
              gateway: lane.client.name,
              coid: unknown.clientOrderId,
              state: record?.state ?? "never seen",
            });
        } catch (error) {
          this.#log.debug("Could not ask about an unknown outcome", {
            gateway: lane.client.name,
            coid: unknown.clientOrderId,
            error: describeError(error),
          });
        }
      }
    } finally {
      this.#timers.delete(lane);
      this.watch(lane);
    }
  }
}
