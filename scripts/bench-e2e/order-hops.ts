/**
 * Where an order through agent-inf spends its time, hop by hop (issue 17 §4), from the agents'
 * own histograms scraped before and after the benchmark's one-at-a-time phase. Each figure is a
 * mean per order (sum over the phase / orders); the four hops add up to what the strategy saw:
 *
 *   strategy ⇄ agent-inf HTTP      client round trip − agent-inf's request handler
 *   agent-inf's own work            handler − the order's gateway round trip (risk checks,
 *                                   signing, bookkeeping, and any read it waited for)
 *   agent-inf ⇄ agent-gtw           order round trip − the gateway's stages (CURVE both ways,
 *                                   framing, parsing, the reply)
 *   agent-gtw: verify, journal, backend   agent_gtw_order_stage_seconds
 *
 * Gateway reads agent-inf made during the phase (its pre-trade snapshot, the live view's upkeep)
 * are counted too: a steady-state order should cost one gateway request.
 */
import { between, type Labels, type Series } from "./scrape.ts";

export interface Scrapes {
  readonly before: readonly Series[];
  readonly after: readonly Series[];
}

export interface OrderHopsInput {
  /** Orders in the phase (OPENs and CLOSEs). */
  readonly orders: number;
  /** Mean round trip the strategy measured, ms. */
  readonly clientMeanMs: number;
  readonly inference: Scrapes;
  readonly gateway: Scrapes;
}

export interface OrderHops {
  readonly httpMs: number;
  readonly inferenceMs: number;
  readonly wireMs: number;
  readonly gateway: {
    readonly verifyMs: number;
    readonly journalMs: number;
    readonly backendMs: number;
  };
  /** Gateway requests per order by action (PING excluded: the heartbeat's). */
  readonly requestsPerOrder: Readonly<Record<string, number>>;
  /** Mean round trip of the reads among them, ms (NaN: none). */
  readonly readMeanMs: number;
}

const ORDER_ROUTES = new Set(["/v1/orders", "/v1/positions/{ticket}/close"]);
const ORDER_ACTIONS = new Set(["OPEN", "CLOSE"]);

export function orderHops(input: OrderHopsInput): OrderHops {
  const { inference: inf, gateway: gtw, orders } = input;
  const perOrderMs = (figure: { sum: number }) => (figure.sum / orders) * 1000;
  const handler = between(
    inf.before,
    inf.after,
    "agent_inf_http_request_seconds",
    (labels) => labels["method"] === "POST" && ORDER_ROUTES.has(labels["route"] ?? ""),
  );
  const isOrder = (labels: Labels) => ORDER_ACTIONS.has(labels["action"] ?? "");
  const own = between(inf.before, inf.after, "agent_inf_gateway_request_seconds", isOrder);
  const stage = (name: string) =>
    perOrderMs(
      between(
        gtw.before,
        gtw.after,
        "agent_gtw_order_stage_seconds",
        (labels) => labels["stage"] === name,
      ),
    );
  const gateway = {
    verifyMs: stage("verify"),
    journalMs: stage("journal"),
    backendMs: stage("backend"),
  };
  const { perAction: requestsPerOrder, readMeanMs } = gatewayRequests(inf, orders);
  const gatewayMs = gateway.verifyMs + gateway.journalMs + gateway.backendMs;
  return {
    httpMs: input.clientMeanMs - perOrderMs(handler),
    inferenceMs: perOrderMs(handler) - perOrderMs(own),
    wireMs: perOrderMs(own) - gatewayMs,
    gateway,
    requestsPerOrder,
    readMeanMs,
  };
}

/**
 * Gateway requests agent-inf sent per order over a phase, by action (PING excluded: the
 * heartbeat's), and the mean round trip of the reads among them (NaN: none).
 */
export function gatewayRequests(
  inference: Scrapes,
  orders: number,
): { readonly perAction: Readonly<Record<string, number>>; readonly readMeanMs: number } {
  const actions = new Set(
    inference.after
      .filter((series) => series.name === "agent_inf_gateway_request_seconds")
      .map((series) => series.labels["action"] ?? ""),
  );
  const perAction: Record<string, number> = {};
  let reads = { sum: 0, count: 0 };
  for (const action of [...actions].sort()) {
    if (action === "PING") continue;
    const figure = between(
      inference.before,
      inference.after,
      "agent_inf_gateway_request_seconds",
      (labels) => labels["action"] === action,
    );
    if (figure.count === 0) continue;
    perAction[action] = figure.count / orders;
    if (!ORDER_ACTIONS.has(action))
      reads = { sum: reads.sum + figure.sum, count: reads.count + figure.count };
  }
  return {
    perAction,
    readMeanMs: reads.count === 0 ? Number.NaN : (reads.sum / reads.count) * 1000,
  };
}

/** "2.00 (CLOSE 0.50, GET_ACCOUNT 1.00, OPEN 0.50)" */
export function formatRequests(perAction: Readonly<Record<string, number>>): string {
  const entries = Object.entries(perAction);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return `${total.toFixed(2)} (${entries.map(([action, count]) => `${action} ${count.toFixed(2)}`).join(", ")})`;
}

/** Where an order straight to the gateway went there (means per order, ms). */
export interface GatewayStages {
  readonly verifyMs: number;
  readonly journalMs: number;
  readonly backendMs: number;
  /** Mean time of one journal fdatasync, and how many the phase took per order. */
  readonly fsyncMs: number;
  readonly fsyncsPerOrder: number;
}

export function gatewayStages(gateway: Scrapes, orders: number): GatewayStages {
  const stage = (name: string) =>
    (between(
      gateway.before,
      gateway.after,
      "agent_gtw_order_stage_seconds",
      (labels) => labels["stage"] === name,
    ).sum /
      orders) *
    1000;
  const syncs = between(gateway.before, gateway.after, "agent_gtw_journal_fsync_seconds");
  return {
    verifyMs: stage("verify"),
    journalMs: stage("journal"),
    backendMs: stage("backend"),
    fsyncMs: syncs.count === 0 ? Number.NaN : (syncs.sum / syncs.count) * 1000,
    fsyncsPerOrder: syncs.count / orders,
  };
}

/** The breakdown as printed lines. */
export function formatOrderHops(hops: OrderHops, clientMeanMs: number): string[] {
  const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : "n/a").padStart(7);
  const share = (value: number) => `${((value / clientMeanMs) * 100).toFixed(0).padStart(3)} %`;
  const row = (label: string, value: number) =>
    `  ${label.padEnd(66)}${ms(value)}  ${share(value)}`;
  const { verifyMs, journalMs, backendMs } = hops.gateway;
  return [
    `  ${"hop (mean per order, ms)".padEnd(66)}${"ms".padStart(7)}  share`,
    row("strategy ⇄ agent-inf: HTTP outside the request handler", hops.httpMs),
    row("agent-inf: risk checks, signing, bookkeeping, reads waited on", hops.inferenceMs),
    row("agent-inf ⇄ agent-gtw: CURVE both ways, request handling", hops.wireMs),
    row("agent-gtw: signature, freshness, replay (verify)", verifyMs),
    row("agent-gtw: journal (intent fdatasync, outcome write)", journalMs),
    row("agent-gtw: last-line gate and the simulated MT5 (its fdatasync)", backendMs),
    row("= what the strategy saw", clientMeanMs),
    `  gateway requests per order: ${formatRequests(hops.requestsPerOrder)}${Number.isFinite(hops.readMeanMs) ? `; reads took ${hops.readMeanMs.toFixed(3)} ms each` : ""}`,
  ];
}
