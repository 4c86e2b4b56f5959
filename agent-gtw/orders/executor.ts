/**
 * Signed actions (OPEN, CLOSE, MODIFY, and the pending-order actions PLACE, MODIFY_ORDER,
 * CANCEL, CLOSE_BY: pending-orders.ts) from verified bytes to MT5 and back (DESIGN §5–6):
 *
 *   verify signature, freshness, replay → idempotency by client_order_id → journal the intent
 *   (durable) → last-line gate → backend → journal the outcome → reply
 *
 * An intent is never executed twice: a repeat returns the journaled outcome, an intent still
 * executing answers ORDER_IN_PROGRESS, and an unknown outcome is reconciled with MT5, not
 * re-sent. Each step leaves an audit line: [SIG_OK]/[SIG_FAIL], [RISK_DENY], [MT5_FILLED]/[MT5_REJECTED].
 */
import type { Clock } from "../../shared/clock.ts";
import { FaultCode } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  type CancelRequest,
  ErrorCode,
  errorReply,
  filledReply,
  intentHash,
  isSuccessRetcode,
  isUnknownOutcomeRetcode,
  type OrderState,
  orderComment,
  type Reply,
  retcodeErrorCode,
  type SignatureVerifier,
  type SignedRequest,
  type TradeResult,
  type TradingState,
} from "../../shared/protocol/index.ts";
import { type Backend, BackendError, type BackendEvent } from "../backend/backend.ts";
import { addsExposure, checkGate, type GateLimits } from "./gate.ts";
import type { Journal, JournalEntry } from "./journal.ts";
import {
  exposureCount,
  isPendingRequest,
  pendingFilledReply,
  pendingSucceeded,
  sendPending,
} from "./pending-orders.ts";
import { reconcile } from "./reconcile.ts";

export interface ExecutorOptions {
  readonly backend: Backend;
  readonly journal: Journal;
  readonly verifier: SignatureVerifier;
  readonly limits: GateLimits;
  /** The effective trading state (operator's choice, tightened while MT5 is unreachable). */
  readonly tradingState: () => TradingState;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly defaultMagic: number;
  readonly defaultDeviation: number;
  /** How long after an UNKNOWN outcome to try reconciling, and how often after that. */
  readonly reconcileIntervalMs?: number;
  /** Told the time each stage took and every answer (the gateway's /metrics). */
  readonly events?: ExecutorEvents;
}

/** The stages a signed action goes through, as the metrics name them. */
export type ExecutorStage = "verify" | "journal" | "backend";

/** What the executor reports as it works; every method is optional to implement. */
export interface ExecutorEvents {
  stage?(stage: ExecutorStage, seconds: number): void;
  /** A signed action answered (first time or repeat), by action and reply. */
  answered?(action: string, reply: Reply): void;
  /** A reconciliation pass settled an unknown outcome to `state`. */
  reconciled?(state: OrderState): void;
}

type Outcome = { readonly state: Exclude<OrderState, "PENDING">; readonly reply: Reply };

export class OrderExecutor {
  readonly #options: ExecutorOptions;
  readonly #log: Logger;
  /** OPENs and PLACEs past the gate and not yet answered: they count against max_open_positions. */
  #openingNow = 0;
  #inFlight = 0;
  /** client_order_ids this process journaled and has not answered yet. */
  readonly #executing = new Set<string>();
  #reconcileTimer: { cancel(): void } | undefined;
  #reconciling: Promise<number> | undefined;
  #stopped = false;

  constructor(options: ExecutorOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  /** Signed requests being executed right now (graceful shutdown waits for zero). */
  get inFlight(): number {
    return this.#inFlight;
  }

  async execute(
    request: SignedRequest,
    requestBytes: Uint8Array,
    signature: Uint8Array | undefined,
    client: string,
  ): Promise<Reply> {
    const { verifier } = this.#options;
    const ids = { id: request.id, coid: request.client_order_id, action: request.action, client };
    const verdict = this.#timed("verify", () => verifier.verify(requestBytes, signature, request));
    let reply: Reply;
    if (!verdict.ok) {
      this.#log.warn(`[SIG_FAIL] ${verdict.message}`, {
        code: verdict.code,
        key_id: request.key_id,
        ...ids,
      });
      reply = errorReply(request.id, verdict.code, verdict.message);
    } else {
      this.#log.info("[SIG_OK] Signature verified", { key_id: request.key_id, ...ids });
      reply = await this.#accept(request, ids, false);
    }
    this.#options.events?.answered?.(request.action, reply);
    return reply;
  }

  /**
   * A CANCEL from the gateway's operator (`agent-gtw cancel`, operator/cancels.ts): no
   * signature, because whoever can write the state directory already controls the gateway; then
   * journaled, idempotent and reconciled like any order, and let through the gate while HALTED.
   */
  async executeOperatorCancel(request: CancelRequest): Promise<Reply> {
    const ids = { id: request.id, coid: request.client_order_id, action: request.action };
    this.#log.warn("Operator cancel", { ...ids, ticket: request.ticket });
    const reply = await this.#accept(request, { ...ids, client: "operator" }, true);
    this.#options.events?.answered?.(request.action, reply);
    return reply;
  }

  async #accept(
    request: SignedRequest,
    ids: Record<string, string>,
    operator: boolean,
  ): Promise<Reply> {
    const { journal } = this.#options;
    const hash = intentHash(request);
    const known = journal.lookup(request.client_order_id);
    if (known !== undefined && known.state !== "NOT_EXECUTED")
      return this.#repeat(request, known, hash);

    this.#inFlight += 1;
    this.#executing.add(request.client_order_id);
    try {
      try {
        await this.#timedAsync("journal", () =>
          journal.recordIntent(
            request.client_order_id,
            request.action,
            hash,
            request as unknown as Record<string, unknown>,
          ),
        );
      } catch (error) {
        this.#log.error("Order refused: journal unavailable", {
          ...ids,
          error: (error as Error).message,
        });
        return errorReply(request.id, ErrorCode.JOURNAL_UNAVAILABLE, (error as Error).message);
      }
      const outcome = await this.#timedAsync("backend", () => this.#run(request, operator));
      try {
        await this.#timedAsync("journal", () =>
          journal.recordOutcome(request.client_order_id, outcome.state, outcome.reply),
        );
      } catch (error) {
        // The outcome is known and answered; after a restart the intent reconciles to the same.
        this.#log.error("Outcome not journaled; it will be reconciled after a restart", {
          ...ids,
          error: (error as Error).message,
        });
      }
      if (outcome.state === "UNKNOWN") this.#scheduleReconcile();
      return outcome.reply;
    } finally {
      this.#inFlight -= 1;
      this.#executing.delete(request.client_order_id);
    }
  }

  /**
   * Resolve every intent whose outcome is unknown (PENDING after a crash, UNKNOWN after a
   * timeout). Returns how many are still unresolved.
   */
  reconcileUnresolved(): Promise<number> {
    // One pass at a time; a caller arriving mid-pass (GET_ORDER, the timer) waits for that pass.
    if (this.#reconciling !== undefined) return this.#reconciling;
    this.#reconciling = this.#reconcilePass().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async #reconcilePass(): Promise<number> {
    const { journal, backend, clock, defaultMagic } = this.#options;
    let left = 0;
    for (const entry of journal.unresolved()) {
      // A PENDING entry of this process is still executing; only a crash leaves one behind.
      if (entry.state === "PENDING" && this.#isLive(entry)) continue;
      const result = await reconcile(entry, backend, clock.now(), defaultMagic);
      if (result.state === "UNKNOWN") {
        left += 1;
        this.#log.warn("Outcome still unknown", {
          coid: entry.clientOrderId,
          reason: result.reason,
        });
        continue;
      }
      this.#log.warn("Reconciled order", {
        coid: entry.clientOrderId,
        action: entry.action,
        state: result.state,
      });
      this.#options.events?.reconciled?.(result.state);
      await journal
        .recordOutcome(entry.clientOrderId, result.state, result.reply)
        .catch((error: Error) => {
          left += 1;
          this.#log.error("Reconciled outcome not journaled", {
            coid: entry.clientOrderId,
            error: error.message,
          });
        });
    }
    return left;
  }

  /**
   * The broker reported a trade (an EA event, a sim fill): if outcomes are waiting to be
   * reconciled, this may be one of them finishing late, so reconcile now rather than at the next
   * timer tick. Costs nothing while nothing is unknown.
   */
  onBackendEvent(event: BackendEvent): void {
    if (this.#stopped || this.#reconcileTimer === undefined) return;
    if (event.type === "QUOTE" || event.type === "LINK_STATE") return;
    void this.reconcileUnresolved().catch((error: Error) =>
      this.#log.error("Reconciliation failed", { error: error.message }),
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#reconcileTimer?.cancel();
  }

  // ---------------------------------------------------------------------------------------------

  #timed<T>(stage: ExecutorStage, run: () => T): T {
    const started = this.#options.clock.monotonic();
    try {
      return run();
    } finally {
      this.#options.events?.stage?.(stage, (this.#options.clock.monotonic() - started) / 1000);
    }
  }

  async #timedAsync<T>(stage: ExecutorStage, run: () => Promise<T>): Promise<T> {
    const started = this.#options.clock.monotonic();
    try {
      return await run();
    } finally {
      this.#options.events?.stage?.(stage, (this.#options.clock.monotonic() - started) / 1000);
    }
  }

  /** A client_order_id seen before (DESIGN §6 idempotency; PROTOCOL.md §8). */
  #repeat(request: SignedRequest, entry: JournalEntry, hash: string): Reply {
    const ids = { id: request.id, coid: request.client_order_id };
    if (entry.intentHash !== hash) {
      this.#log.warn("Refused: client_order_id reused for another intent", ids);
      return errorReply(
        request.id,
        ErrorCode.CLIENT_ORDER_ID_REUSED,
        `client_order_id ${request.client_order_id} was already used for a different ${entry.action}`,
      );
    }
    if (entry.state === "PENDING") {
      return errorReply(
        request.id,
        ErrorCode.ORDER_IN_PROGRESS,
        "the first request with this client_order_id is still executing",
      );
    }
    if (entry.state === "UNKNOWN" || entry.reply === null) {
      this.#scheduleReconcile();
      return errorReply(
        request.id,
        ErrorCode.OUTCOME_UNKNOWN,
        "outcome not known yet; the gateway is reconciling it with MT5",
        {
          duplicate: true,
        },
      );
    }
    this.#log.info("Duplicate answered from the journal", { ...ids, state: entry.state });
    return { ...entry.reply, id: request.id, duplicate: true };
  }

  async #run(request: SignedRequest, operator: boolean): Promise<Outcome> {
    const { backend, limits, tradingState } = this.#options;
    const ids = { id: request.id, coid: request.client_order_id, action: request.action };
    const exposing = addsExposure(request.action);
    let openPositions = 0;
    if (exposing) {
      try {
        openPositions = (await exposureCount(backend)) + this.#openingNow;
      } catch (error) {
        return this.#rejected(
          request,
          ErrorCode.MT5_LINK_DOWN,
          `cannot read positions from MT5: ${(error as Error).message}`,
        );
      }
    }
    const denial = checkGate(request, limits, {
      tradingState: tradingState(),
      link: backend.link().state,
      openPositions,
      operator,
    });
    if (denial !== undefined) {
      this.#log.warn(`[RISK_DENY] ${denial.message}`, { code: denial.code, ...ids });
      return this.#rejected(request, denial.code, denial.message);
    }
    if (exposing) this.#openingNow += 1;
    try {
      const result = await this.#send(request);
      return await this.#interpret(request, result);
    } catch (error) {
      if (error instanceof BackendError && error.code === FaultCode.BACKEND_UNAVAILABLE) {
        return this.#rejected(request, ErrorCode.MT5_LINK_DOWN, error.message);
      }
      if (error instanceof BackendError && error.code === FaultCode.BACKEND_UNSUPPORTED) {
        // Nothing reached MT5: the same client_order_id may be sent again once it can be done
        this.#log.warn("Refused: the backend cannot do this action", ids);
        return {
          state: "NOT_EXECUTED",
          reply: errorReply(request.id, ErrorCode.NOT_SUPPORTED, error.message, {
            client_order_id: request.client_order_id,
          }),
        };
      }
      // Timed out or failed in a way that may have reached MT5: reconcile, never re-send.
      this.#log.error("Outcome unknown", { ...ids, error: (error as Error).message });
      return {
        state: "UNKNOWN",
        reply: errorReply(
          request.id,
          ErrorCode.OUTCOME_UNKNOWN,
          `outcome unknown: ${(error as Error).message}; ask GET_ORDER`,
        ),
      };
    } finally {
      if (exposing) this.#openingNow -= 1;
    }
  }

  #send(request: SignedRequest): Promise<TradeResult> {
    const { backend, defaultMagic, defaultDeviation } = this.#options;
    const clientOrderId = request.client_order_id;
    switch (request.action) {
      case "OPEN":
        return backend.open({
          clientOrderId,
          symbol: request.symbol,
          side: request.side,
          volume: request.volume,
          sl: request.sl ?? null,
          tp: request.tp ?? null,
          deviation: request.deviation ?? defaultDeviation,
          magic: request.magic ?? defaultMagic,
          comment: orderComment(clientOrderId, request.comment),
        });
      case "CLOSE":
        return backend.close({
          clientOrderId,
          ticket: request.ticket,
          volume: request.volume ?? null,
          deviation: request.deviation ?? defaultDeviation,
          magic: defaultMagic,
          comment: orderComment(clientOrderId, request.comment),
        });
      case "MODIFY":
        return backend.modify({
          clientOrderId,
          ticket: request.ticket,
          sl: "sl" in request ? (request.sl ?? null) : undefined,
          tp: "tp" in request ? (request.tp ?? null) : undefined,
        });
      default:
        return sendPending(backend, request, defaultMagic);
    }
  }

  async #interpret(request: SignedRequest, result: TradeResult): Promise<Outcome> {
    const ids = {
      id: request.id,
      coid: request.client_order_id,
      action: request.action,
      retcode: result.retcode,
    };
    const succeeded = isPendingRequest(request)
      ? pendingSucceeded(request.action, result.retcode)
      : isSuccessRetcode(result.retcode);
    if (!succeeded && isUnknownOutcomeRetcode(result.retcode)) {
      this.#log.error("Outcome unknown", ids);
      return {
        state: "UNKNOWN",
        reply: errorReply(
          request.id,
          ErrorCode.OUTCOME_UNKNOWN,
          `MT5 answered ${result.retcode}; the outcome is being reconciled`,
          {
            retcode: result.retcode,
          },
        ),
      };
    }
    if (!succeeded) {
      const code = retcodeErrorCode(result.retcode) as ErrorCode;
      this.#log.warn(`[MT5_REJECTED] ${result.comment}`, { ...ids, code });
      return this.#rejected(
        request,
        code,
        `MT5 refused with ${result.retcode}: ${result.comment}`,
        result,
      );
    }
    const reply = await this.#filledReply(request, result);
    this.#log.info("[MT5_FILLED] Executed", {
      ...ids,
      ticket: result.position,
      deal: result.deal,
      volume: result.volume,
      price: result.price,
    });
    return { state: "FILLED", reply };
  }

  async #filledReply(request: SignedRequest, result: TradeResult): Promise<Reply> {
    if (isPendingRequest(request)) {
      return pendingFilledReply(this.#options.backend, request, result);
    }
    const base = {
      client_order_id: request.client_order_id,
      retcode: result.retcode,
      ticket: result.position,
      deal: result.deal,
      order: result.order,
      volume: result.volume,
      price: result.price,
      bid: result.bid,
      ask: result.ask,
    };
    if (request.action === "OPEN")
      return filledReply(request.id, { ...base, sl: request.sl ?? null, tp: request.tp ?? null });
    // What the position looks like now: remaining lots after a CLOSE, final stops after a MODIFY.
    const position = await this.#options.backend
      .positions()
      .then((positions) => positions.find((p) => p.ticket === request.ticket))
      .catch(() => undefined);
    if (request.action === "CLOSE") {
      return filledReply(request.id, {
        ...base,
        ticket: request.ticket,
        remaining_volume: position?.volume ?? 0,
      });
    }
    return filledReply(request.id, {
      client_order_id: request.client_order_id,
      retcode: result.retcode,
      ticket: request.ticket,
      sl: position?.sl ?? null,
      tp: position?.tp ?? null,
    });
  }

  #rejected(
    request: SignedRequest,
    code: ErrorCode,
    message: string,
    result?: TradeResult,
  ): Outcome {
    const extra =
      result === undefined ? {} : { retcode: result.retcode, bid: result.bid, ask: result.ask };
    return {
      state: "REJECTED",
      reply: errorReply(request.id, code, message, {
        client_order_id: request.client_order_id,
        ...extra,
      }),
    };
  }

  /** An entry is live when this process is executing it right now (not left by a crash). */
  #isLive(entry: JournalEntry): boolean {
    return this.#executing.has(entry.clientOrderId);
  }

  #scheduleReconcile(): void {
    if (this.#stopped || this.#reconcileTimer !== undefined) return;
    const interval = this.#options.reconcileIntervalMs ?? 2000;
    this.#reconcileTimer = this.#options.clock.setTimeout(() => {
      this.#reconcileTimer = undefined;
      void this.reconcileUnresolved()
        .then((left) => {
          if (left > 0) this.#scheduleReconcile();
        })
        .catch((error: Error) => {
          this.#log.error("Reconciliation failed", { error: error.message });
          this.#scheduleReconcile();
        });
    }, interval);
  }
}
