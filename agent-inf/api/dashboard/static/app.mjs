/**
 * The dashboard page: who is logged in, then the panels, fed by the agent's JSON routes (polled,
 * never more often than once a second) and the gateway's event stream (positions, pending
 * orders and quotes as they change). Everything goes through /dashboard/…, where the session
 * cookie is accepted.
 */
import { setupControls } from "./controls.mjs";
import { byId, call, el, HttpError, setCsrfToken, toLogin } from "./dom.mjs";
import { every as refreshEvery } from "./every.mjs";
import {
  renderAccount,
  renderLanes,
  renderLatency,
  renderOrders,
  renderPending,
  renderPositions,
  renderQuotes,
} from "./panels.mjs";
import { openStream } from "./stream.mjs";

const state = {
  session: undefined,
  gateway: undefined,
  stream: undefined,
  quotes: new Map(),
  positions: new Map(),
  pending: new Map(),
  /** "route": GET /v1/pending answers; "stream": only the stream's SNAPSHOT and ORDER_* events. */
  pendingSource: "stream",
  seenOrders: new Set(),
};

/** A refresh loop (every.mjs) whose failures are logged; a 401 has sent the page to the login. */
function every(everyMs, task) {
  return refreshEvery(everyMs, task, {
    onError: (error) => {
      if (!(error instanceof HttpError && error.status === 401)) console.warn("dashboard:", error);
    },
  });
}

async function refreshHealth() {
  const health = await call("/v1/health");
  renderLanes(byId("lanes"), health);
  const overall = byId("overall");
  overall.textContent = health.status.toUpperCase();
  overall.className = `badge ${health.status === "ok" ? "ok" : health.status === "degraded" ? "warn" : "bad"}`;
}

async function refreshAccount() {
  const gateway = encodeURIComponent(state.gateway);
  const [account, equity] = await Promise.all([
    call(`/v1/account?gateway=${gateway}`)
      .then((answer) => answer.account)
      .catch(() => undefined),
    call(`/v1/equity?gateway=${gateway}`),
  ]);
  renderAccount(byId("account-figures"), byId("equity-chart"), account, equity);
}

async function refreshPositions() {
  const answer = await call(`/v1/positions?gateway=${encodeURIComponent(state.gateway)}`);
  state.positions = new Map(answer.positions.map((position) => [position.ticket, position]));
  drawPositions();
}

function drawPositions() {
  renderPositions(byId("positions-body"), byId("positions-total"), [...state.positions.values()]);
}

async function refreshPending() {
  if (state.pendingSource === "route") {
    try {
      const answer = await call(`/v1/pending?gateway=${encodeURIComponent(state.gateway)}`);
      state.pending = new Map(answer.orders.map((order) => [order.ticket, order]));
    } catch (error) {
      // This agent has no pending-orders route: the stream is the only source
      if (error instanceof HttpError && error.status === 404 && error.code === "NOT_FOUND")
        state.pendingSource = "stream";
      else throw error;
    }
  }
  drawPending();
}

function drawPending() {
  renderPending(
    byId("pending-body"),
    byId("pending-source"),
    [...state.pending.values()],
    state.pendingSource === "route" ? "" : "(from the event stream)",
  );
}

async function refreshOrders() {
  const outcome = byId("outcome-filter").value;
  const answer = await call(
    `/v1/recent-orders?limit=100${outcome === "" ? "" : `&outcome=${outcome}`}`,
  );
  renderOrders(byId("orders-body"), answer.orders, state.seenOrders);
  state.seenOrders = new Set(answer.orders.map((order) => order.seq));
}

async function refreshLatency() {
  const latencies = await Promise.all(
    state.session.gateways.map(async (gateway) => ({
      gateway,
      data: await call(`/v1/latency?gateway=${encodeURIComponent(gateway)}`),
    })),
  );
  renderLatency(byId("latency-charts"), latencies);
}

function drawQuotes() {
  renderQuotes(byId("quotes-body"), state.session.allowed_symbols, state.quotes);
}

let loops;

function onMessage(message) {
  switch (message.event) {
    case "SNAPSHOT":
      for (const quote of message.quotes ?? []) state.quotes.set(quote.symbol, quote);
      if (Array.isArray(message.positions)) {
        state.positions = new Map(message.positions.map((position) => [position.ticket, position]));
        drawPositions();
      }
      if (Array.isArray(message.orders)) {
        state.pending = new Map(message.orders.map((order) => [order.ticket, order]));
        drawPending();
      }
      drawQuotes();
      break;
    case "QUOTE":
      state.quotes.set(message.symbol, message);
      scheduleQuotes();
      break;
    case "POSITION_MODIFIED":
      state.positions.set(message.position.ticket, message.position);
      drawPositions();
      break;
    case "POSITION_CLOSED":
      state.positions.delete(message.ticket);
      drawPositions();
      loops?.orders.poke();
      loops?.account.poke();
      break;
    case "DEAL":
      // A fill: the position it opened or changed, the order's outcome and the account move
      loops?.positions.poke();
      loops?.orders.poke();
      loops?.account.poke();
      break;
    case "LINK_STATE":
    case "STREAM_STATE":
      loops?.health.poke();
      break;
    default:
      if (
        typeof message.event === "string" &&
        message.event.startsWith("ORDER_") &&
        message.order
      ) {
        if (message.order.state === "PLACED")
          state.pending.set(message.order.ticket, message.order);
        else state.pending.delete(message.order.ticket);
        drawPending();
        loops?.orders.poke();
      }
  }
}

// Quotes tick many times a second: draw at most every 250 ms
let quoteTimer;
function scheduleQuotes() {
  if (quoteTimer !== undefined) return;
  quoteTimer = setTimeout(() => {
    quoteTimer = undefined;
    drawQuotes();
  }, 250);
}

function follow(gateway) {
  state.stream?.close();
  state.quotes = new Map();
  state.pending = new Map();
  drawQuotes();
  state.stream = openStream({
    gateway,
    symbols: state.session.allowed_symbols,
    onMessage,
    onState: (text) => {
      byId("stream-state").textContent = `(${text})`;
    },
  });
}

async function boot() {
  let session;
  try {
    session = await call("/session");
  } catch {
    return toLogin();
  }
  state.session = session;
  state.gateway = session.default_gateway;
  setCsrfToken(session.csrf_token);
  byId("agent-name").textContent = session.agent;
  byId("role").textContent =
    session.auth === "none" ? "no token (api.auth: none)" : `${session.role} session`;
  if (session.auth === "none") byId("logout").remove();
  const select = byId("gateway");
  select.replaceChildren(...session.gateways.map((name) => el("option", { value: name }, name)));
  select.value = state.gateway;
  setupControls({
    role: session.role,
    gateways: session.gateways,
    onChanged: () => loops.health.poke(),
  });
  state.pendingSource = "route";
  follow(state.gateway);
  loops = {
    health: every(2000, refreshHealth),
    account: every(5000, refreshAccount),
    positions: every(2000, refreshPositions),
    pending: every(2000, refreshPending),
    orders: every(2000, refreshOrders),
    latency: every(5000, refreshLatency),
  };
  select.addEventListener("change", () => {
    state.gateway = select.value;
    follow(state.gateway);
    for (const loop of Object.values(loops)) loop.poke();
  });
  byId("outcome-filter").addEventListener("change", () => {
    state.seenOrders = new Set();
    loops.orders.poke();
  });
  byId("logout").addEventListener("click", async () => {
    state.stream?.close();
    await call("/logout", { method: "POST" }).catch(() => {});
    toLogin();
  });
}

void boot();
