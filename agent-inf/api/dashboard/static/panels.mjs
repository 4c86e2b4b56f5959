/**
 * The dashboard's panels, each drawn whole from the data it is given (no diffing: the tables
 * are small and redrawn at most every second or on an event).
 */
import { histogram, lineChart } from "./charts.mjs";
import { badge, decimals, el, fmt } from "./dom.mjs";

const TRADING_TONE = { ACTIVE: "ok", REDUCING: "warn", HALTED: "bad" };

function laneTone(lane) {
  if (lane.problems.some((problem) => problem.level === "fail")) return "bad";
  if (lane.problems.length > 0 || lane.heartbeat !== "HEALTHY") return "warn";
  return "ok";
}

/** Header tiles, one per gateway: link, MT5, trading state, breaker, heartbeat, clock. */
export function renderLanes(container, health) {
  container.replaceChildren(
    ...health.gateways.map((lane) => {
      const tone = laneTone(lane);
      const mt5 = lane.mt5_link ?? "UNKNOWN";
      const latency = lane.latency_ms;
      return el(
        "article",
        {
          class: `lane ${tone}`,
          "data-gateway": lane.gateway,
          "aria-label": `Gateway ${lane.gateway}`,
        },
        el(
          "h2",
          {},
          lane.gateway,
          badge(tone === "ok" ? "OK" : tone === "warn" ? "DEGRADED" : "FAILED", tone),
        ),
        el(
          "div",
          { class: "states" },
          field(
            badge(lane.connected ? "LINK UP" : "LINK DOWN", lane.connected ? "ok" : "bad"),
            "link",
          ),
          field(badge(`MT5 ${mt5}`, mt5 === "UP" ? "ok" : "bad"), "mt5"),
          field(
            badge(lane.trading_state, TRADING_TONE[lane.trading_state] ?? "bad"),
            "trading-state",
          ),
          field(
            badge(
              lane.breaker.engaged ? "BREAKER ENGAGED" : "BREAKER OFF",
              lane.breaker.engaged ? "bad" : "ok",
            ),
            "breaker",
          ),
          field(
            badge(
              `HEARTBEAT ${lane.heartbeat}`,
              lane.heartbeat === "HEALTHY" ? "ok" : lane.heartbeat === "DEGRADED" ? "warn" : "bad",
            ),
            "heartbeat",
          ),
        ),
        el(
          "dl",
          {},
          ...pair(
            "Heartbeat latency",
            latency === undefined
              ? fmt.dash
              : `p50 ${fmt.ms(latency.p50)} · p95 ${fmt.ms(latency.p95)} · max ${fmt.ms(latency.max)}`,
          ),
          ...pair(
            "Clock offset",
            lane.clock_offset_ms === undefined
              ? fmt.dash
              : `${lane.clock_offset_ms >= 0 ? "+" : ""}${lane.clock_offset_ms.toFixed(2)} ms`,
          ),
          ...pair("Trading state", `${lane.trading_state}: ${lane.trading_state_reason}`),
          ...(lane.breaker.engaged
            ? pair(
                "Breaker",
                `${lane.breaker.reason ?? ""} (since ${fmt.time(lane.breaker.since)})`,
              )
            : []),
          ...pair(
            "Stream",
            lane.stream === undefined
              ? "off"
              : `${lane.stream.state}${lane.stream.positions_in_sync ? "" : ", positions catching up"}`,
          ),
          ...pair("Endpoint", lane.endpoint),
        ),
        lane.problems.length === 0
          ? undefined
          : el(
              "ul",
              { class: "problems" },
              ...lane.problems.map((problem) =>
                el("li", {}, `${problem.code}: ${problem.message}`),
              ),
            ),
      );
    }),
  );
}

function field(node, name) {
  node.setAttribute("data-field", name);
  return node;
}

function pair(term, value) {
  return [el("dt", {}, term), el("dd", {}, value)];
}

function figure(term, value, extra) {
  return el("div", {}, el("dt", {}, term), el("dd", {}, value), extra);
}

/** Balance, equity, margin level, daily loss against its limit, drawdown, and the curve. */
export function renderAccount(list, chart, account, equity) {
  const limit = equity?.daily_loss_limit ?? {};
  const limitText = [
    limit.money === null || limit.money === undefined ? undefined : fmt.money(limit.money),
    limit.percent === null || limit.percent === undefined
      ? undefined
      : `${limit.percent} % of the day's start`,
  ]
    .filter(Boolean)
    .join(" or ");
  const used = equity?.daily_loss_used;
  const drawdownUsed = equity?.drawdown_used;
  list.replaceChildren(
    figure("Balance", `${fmt.money(account?.balance)} ${account?.currency ?? ""}`),
    figure("Equity", `${fmt.money(account?.equity ?? equity?.equity)} ${account?.currency ?? ""}`),
    figure("Floating P&L", fmt.money(account?.profit)),
    figure(
      "Margin level",
      account === undefined
        ? fmt.dash
        : account.margin_level > 0
          ? fmt.percent(account.margin_level)
          : "no margin in use",
    ),
    figure(
      "Daily loss used",
      typeof used === "number"
        ? `${fmt.money(equity.daily_loss)} = ${(used * 100).toFixed(1)} % of the limit (${limitText || "none"})`
        : `${fmt.money(equity?.daily_loss)} (no limit)`,
      typeof used === "number" ? meter(used, "daily-loss") : undefined,
    ),
    figure(
      "Drawdown",
      typeof drawdownUsed === "number"
        ? `${fmt.percent(equity.drawdown_percent, 2)} of max ${fmt.percent(equity.max_drawdown_percent)}`
        : fmt.percent(equity?.drawdown_percent, 2),
      typeof drawdownUsed === "number" ? meter(drawdownUsed, "drawdown") : undefined,
    ),
    figure("High-water mark", fmt.money(equity?.high_water_mark)),
  );
  chart.replaceChildren(
    lineChart(equity?.curve ?? [], {
      label: "Equity since the agent started (dashed: start-of-day equity)",
      baseline: equity?.day_start_equity,
    }),
  );
}

function meter(ratio, name) {
  return el("meter", {
    min: 0,
    max: 1,
    low: 0.5,
    high: 0.8,
    optimum: 0,
    value: Math.max(0, Math.min(1, ratio)),
    "data-field": name,
    "aria-label": `${name.replace("-", " ")} ${(ratio * 100).toFixed(0)} % of its limit`,
  });
}

function signed(value) {
  if (typeof value !== "number") return el("td", { class: "num" }, fmt.dash);
  return el(
    "td",
    { class: `num ${value >= 0 ? "gain" : "loss"}` },
    `${value >= 0 ? "+" : "−"}${fmt.money(Math.abs(value))}`,
  );
}

function emptyRow(columns, text) {
  return el("tr", {}, el("td", { class: "empty", colspan: columns }, text));
}

export function renderPositions(body, total, positions) {
  const sorted = [...positions].sort((a, b) => b.time - a.time);
  body.replaceChildren(
    ...(sorted.length === 0
      ? [emptyRow(9, "No open positions")]
      : sorted.map((p) =>
          el(
            "tr",
            { "data-ticket": p.ticket },
            el("td", { class: "num" }, p.ticket),
            el("td", {}, p.symbol),
            el("td", {}, p.side),
            el("td", { class: "num" }, p.volume),
            el("td", { class: "num" }, fmt.price(p.price_open)),
            el("td", { class: "num" }, fmt.price(p.price_current)),
            el("td", { class: "num" }, fmt.price(p.sl ?? undefined)),
            el("td", { class: "num" }, fmt.price(p.tp ?? undefined)),
            signed(p.profit),
          ),
        )),
  );
  const sum = positions.reduce((acc, p) => acc + (typeof p.profit === "number" ? p.profit : 0), 0);
  total.textContent =
    positions.length === 0
      ? ""
      : `${positions.length} open, floating ${sum >= 0 ? "+" : "−"}${fmt.money(Math.abs(sum))}`;
}

export function renderPending(body, source, orders, sourceText) {
  source.textContent = sourceText;
  body.replaceChildren(
    ...(orders.length === 0
      ? [emptyRow(8, "No pending orders")]
      : [...orders]
          .sort((a, b) => b.time_setup - a.time_setup)
          .map((o) =>
            el(
              "tr",
              { "data-order": o.ticket },
              el("td", { class: "num" }, o.ticket),
              el("td", {}, o.symbol),
              el("td", {}, o.type),
              el("td", { class: "num" }, o.volume_current ?? o.volume_initial),
              el("td", { class: "num" }, fmt.price(o.price_open)),
              el("td", { class: "num" }, fmt.price(o.sl ?? undefined)),
              el("td", { class: "num" }, fmt.price(o.tp ?? undefined)),
              el("td", {}, o.time_expiration ? fmt.dateTime(o.time_expiration) : "GTC"),
            ),
          )),
  );
}

/** The last intents, newest first; ones not seen at the previous draw are highlighted. */
export function renderOrders(body, orders, seen) {
  body.replaceChildren(
    ...(orders.length === 0
      ? [emptyRow(11, "No orders yet")]
      : orders.map((o) =>
          el(
            "tr",
            {
              "data-coid": o.client_order_id,
              "data-outcome": o.outcome,
              class: seen.size > 0 && !seen.has(o.seq) ? "fresh" : undefined,
            },
            el("td", {}, fmt.time(o.time)),
            el("td", {}, o.gateway),
            el("td", {}, o.action),
            el("td", {}, o.client_order_id),
            el("td", {}, [o.symbol, o.side].filter(Boolean).join(" ") || fmt.dash),
            el("td", { class: `outcome ${o.outcome}` }, o.outcome),
            el("td", { class: "num" }, fmt.ms(o.latency_ms)),
            el("td", { class: "num" }, o.ticket ?? fmt.dash),
            el("td", { class: "num" }, o.volume ?? fmt.dash),
            el("td", { class: "num" }, fmt.price(o.price)),
            el(
              "td",
              { class: "reason" },
              o.code === undefined ? (o.reason ?? "") : `${o.code}: ${o.reason ?? ""}`,
            ),
          ),
        )),
  );
}

export function renderLatency(container, latencies) {
  container.replaceChildren(
    ...latencies.flatMap(({ gateway, data }) => [
      histogram(data.bounds_ms, data.order, { label: `${gateway}: order round trip` }),
      histogram(data.bounds_ms, data.ping, { label: `${gateway}: PING round trip` }),
    ]),
  );
}

export function renderQuotes(body, symbols, quotes) {
  body.replaceChildren(
    ...symbols.map((symbol) => {
      const quote = quotes.get(symbol);
      const digits = quote === undefined ? 0 : Math.max(decimals(quote.bid), decimals(quote.ask));
      return el(
        "tr",
        { "data-symbol": symbol },
        el("td", {}, symbol),
        el("td", { class: "num" }, fmt.price(quote?.bid)),
        el("td", { class: "num" }, fmt.price(quote?.ask)),
        el(
          "td",
          { class: "num" },
          quote === undefined ? fmt.dash : (quote.ask - quote.bid).toFixed(digits),
        ),
        el("td", {}, quote === undefined ? "no quote yet" : fmt.time(quote.time)),
      );
    }),
  );
}
