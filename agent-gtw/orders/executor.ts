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
import { describeError, FaultCode } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  brokerOrderKey,
  type CancelRequest,
  commentTag,
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
import { crossCheck } from "./cross-check.ts";
import { addsExposure, checkGate, type GateLimits } from "./gate.ts";
import type { BrokerTag, Journal, JournalEntry } from "./journal.ts";
import {
  exposureCount,
  isPendingRequest,
  pendingFilledReply,
  pendingSucceeded,
  sendPending,
} from "./pending-orders.ts";
import { reconcile, SEARCH_AFTER_MS, SEARCH_BEFORE_MS } from "./reconcile.ts";

/** How long a signed action waits for a broker cross-check that is running before it is refused. */
const BROKER_CHECK_WAIT_MS = 3000;

/** The journal scope of the operator's cancels: a name no client can have (names have no "@"). */
export const OPERATOR_SCOPE = "@operator";

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
  /**
   * Whether `client` may sign with `keyId` (keys.signing_keys[].clients). Unknown key ids pass
   * here: the verifier refuses them with UNKNOWN_KEY. Default: every client may use every key.
   */
  readonly keyAllowed?: (keyId: string, client: string) => boolean;
  /** How far back the broker cross-check looks (the journal's retention). */
  readonly retentionMs?: number;
  /**
   * Each [SIG_FAIL] goes through this, which calls `log` when it may (server/refusals.ts
   * bounds the lines a hostile client can cause); logged directly without it.
   */
  readonly signatureRefused?: (log: () => void) => void;
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
  /** Set once the journal was cross-checked with the broker; signed actions wait for it. */
  #brokerChecked = false;
  #brokerCheck: Promise<boolean> | undefined;
  #brokerCheckTimer: { cancel(): void } | undefined;
  #brokerCheckError = "not run yet";

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
    const { verifier, keyAllowed } = this.#options;
    const ids = { id: request.id, coid: request.client_order_id, action: request.action, client };
    if (keyAllowed !== undefined && !keyAllowed(request.key_id, client)) {
      // Before the signature and the replay cache: a host never spends another host's key
      const message = `key_id ${request.key_id} is not bound to client ${client}: the gateway's keys.signing_keys[].clients names the clients that may sign with it`;
      this.#sigFail(() =>
        this.#log.warn(`[SIG_FAIL] ${message}`, { code: ErrorCode.UNKNOWN_KEY, ...ids }),
      );
      const reply = errorReply(request.id, ErrorCode.UNKNOWN_KEY, message);
      this.#options.events?.answered?.(request.action, reply);
      return reply;
    }
    const verdict = this.#timed("verify", () => verifier.verify(requestBytes, signature, request));
    let reply: Reply;
    if (!verdict.ok) {
      this.#sigFail(() =>
        this.#log.warn(`[SIG_FAIL] ${verdict.message}`, {
          code: verdict.code,
          key_id: request.key_id,
          ...ids,
        }),
      );
      reply = errorReply(request.id, verdict.code, verdict.message);
    } else {
      this.#log.info("[SIG_OK] Signature verified", { key_id: request.key_id, ...ids });
      reply = await this.#accept(request, client, ids, false);
    }
    this.#options.events?.answered?.(request.action, reply);
    return reply;
  }

  #sigFail(log: () => void): void {
    const refused = this.#options.signatureRefused;
    if (refused === undefined) log();
    else refused(log);
  }

  /**
   * A CANCEL from the gateway's operator (`agent-gtw cancel`, operator/cancels.ts): no
   * signature, because whoever can write the state directory already controls the gateway; then
   * journaled, idempotent and reconciled like any order, and let through the gate while HALTED.
   */
  async executeOperatorCancel(request: CancelRequest): Promise<Reply> {
    const ids = { id: request.id, coid: request.client_order_id, action: request.action };
    this.#log.warn("Operator cancel", { ...ids, ticket: request.ticket });
    const reply = await this.#accept(request, OPERATOR_SCOPE, { ...ids, client: "operator" }, true);
    this.#options.events?.answered?.(request.action, reply);
    return reply;
  }

  async #accept(
    request: SignedRequest,
    client: string,
    ids: Record<string, string>,
    operator: boolean,
  ): Promise<Reply> {
    const { journal } = this.#options;
    const hash = intentHash(request);
    const known = journal.lookup(client, request.client_order_id);
    // PROTOCOL.md §8: a different intent is refused whatever the state, NOT_EXECUTED included
    if (known !== undefined && (known.state !== "NOT_EXECUTED" || known.intentHash !== hash))
      return this.#repeat(request, known, hash);
    if (!operator && !this.#brokerChecked && !(await this.#brokerCheckDone())) {
      return errorReply(
        request.id,
        ErrorCode.JOURNAL_UNAVAILABLE,
        `the journal has not been cross-checked with MT5 since the gateway started (${this.#brokerCheckError}); nothing was done, send it again later with the same client_order_id`,
      );
    }
    // A tag the broker holds and the journal lost: this id ran before, answer from the broker
    const restored =
      known === undefined && journal.brokerTags > 0
        ? journal.brokerTag(commentTag(brokerOrderKey(client, request.client_order_id)))
        : undefined;

    const live = liveKey(client, request.client_order_id);
    this.#inFlight += 1;
    this.#executing.add(live);
    try {
      let entry: JournalEntry;
      try {
        entry = await this.#timedAsync("journal", () =>
          journal.recordIntent({
            client,
            clientOrderId: request.client_order_id,
            action: request.action,
            intentHash: hash,
            request: request as unknown as Record<string, unknown>,
          }),
        );
      } catch (error) {
        this.#log.error("Order refused: journal unavailable", {
          ...ids,
          error: (error as Error).message,
        });
        return errorReply(request.id, ErrorCode.JOURNAL_UNAVAILABLE, (error as Error).message);
      }
      const outcome = await this.#timedAsync("backend", () =>
        restored === undefined
          ? this.#run(request, entry, operator)
          : this.#restore(request, entry, restored),
      );
      try {
        await this.#timedAsync("journal", () =>
          journal.recordOutcome(entry, outcome.state, outcome.reply),
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
      this.#executing.delete(live);
    }
  }

  /**
   * Cross-check the journal with the broker (cross-check.ts); signed actions are refused until
   * it has succeeded once. Retries by itself while MT5 cannot answer. Resolves true once done.
   */
  checkBroker(): Promise<boolean> {
    if (this.#brokerChecked) return Promise.resolve(true);
    this.#brokerCheck ??= this.#checkBrokerOnce().finally(() => {
      this.#brokerCheck = undefined;
    });
    return this.#brokerCheck;
  }

  /**
   * An action that arrives while the check runs (MT5 has just come up, and a client saw it UP in
   * PING) waits for it, up to BROKER_CHECK_WAIT_MS, instead of being refused. It starts no check
   * of its own: a flood of actions while MT5 cannot answer must not become a flood of history reads.
   */
  async #brokerCheckDone(): Promise<boolean> {
    const running = this.#brokerCheck;
    if (running === undefined) return this.#brokerChecked;
    let timer: { cancel(): void } | undefined;
    const waited = new Promise<boolean>((resolve) => {
      timer = this.#options.clock.setTimeout(() => resolve(false), BROKER_CHECK_WAIT_MS);
    });
    try {
      return await Promise.race([running, waited]);
    } finally {
      timer?.cancel();
    }
  }

  /** Whether signed actions are taken (the broker cross-check is done), and if not, why. */
  brokerCheckState(): { readonly done: boolean; readonly reason?: string } {
    return this.#brokerChecked ? { done: true } : { done: false, reason: this.#brokerCheckError };
  }

  async #checkBrokerOnce(): Promise<boolean> {
    const { journal, backend, clock } = this.#options;
    if (backend.link().state !== "UP") {
      this.#brokerCheckError = "MT5 link is down";
      this.#retryBrokerCheck();
      return false;
    }
    const now = clock.now();
    try {
      const window = {
        from: now - (this.#options.retentionMs ?? 30 * 24 * 3600 * 1000) - SEARCH_BEFORE_MS,
        to: now + SEARCH_AFTER_MS,
      };
      const findings = await crossCheck(journal, backend, window);
      if (findings.unknown.length > 0) {
        this.#log.warn(
          "The broker holds tagged trades the journal does not know; their ids will not execute again",
          {
            count: findings.unknown.length,
            first: findings.unknown[0]?.evidence,
          },
        );
        await journal.recordBrokerTags(findings.unknown);
      }
      for (const entry of findings.contradicted) {
        this.#log.warn(
          "Journal says NOT_EXECUTED but the broker holds its tag; reconciling again",
          {
            coid: entry.clientOrderId,
            client: entry.client ?? undefined,
          },
        );
        await journal.recordOutcome(entry, "UNKNOWN", null);
      }
      if (findings.contradicted.length > 0) this.#scheduleReconcile();
      this.#brokerChecked = true;
      this.#log.info("Journal cross-checked with the broker", {
        tagged_items: findings.scanned,
        unknown_tags: findings.unknown.length,
        contradicted: findings.contradicted.length,
      });
      return true;
    } catch (error) {
      this.#brokerCheckError = `cross-check failed: ${describeError(error)}`;
      this.#log.error("Journal cross-check with the broker failed; retrying", {
        error: describeError(error),
      });
      this.#retryBrokerCheck();
      return false;
    }
  }

  #retryBrokerCheck(): void {
    if (this.#stopped || this.#brokerCheckTimer !== undefined) return;
    this.#brokerCheckTimer = this.#options.clock.setTimeout(() => {
      this.#brokerCheckTimer = undefined;
      void this.checkBroker();
    }, this.#options.reconcileIntervalMs ?? 2000);
  }

  /** An id whose tag the broker holds although the journal lost it: answer what the broker shows. */
  async #restore(request: SignedRequest, entry: JournalEntry, tag: BrokerTag): Promise<Outcome> {
    const { backend, clock, defaultMagic } = this.#options;
    const ids = { id: request.id, coid: request.client_order_id, action: request.action };
    const result = await reconcile(entry, backend, clock.now(), defaultMagic, tag.time);
    if (result.state === "FILLED") {
      this.#log.warn(
        "Not executed again: the broker holds this id's trade, the journal had lost it",
        {
          ...ids,
          evidence: tag.evidence,
        },
      );
      return { state: "FILLED", reply: { ...result.reply, id: request.id, duplicate: true } };
    }
    if (result.state === "UNKNOWN") {
      return {
        state: "UNKNOWN",
        reply: errorReply(
          request.id,
          ErrorCode.OUTCOME_UNKNOWN,
          `the broker holds ${tag.evidence} under this client_order_id's tag; the outcome is being reconciled, ask GET_ORDER`,
        ),
      };
    }
    this.#log.warn("Refused: the broker holds another trade under this id's tag", {
      ...ids,
      evidence: tag.evidence,
    });
    return this.#rejected(
      request,
      ErrorCode.CLIENT_ORDER_ID_REUSED,
      `the broker holds ${tag.evidence} under this client_order_id's tag (the journal had lost it), and it is not what this ${request.action} asks for; nothing was executed`,
    );
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
      await journal.recordOutcome(entry, result.state, result.reply).catch((error: Error) => {
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
    if (this.#stopped) return;
    if (event.type === "LINK_STATE" && event.link.state === "UP" && !this.#brokerChecked) {
      void this.checkBroker();
      return;
    }
    if (this.#reconcileTimer === undefined) return;
    if (event.type === "QUOTE" || event.type === "LINK_STATE") return;
    void this.reconcileUnresolved().catch((error: Error) =>
      this.#log.error("Reconciliation failed", { error: error.message }),
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#reconcileTimer?.cancel();
    this.#brokerCheckTimer?.cancel();
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

  async #run(request: SignedRequest, entry: JournalEntry, operator: boolean): Promise<Outcome> {
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
      const result = await this.#send(request, entry.brokerKey);
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

  /** `clientOrderId`: the order's key at the broker (brokerOrderKey), not the client's own id. */
  #send(request: SignedRequest, clientOrderId: string): Promise<TradeResult> {
    const { backend, defaultMagic, defaultDeviation } = this.#options;
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
        return sendPending(backend, request, defaultMagic, clientOrderId);
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
    // What the broker holds now, never what the request asked for (a 5e-324 stop is held as none):
    // the stops after an OPEN or MODIFY, the remaining lots after a CLOSE. Left out when the
    // positions cannot be read back: a failed read is not a closed position.
    const ticket = request.action === "OPEN" ? result.position : request.ticket;
    const positions = await this.#options.backend
      .positions(request.action === "OPEN" ? request.symbol : undefined)
      .catch(() => undefined);
    const position = positions?.find((p) => p.ticket === ticket);
    const stops = position === undefined ? {} : { sl: position.sl, tp: position.tp };
    if (request.action === "OPEN") return filledReply(request.id, { ...base, ...stops });
    if (request.action === "CLOSE") {
      return filledReply(request.id, {
        ...base,
        ticket: request.ticket,
        ...(positions === undefined ? {} : { remaining_volume: position?.volume ?? 0 }),
      });
    }
    return filledReply(request.id, {
      client_order_id: request.client_order_id,
      retcode: result.retcode,
      ticket: request.ticket,
      ...stops,
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
    return this.#executing.has(liveKey(entry.client ?? "", entry.clientOrderId));
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

const liveKey = (client: string, clientOrderId: string) => `${client}\u0000${clientOrderId}`;
