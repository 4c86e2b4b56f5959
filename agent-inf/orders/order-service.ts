/**
 * What a strategy's order goes through on the inference host: a fresh market snapshot (the live
 * view where it is fresh, else the gateway's answers; snapshot.ts), the risk monitor, then
 * the gateway client's no-blind-resend submit. Denials never leave the host; an order is never
 * fired twice, even when the strategy retries it:
 *
 * - A repeated client_order_id while the first is running waits for the first.
 * - A repeated client_order_id seen earlier answers what happened: from this agent's memory, or
 *   from the gateway's journal, which answers a repeat of an executed id with its first outcome
 *   (`duplicate`) and never executes it again. The journal is asked first (GET_ORDER) only when
 *   the last answer was UNKNOWN; an id this agent does not know (sent before a restart) goes out
 *   like a new one, and only a local refusal of it (a risk denial against the position its first
 *   attempt opened) or the gateway's CLIENT_ORDER_ID_REUSED (other fields this time) asks the
 *   journal whether it already executed. A steady-state order thus costs one gateway request:
 *   the order (issue 17 §1).
 *
 * Concurrent orders: every snapshot read is stamped, and a passed OPEN, PLACE, CLOSE or CLOSE_BY
 * reserves its exposure (and an OPEN or PLACE its place in the rate window) in the same
 * synchronous step as its check (risk/exposure-ledger.ts), so N orders checked at once cannot
 * all pass a limit only some of them fit under. The reservation is settled with the outcome:
 * FILLED turns into the position (or the pending order), REJECTED and ERROR release it, and
 * UNKNOWN keeps it until the gateway says what happened (unknown-outcomes.ts).
 *
 * Pending orders and close-by (issue 15) take the same path; pending-orders.ts turns their
 * inputs into intents and signed bodies.
 */
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import {
  errorCodeInfo,
  newClientOrderId,
  type Reply,
  type Side,
  type SignedAction,
  type TradeReply,
} from "../../shared/protocol/index.ts";
import type { OrderOutcome, SignedBody } from "../gateway/gateway-client.ts";
import { type GatewayLane, type GatewayRegistry, UnknownGatewayError } from "../lane/lane.ts";
import type { OwnOrder } from "../live-view/live-view.ts";
import {
  type Check,
  checkSymbolKnown,
  firstDenial,
  OPEN_GATE_CHECKS,
  type OpenGateContext,
} from "../risk/checks.ts";
import type { Denial } from "../risk/denial.ts";
import type { Reservation, SnapshotRead } from "../risk/exposure-ledger.ts";
import { PLACE_GATE_CHECKS } from "../risk/pending-checks.ts";
import type { OpenIntent } from "../risk/types.ts";
import {
  type CancelOrderInput,
  type CloseByInput,
  cancelBody,
  closeByBody,
  type ModifyPendingInput,
  modifyOrderBody,
  modifyOrderIntent,
  type PlaceOrderInput,
  pick,
  placeBody,
  placeIntent,
  settledTicket,
  tellLiveView,
} from "./pending-orders.ts";
import { type OrdersWanted, readSnapshot, type Snapshot } from "./snapshot.ts";
import { resolveFromRecord, UnknownOutcomes } from "./unknown-outcomes.ts";

export interface OpenOrderInput {
  readonly gateway?: string;
  readonly client_order_id?: string;
  readonly symbol: string;
  readonly side: Side;
  readonly volume: number;
  readonly sl?: number | null;
  readonly tp?: number | null;
  readonly deviation?: number;
  readonly magic?: number;
  readonly comment?: string;
  /** Optional Kelly sizing input from the strategy. */
  readonly edge?: { readonly win_probability: number; readonly payoff_ratio: number };
}

export interface CloseOrderInput {
  readonly gateway?: string;
  readonly client_order_id?: string;
  readonly ticket: number;
  readonly volume?: number;
  readonly deviation?: number;
  readonly comment?: string;
}

export interface ModifyOrderInput {
  readonly gateway?: string;
  readonly client_order_id?: string;
  readonly ticket: number;
  readonly sl?: number | null;
  readonly tp?: number | null;
}

export type OrderResult =
  /** Executed; `reply` is the gateway's fill (or, with `duplicate`, the first one). */
  | {
      readonly outcome: "FILLED";
      readonly gateway: string;
      readonly client_order_id: string;
      readonly reply: TradeReply;
    }
  /** Refused by the gateway or MT5 and recorded there: this client_order_id is spent. */
  | {
      readonly outcome: "REJECTED";
      readonly gateway: string;
      readonly client_order_id: string;
      readonly reply: Reply;
    }
  /** Not taken by the gateway (bad request, signature, expired...): nothing happened. */
  | {
      readonly outcome: "ERROR";
      readonly gateway: string;
      readonly client_order_id: string;
      readonly reply: Reply;
    }
  /** Refused by this host's risk monitor: never left the host. */
  | {
      readonly outcome: "DENIED";
      readonly gateway: string;
      readonly client_order_id: string;
      readonly denial: Denial;
    }
  /** The gateway could not be asked: the order may or may not have executed. */
  | {
      readonly outcome: "UNKNOWN";
      readonly gateway: string;
      readonly client_order_id: string;
      readonly reason: string;
    };

export interface OrderEvents {
  /** Every finished order, for metrics. */
  orderFinished(action: SignedAction, result: OrderResult, durationMs: number): void;
}

export interface OrderServiceOptions {
  readonly gateways: GatewayRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events?: OrderEvents;
  /** Results remembered per client_order_id for strategy retries. */
  readonly rememberResults?: number;
}

type Action = SignedAction;

/** What a decision needs in its snapshot (snapshot.ts readSnapshot). */
interface SnapshotWant {
  readonly symbol?: string;
  /** A position: its symbol is the snapshot's. */
  readonly position?: number;
  readonly orders?: OrdersWanted;
}

/** A risk decision as the order path sees it: a pass may carry a reservation and a volume. */
type Decision =
  | { readonly ok: true; readonly reservation?: Reservation; readonly volume?: number }
  | { readonly ok: false; readonly denial: Denial };

/** How long an order waits for a (re)connecting gateway session before failing as not sent. */
const CONNECT_GRACE_MS = 1000;

/**
 * The order never left this host (no session, or the pre-trade snapshot could not be read):
 * an ERROR, not UNKNOWN, so the strategy knows it may send the same client_order_id again.
 */
function notSent(gateway: string, clientOrderId: string, reason: string): OrderResult {
  return localError(gateway, clientOrderId, "GATEWAY_UNREACHABLE", `${reason}; nothing was sent`);
}

/** An ERROR answered on this host, in the gateway's reply shape: nothing was sent. */
function localError(
  gateway: string,
  clientOrderId: string,
  code: string,
  msg: string,
): OrderResult {
  return {
    outcome: "ERROR",
    gateway,
    client_order_id: clientOrderId,
    reply: { v: 1, id: "", status: "ERROR", error_code: code, error_msg: msg },
  };
}

export class OrderService {
  readonly #options: OrderServiceOptions;
  // Fix (strategy API): each entry remembers its action, so an id reused for another action
  // (a CLOSE sent with an earlier OPEN's id) is refused instead of answering the OPEN's fill
  readonly #running = new Map<string, { action: Action; promise: Promise<OrderResult> }>();
  readonly #results = new Map<string, { action: Action; result: OrderResult }>();
  readonly #unknowns: UnknownOutcomes;

  constructor(options: OrderServiceOptions) {
    this.#options = options;
    this.#unknowns = new UnknownOutcomes(options.clock, options.logger);
  }

  /** Stop asking the gateways about unknown outcomes (agent stop). */
  stop(): void {
    this.#unknowns.stop();
  }

  open(input: OpenOrderInput): Promise<OrderResult> {
    return this.#once("OPEN", input.gateway, input.client_order_id, (lane, coid) =>
      this.#open(lane, coid, input),
    );
  }

  close(input: CloseOrderInput): Promise<OrderResult> {
    return this.#once("CLOSE", input.gateway, input.client_order_id, (lane, coid) =>
      this.#close(lane, coid, input),
    );
  }

  modify(input: ModifyOrderInput): Promise<OrderResult> {
    return this.#once("MODIFY", input.gateway, input.client_order_id, (lane, coid) =>
      this.#modify(lane, coid, input),
    );
  }

  /** A pending order: checked as the OPEN it may become, from its own price. */
  place(input: PlaceOrderInput): Promise<OrderResult> {
    return this.#once("PLACE", input.gateway, input.client_order_id, (lane, coid) => {
      const intent = placeIntent(input, coid);
      return this.#checked(lane, coid, "PLACE", {
        early: this.#early(lane, intent, PLACE_GATE_CHECKS),
        want: { symbol: input.symbol, orders: { all: true } },
        check: (snapshot, read) =>
          this.#counted(lane, lane.risk.checkPlace(intent, snapshot, read)),
        body: (decision) => placeBody(input, coid, decision.volume ?? input.volume),
      });
    });
  }

  modifyOrder(input: ModifyPendingInput): Promise<OrderResult> {
    return this.#once("MODIFY_ORDER", input.gateway, input.client_order_id, (lane, coid) =>
      this.#checked(lane, coid, "MODIFY_ORDER", {
        want: { orders: { ticket: input.ticket } },
        check: (snapshot) => lane.risk.checkModifyOrder(modifyOrderIntent(input, coid), snapshot),
        body: () => modifyOrderBody(input, coid),
      }),
    );
  }

  /** `operator`: asked with the operator's token, which may cancel while HALTED. */
  cancel(input: CancelOrderInput): Promise<OrderResult> {
    return this.#once("CANCEL", input.gateway, input.client_order_id, (lane, coid) =>
      this.#checked(lane, coid, "CANCEL", {
        want: { orders: { ticket: input.ticket } },
        check: (snapshot) =>
          lane.risk.checkCancel(
            { clientOrderId: coid, ticket: input.ticket, operator: input.operator === true },
            snapshot,
          ),
        body: () => cancelBody(input, coid),
      }),
    );
  }

  closeBy(input: CloseByInput): Promise<OrderResult> {
    return this.#once("CLOSE_BY", input.gateway, input.client_order_id, (lane, coid) =>
      this.#checked(lane, coid, "CLOSE_BY", {
        want: { position: input.ticket },
        check: (snapshot, read) =>
          lane.risk.checkCloseBy(
            { clientOrderId: coid, ticket: input.ticket, ticketBy: input.ticket_by },
            snapshot,
            read,
          ),
        body: () => closeByBody(input, coid),
      }),
    );
  }

  /** The lane for gateway `name` (or the default); throws UnknownGatewayError. */
  lane(name?: string): GatewayLane {
    const lane = this.#options.gateways.get(name);
    if (lane === undefined) throw new UnknownGatewayError(name, this.#options.gateways.names);
    return lane;
  }

  // ---------------------------------------------------------------------------------------------

  async #once(
    action: Action,
    gatewayName: string | undefined,
    requested: string | undefined,
    run: (lane: GatewayLane, clientOrderId: string) => Promise<OrderResult>,
  ): Promise<OrderResult> {
    const lane = this.lane(gatewayName);
    const client = lane.client;
    const clientOrderId = requested ?? newClientOrderId(this.#options.clock.now());
    const key = `${client.name}\u0000${clientOrderId}`;
    const running = this.#running.get(key);
    if (running !== undefined)
      return running.action === action
        ? running.promise
        : reusedId(client.name, clientOrderId, running.action, action);
    const known = this.#results.get(key);
    if (known !== undefined && known.result.outcome !== "UNKNOWN")
      return known.action === action
        ? known.result
        : reusedId(client.name, clientOrderId, known.action, action);
    const started = this.#options.clock.monotonic();
    const promise = (async () => {
      // (Only while connected: with no session the lookup could only time out, and run() answers
      // at once with a local denial or GATEWAY_UNREACHABLE.)
      const ask = (retries?: number) =>
        requested !== undefined && client.connected
          ? this.#fromGateway(lane, clientOrderId, action, retries)
          : Promise.resolve(undefined);
      // UNKNOWN last time: what the gateway knows settles it (and its reservation) first
      if (known !== undefined) {
        const previous = await ask();
        if (previous !== undefined) return previous;
      }
      const result = await run(lane, clientOrderId);
      // A refusal that may only be about an earlier attempt of this id (before an agent
      // restart): the journal's outcome, if it executed, is the answer. One try: a gateway that
      // does not answer now (the breaker's case) must not hold the refusal up for long.
      if (mayBeAboutAnEarlierAttempt(result)) return (await ask(0)) ?? result;
      return result;
    })();
    this.#running.set(key, { action, promise });
    try {
      const result = await promise;
      this.#remember(key, action, result);
      this.#options.events?.orderFinished(
        action,
        result,
        this.#options.clock.monotonic() - started,
      );
      return result;
    } finally {
      this.#running.delete(key);
    }
  }

  async #fromGateway(
    lane: GatewayLane,
    clientOrderId: string,
    action: Action,
    retries?: number,
  ): Promise<OrderResult | undefined> {
    const client = lane.client;
    try {
      const record = await client.orderRecord(
        clientOrderId,
        retries === undefined ? {} : { retries },
      );
      // A retry of an order whose outcome was unknown: what the gateway knows settles its
      // reservation; "never seen" too, since the retry reserves afresh for the same intent and
      // the gateway executes one client_order_id at most once.
      resolveFromRecord(lane.risk.exposure, clientOrderId, record, "release");
      if (record === null || record.state === "NOT_EXECUTED" || record.reply === null)
        return undefined;
      if (record.action !== action)
        return reusedId(client.name, clientOrderId, record.action, action);
      return this.#classify(client.name, {
        kind: "answered",
        clientOrderId,
        reply: { ...record.reply, duplicate: true },
        attempts: 0,
      });
    } catch {
      // Unreachable: submit() will find out the same way and report UNKNOWN if it must.
      return undefined;
    }
  }

  #open(lane: GatewayLane, clientOrderId: string, input: OpenOrderInput): Promise<OrderResult> {
    const intent: OpenIntent = {
      clientOrderId,
      symbol: input.symbol,
      side: input.side,
      volume: input.volume,
      ...(input.sl === undefined ? {} : { sl: input.sl }),
      ...(input.tp === undefined ? {} : { tp: input.tp }),
      ...(input.edge === undefined
        ? {}
        : {
            edge: {
              winProbability: input.edge.win_probability,
              payoffRatio: input.edge.payoff_ratio,
            },
          }),
    };
    return this.#checked(lane, clientOrderId, "OPEN", {
      early: this.#early(lane, intent, OPEN_GATE_CHECKS),
      want: { symbol: input.symbol, orders: { all: true } },
      check: (snapshot, read) => this.#counted(lane, lane.risk.checkOpen(intent, snapshot, read)),
      body: (decision) => ({
        action: "OPEN",
        client_order_id: clientOrderId,
        symbol: input.symbol,
        side: input.side,
        volume: decision.volume ?? input.volume,
        ...pick(input, ["sl", "tp", "deviation", "magic", "comment"]),
      }),
    });
  }

  /**
   * Refusals of an OPEN or PLACE that need no market data (its gate checks but the symbol's
   * info), before the snapshot.
   * Fix (CLI e2e): with the breaker open the gateway has gone silent, and asking it for a
   * snapshot waited out every query timeout (9 s by default) and then reported UNKNOWN for an
   * order that was never sent, instead of BREAKER_OPEN at once.
   */
  #early<I extends OpenIntent>(
    lane: GatewayLane,
    intent: I,
    gate: readonly Check<OpenGateContext & { readonly intent: I }>[],
  ): Denial | undefined {
    const { risk } = lane;
    const early = gate.filter((check) => check !== checkSymbolKnown);
    return firstDenial(early, {
      intent,
      limits: risk.limits,
      tradingState: risk.tradingState,
      tradingStateReason: risk.tradingStateReason,
      breakerEngaged: lane.breaker?.engaged ?? false,
      symbol: undefined,
    });
  }

  /**
   * A passed OPEN or PLACE takes its place in the rate window in the same synchronous step as
   * its check, so orders checked at once count each other against the rate limits too.
   */
  #counted<D extends Decision>(lane: GatewayLane, decision: D): D {
    if (decision.ok) lane.risk.recordOrder();
    return decision;
  }

  /**
   * Every signed action's path once its id is settled: the refusals that need no market data,
   * the connection, a stamped snapshot and the risk check on it, then submit.
   */
  async #checked<D extends Decision>(
    lane: GatewayLane,
    clientOrderId: string,
    action: Action,
    steps: {
      readonly early?: Denial | undefined;
      readonly want: SnapshotWant;
      readonly check: (snapshot: Exclude<Snapshot, { unknown: string }>, read: SnapshotRead) => D;
      readonly body: (decision: Extract<D, { ok: true }>) => SignedBody;
    },
  ): Promise<OrderResult> {
    const client = lane.client;
    const denied = (denial: Denial): OrderResult => ({
      outcome: "DENIED",
      gateway: client.name,
      client_order_id: clientOrderId,
      denial,
    });
    if (steps.early !== undefined) {
      this.#options.logger.warn("[RISK_DENY]", {
        code: steps.early.code,
        action,
        client_order_id: clientOrderId,
        ...steps.early.context,
      });
      return denied(steps.early);
    }
    if (!(await client.waitConnected(CONNECT_GRACE_MS))) {
      return notSent(client.name, clientOrderId, `no connection to gateway ${client.name}`);
    }
    const decision = await this.#decide(lane, steps.want, steps.check);
    if ("unknown" in decision) return notSent(client.name, clientOrderId, decision.unknown);
    if (!decision.ok) return denied(decision.denial);
    const passed = decision as Extract<D, { ok: true }>;
    return this.#submit(lane, steps.body(passed), passed.reservation);
  }

  /**
   * Read a snapshot stamped in the exposure ledger and decide on it. The check (and the
   * reservation a pass makes) runs synchronously once the snapshot is in, so no other order's
   * check can come between them.
   */
  async #decide<D>(
    lane: GatewayLane,
    want: SnapshotWant,
    check: (snapshot: Exclude<Snapshot, { unknown: string }>, read: SnapshotRead) => D,
  ): Promise<D | { unknown: string }> {
    const read = lane.risk.exposure.beginRead();
    try {
      const snapshot = await readSnapshot(lane, want.symbol, want.position, want.orders);
      if ("unknown" in snapshot) return snapshot;
      return check(snapshot, read);
    } finally {
      read.end();
    }
  }

  /** Send a passed order and settle its reservation with the outcome. */
  async #submit(
    lane: GatewayLane,
    body: SignedBody,
    reservation: Reservation | undefined,
  ): Promise<OrderResult> {
    const { client, risk } = lane;
    // The live view takes our own fill from its reply, before the reservation is settled: a
    // snapshot read after the settlement must show it (exposure-ledger.ts)
    const mine = ownOrder(body);
    const own = mine === undefined ? undefined : lane.live?.ownOrder(mine);
    let result: OrderResult;
    try {
      result = this.#classify(client.name, await client.submit(body));
    } catch (error) {
      own?.finish(undefined);
      // Not an outcome: keep the exposure until the gateway says what happened
      reservation?.unknown(this.#options.clock.now());
      this.#unknowns.watch(lane);
      throw error;
    }
    own?.finish(result.outcome === "FILLED" ? result.reply : undefined);
    // A pending-order action of ours: the view must not answer without it (exposure-ledger.ts)
    if (own === undefined && result.outcome === "FILLED" && lane.live !== undefined)
      tellLiveView(lane.live, body, result.reply);
    if (reservation === undefined) return result;
    settleReservation(reservation, body, result, this.#options.clock.now());
    if (result.outcome === "UNKNOWN") this.#unknowns.watch(lane);
    else if (risk.exposure.unknowns().length > 0) this.#unknowns.watch(lane);
    return result;
  }

  #close(lane: GatewayLane, clientOrderId: string, input: CloseOrderInput): Promise<OrderResult> {
    const volume = input.volume === undefined ? {} : { volume: input.volume };
    return this.#checked(lane, clientOrderId, "CLOSE", {
      want: { position: input.ticket },
      check: (snapshot, read) =>
        lane.risk.checkClose({ clientOrderId, ticket: input.ticket, ...volume }, snapshot, read),
      body: () => ({
        action: "CLOSE",
        client_order_id: clientOrderId,
        ticket: input.ticket,
        ...pick(input, ["volume", "deviation", "comment"]),
      }),
    });
  }

  #modify(lane: GatewayLane, clientOrderId: string, input: ModifyOrderInput): Promise<OrderResult> {
    const stops = pick(input, ["sl", "tp"]);
    return this.#checked(lane, clientOrderId, "MODIFY", {
      want: { position: input.ticket },
      check: (snapshot) =>
        lane.risk.checkModify({ clientOrderId, ticket: input.ticket, ...stops }, snapshot),
      body: () => ({
        action: "MODIFY",
        client_order_id: clientOrderId,
        ticket: input.ticket,
        ...stops,
      }),
    });
  }

  #classify(gateway: string, outcome: OrderOutcome): OrderResult {
    const client_order_id = outcome.clientOrderId;
    if (outcome.kind === "unknown")
      return { outcome: "UNKNOWN", gateway, client_order_id, reason: outcome.reason };
    const reply = outcome.reply;
    if (reply.status === "FILLED")
      return { outcome: "FILLED", gateway, client_order_id, reply: reply as TradeReply };
    if (reply.status === "REJECTED")
      return { outcome: "REJECTED", gateway, client_order_id, reply };
    // ERROR with "reconcile" advice that submit() could not settle stays unknown to the caller.
    if (errorCodeInfo(reply.error_code ?? "")?.retry === "reconcile") {
      return {
        outcome: "UNKNOWN",
        gateway,
        client_order_id,
        reason: `${reply.error_code}: ${reply.error_msg ?? ""}`,
      };
    }
    return { outcome: "ERROR", gateway, client_order_id, reply };
  }

  #remember(key: string, action: Action, result: OrderResult): void {
    // DENIED and ERROR took nothing: forget them so a retry is judged afresh.
    if (result.outcome === "DENIED" || result.outcome === "ERROR") return;
    this.#results.set(key, { action, result });
    const limit = this.#options.rememberResults ?? 10_000;
    if (this.#results.size > limit) {
      const oldest = this.#results.keys().next().value;
      if (oldest !== undefined) this.#results.delete(oldest);
    }
  }
}

/**
 * A local denial, or the gateway refusing the id for another intent: either may only be about an
 * earlier attempt of the same id that executed (the position it opened, the volume it used).
 */
function mayBeAboutAnEarlierAttempt(result: OrderResult): boolean {
  return (
    result.outcome === "DENIED" ||
    (result.outcome === "ERROR" && result.reply.error_code === "CLIENT_ORDER_ID_REUSED")
  );
}

/**
 * What the live view needs to know of a position order about to be sent; the pending-order
 * actions are told after their reply instead (pending-orders.ts tellLiveView).
 */
function ownOrder(body: SignedBody): OwnOrder | undefined {
  const ticket = body["ticket"] as number;
  if (body.action !== "OPEN" && body.action !== "CLOSE" && body.action !== "MODIFY")
    return undefined;
  if (body.action === "OPEN") {
    const magic = body["magic"];
    return {
      action: "OPEN",
      symbol: body["symbol"] as string,
      side: body["side"] as Side,
      ...(typeof magic === "number" ? { magic } : {}),
    };
  }
  return body.action === "CLOSE" ? { action: "CLOSE", ticket } : { action: "MODIFY", ticket };
}

/** Settle a passed order's reservation with what came of it (risk/exposure-ledger.ts). */
function settleReservation(
  reservation: Reservation,
  body: SignedBody,
  result: OrderResult,
  now: number,
): void {
  switch (result.outcome) {
    case "FILLED":
      reservation.settle(settledTicket(body, result.reply));
      return;
    case "UNKNOWN":
      reservation.unknown(now);
      return;
    default:
      // REJECTED and ERROR: recorded as not executed, or never taken (DENIED never gets here)
      reservation.release();
  }
}

/** The gateway's CLIENT_ORDER_ID_REUSED answer, given locally: nothing was sent. */
function reusedId(
  gateway: string,
  clientOrderId: string,
  first: SignedAction,
  now: Action,
): OrderResult {
  return localError(
    gateway,
    clientOrderId,
    "CLIENT_ORDER_ID_REUSED",
    `client_order_id ${clientOrderId} was used for ${first}, not ${now}; use a new id for a new intent`,
  );
}
