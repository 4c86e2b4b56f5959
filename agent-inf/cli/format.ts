/**
 * What agent-inf's one-shot commands print: the local API's answer rendered for people (aligned,
 * concise) or passed through as JSON, and the exit code it maps to. Pure functions of the answer,
 * so every outcome is tested without an agent. The API's JSON is read defensively (field by
 * field, unknown fields ignored): the CLI may talk to an agent of another version.
 */
import { ExitCode } from "../../shared/cli.ts";
import type { ApiView } from "./command.ts";

export interface Rendered {
  readonly stdout: string;
  readonly stderr: string;
  readonly exit: number;
}

type Obj = Readonly<Record<string, unknown>>;

export function renderApiResponse(
  view: ApiView,
  httpStatus: number,
  body: unknown,
  json: boolean,
  nowMs: number = Date.now(),
): Rendered {
  const data = asObject(body);
  const error = asObject(data?.["error"]);
  let human: { text: string; exit: number; stderr?: string };
  if (view === "order-result" && typeof data?.["outcome"] === "string") {
    human = orderResult(data);
  } else if (view === "order-record" && data !== undefined && "order" in data) {
    human = orderRecord(data);
  } else if (error !== undefined || httpStatus >= 300 || data === undefined) {
    const line = apiError(httpStatus, error);
    return { stdout: json ? jsonLine(body) : "", stderr: `${line}\n`, exit: ExitCode.FAILURE };
  } else {
    // status: exit 0 only when the agent judges every gateway ok (issue 18)
    const healthy = view !== "health" || data["status"] === "ok";
    human = { text: VIEWS[view](data, nowMs), exit: healthy ? ExitCode.OK : ExitCode.FAILURE };
  }
  return {
    stdout: json ? jsonLine(body) : human.text,
    stderr: human.stderr ?? "",
    exit: human.exit,
  };
}

const VIEWS: Readonly<Record<ApiView, (data: Obj, nowMs: number) => string>> = {
  "order-result": (data) => orderResult(data).text,
  "order-record": (data) => orderRecord(data).text,
  account: (data) => formatAccount(asObject(data["account"]) ?? data, str(data["gateway"])),
  positions: (data) => formatPositions(asArray(data["positions"])),
  symbol: (data, now) =>
    formatSymbol(asObject(data["symbol_info"]) ?? asObject(data["symbol"]) ?? data, now),
  health: (data, now) => formatHealth(data, now),
  control: (data) => formatControl(data),
};

/** One line for a refusal of the API (its error object), or for an answer without one. */
export function apiError(httpStatus: number, error: Obj | undefined): string {
  if (httpStatus === 401 || httpStatus === 403)
    return `the agent refused the API token (HTTP ${httpStatus}): check api.token_file`;
  if (error === undefined) return `the agent answered HTTP ${httpStatus} without a result`;
  const field = str(error["field"]);
  return `${str(error["code"]) ?? "ERROR"}: ${str(error["message"]) ?? "no message"}${field === undefined ? "" : ` (field ${field})`}`;
}

// ---------------------------------------------------------------------------------------------
// Orders

function orderResult(data: Obj): { text: string; exit: number } {
  const outcome = str(data["outcome"]) ?? "?";
  const coid = str(data["client_order_id"]) ?? "?";
  const gateway = str(data["gateway"]);
  const ids = `  client_order_id ${coid}${gateway === undefined ? "" : `  gateway ${gateway}`}\n`;
  const reply = asObject(data["reply"]) ?? {};
  switch (outcome) {
    case "FILLED":
      return { text: `FILLED  ${fill(reply)}\n${ids}`, exit: ExitCode.OK };
    case "REJECTED":
      return { text: `${outcome}  ${replyError(reply)}\n${ids}`, exit: ExitCode.REJECTED };
    case "ERROR":
      return { text: `${outcome}  ${replyError(reply)}\n${ids}`, exit: ExitCode.ORDER_ERROR };
    case "DENIED": {
      const denial = asObject(data["denial"]) ?? {};
      const context = Object.entries(asObject(denial["context"]) ?? {})
        .map(([key, value]) => `${key}=${typeof value === "number" ? plain(value) : String(value)}`)
        .join(", ");
      const detail = `${str(denial["code"]) ?? "?"}: ${str(denial["message"]) ?? ""}${context === "" ? "" : ` (${context})`}`;
      return {
        text: `DENIED  ${detail}\n  not sent: refused by this host's risk checks\n${ids}`,
        exit: ExitCode.DENIED,
      };
    }
    case "UNKNOWN":
      return {
        text: `UNKNOWN  ${str(data["reason"]) ?? "no answer from the gateway"}\n${ids}  the order may or may not have executed; check later with: agent-inf order ${coid}${gateway === undefined ? "" : ` --gateway ${gateway}`}\n`,
        exit: ExitCode.UNKNOWN_OUTCOME,
      };
    default:
      return { text: `${outcome}\n${ids}`, exit: ExitCode.FAILURE };
  }
}

/** What the gateway recorded for a client_order_id (GET /v1/orders/ID). */
function orderRecord(data: Obj): { text: string; exit: number; stderr?: string } {
  const gateway = str(data["gateway"]);
  const record = asObject(data["order"]);
  if (record === undefined) {
    const text = `NEVER SEEN  the gateway${gateway === undefined ? "" : ` ${gateway}`} has no order with this id: it was not executed\n`;
    return { text, exit: ExitCode.FAILURE };
  }
  const state = str(record["state"]) ?? "?";
  const reply = asObject(record["reply"]);
  const received = num(record["received_at"]);
  const head = `${state}  ${str(record["action"]) ?? "?"}${received === undefined ? "" : `  received ${new Date(received).toISOString()}`}`;
  const detail =
    reply === undefined
      ? ""
      : `  ${reply["status"] === "FILLED" ? fill(reply) : replyError(reply)}\n`;
  const ids = `  client_order_id ${str(record["client_order_id"]) ?? "?"}${gateway === undefined ? "" : `  gateway ${gateway}`}\n`;
  const exit =
    state === "FILLED"
      ? ExitCode.OK
      : state === "PENDING" || state === "UNKNOWN"
        ? ExitCode.UNKNOWN_OUTCOME
        : state === "REJECTED"
          ? ExitCode.REJECTED
          : state === "NOT_EXECUTED"
            ? ExitCode.ORDER_ERROR
            : ExitCode.FAILURE;
  return { text: `${head}\n${detail}${ids}`, exit };
}

function fill(reply: Obj): string {
  const parts: string[] = [];
  const ticket = num(reply["ticket"]);
  if (ticket !== undefined) parts.push(`ticket ${ticket}`);
  const volume = num(reply["volume"]);
  const price = num(reply["price"]);
  if (volume !== undefined)
    parts.push(`${volume} lots${price === undefined ? "" : ` at ${price}`}`);
  if ("sl" in reply) parts.push(`sl ${stop(reply["sl"])}`);
  if ("tp" in reply) parts.push(`tp ${stop(reply["tp"])}`);
  const remaining = num(reply["remaining_volume"]);
  if (remaining !== undefined)
    parts.push(remaining === 0 ? "position closed" : `${remaining} lots remain`);
  if (reply["duplicate"] === true)
    parts.push("(a repeated id: the first outcome, nothing executed again)");
  return parts.join("  ");
}

function replyError(reply: Obj): string {
  const retcode = num(reply["retcode"]);
  return `${str(reply["error_code"]) ?? str(reply["status"]) ?? "?"}${retcode === undefined ? "" : ` (retcode ${retcode})`}: ${str(reply["error_msg"]) ?? ""}`;
}

// ---------------------------------------------------------------------------------------------
// Account and market

export function formatAccount(account: Obj, gateway?: string): string {
  const money = (key: string) => fixed(num(account[key]), 2);
  const level = num(account["margin_level"]);
  const rows = [
    ["gateway", gateway ?? "(default)"],
    [
      "account",
      `${String(account["login"] ?? "?")} on ${String(account["server"] ?? "?")} (${String(account["name"] ?? "")})`,
    ],
    [
      "currency",
      `${String(account["currency"] ?? "?")}  leverage 1:${String(account["leverage"] ?? "?")}  ${String(account["margin_mode"] ?? "")}`,
    ],
    ["balance", money("balance")],
    ["equity", `${money("equity")}  (floating ${money("profit")})`],
    [
      "margin",
      `${money("margin")}  free ${money("margin_free")}  level ${level === undefined || level === 0 ? "-" : `${fixed(level, 1)} %`}`,
    ],
    ["trading", account["trade_allowed"] === false ? "NOT ALLOWED by the account" : "allowed"],
  ];
  return `${table(rows)}\n`;
}

export function formatPositions(positions: readonly unknown[]): string {
  if (positions.length === 0) return "no open positions\n";
  const header = ["TICKET", "SYMBOL", "SIDE", "VOLUME", "OPEN", "CURRENT", "SL", "TP", "PROFIT"];
  const rows = positions.map((item) => {
    const p = asObject(item) ?? {};
    return [
      String(p["ticket"] ?? "?"),
      String(p["symbol"] ?? "?"),
      String(p["side"] ?? "?"),
      String(p["volume"] ?? "?"),
      String(p["price_open"] ?? "?"),
      String(p["price_current"] ?? "?"),
      stop(p["sl"]),
      stop(p["tp"]),
      fixed(num(p["profit"]), 2),
    ];
  });
  return `${table([header, ...rows], new Set([0, 3, 4, 5, 6, 7, 8]))}\n`;
}

export function formatSymbol(info: Obj, nowMs: number): string {
  const quoteTime = num(info["quote_time"]);
  const age =
    quoteTime === undefined ? "" : `  quote ${fixed((nowMs - quoteTime) / 1000, 1)} s old`;
  const filling = asArray(info["filling_modes"]).map(String).join(",");
  const rows = [
    ["symbol", `${String(info["symbol"] ?? "?")}  ${String(info["description"] ?? "")}`],
    [
      "bid/ask",
      `${String(info["bid"] ?? "?")} / ${String(info["ask"] ?? "?")}  spread ${String(info["spread"] ?? "?")} points${age}`,
    ],
    [
      "contract",
      `${String(info["contract_size"] ?? "?")}  digits ${String(info["digits"] ?? "?")}  point ${String(info["point"] ?? "?")}  tick value ${String(info["tick_value"] ?? "?")}`,
    ],
    [
      "volume",
      `min ${String(info["volume_min"] ?? "?")}  max ${String(info["volume_max"] ?? "?")}  step ${String(info["volume_step"] ?? "?")}`,
    ],
    [
      "stops",
      `level ${String(info["stops_level"] ?? "?")} points  freeze ${String(info["freeze_level"] ?? "?")} points`,
    ],
    [
      "trading",
      `${String(info["trade_mode"] ?? "?")}  execution ${String(info["execution_mode"] ?? "?")}  filling ${filling}  session ${info["session_open"] === true ? "open" : "CLOSED"}`,
    ],
  ];
  return `${table(rows)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Status and operator commands

export function formatHealth(health: Obj, nowMs: number): string {
  const lines = [
    `agent ${String(health["agent"] ?? "?")} ${String(health["version"] ?? "")}: ${String(health["status"] ?? "?")}`,
  ];
  const crypto = asObject(health["crypto"]);
  if (crypto !== undefined) {
    const detail = str(crypto["detail"]);
    lines.push(
      `crypto ${String(crypto["secretbox"] ?? "?")}${detail === undefined ? "" : ` (${detail})`}`,
    );
  }
  for (const item of asArray(health["gateways"])) {
    const lane = asObject(item) ?? {};
    const latency = asObject(lane["latency_ms"]);
    const offset = num(lane["clock_offset_ms"]);
    const breaker = asObject(lane["breaker"]) ?? {};
    const since = num(breaker["since"]);
    const gatewayState = str(lane["gateway_trading_state"]);
    const link = str(lane["mt5_link"]);
    const detail = str(lane["mt5_detail"]);
    const rows = [
      [
        "gateway",
        `${String(lane["gateway"] ?? "?")}  ${String(lane["endpoint"] ?? "")}  ${lane["connected"] === true ? "connected" : "NOT CONNECTED"}`,
      ],
      [
        "heartbeat",
        `${String(lane["heartbeat"] ?? "?")}${latency === undefined ? "" : `  rtt p50 ${ms(num(latency["p50"]))}  p99 ${ms(num(latency["p99"]))}`}${offset === undefined ? "" : `  clock offset ${signed(offset)} ms`}`,
      ],
      [
        "breaker",
        breaker["engaged"] === true
          ? `ENGAGED${since === undefined ? "" : ` for ${fixed((nowMs - since) / 1000, 1)} s`}: ${String(breaker["reason"] ?? "")}`
          : "reset",
      ],
      [
        "trading",
        `${String(lane["trading_state"] ?? "?")} (${String(lane["trading_state_reason"] ?? "")})${gatewayState === undefined ? "" : `  gateway: ${gatewayState}`}`,
      ],
      [
        "mt5",
        `${link ?? (lane["connected"] === true ? "unknown (no PING answered yet)" : "unknown (gateway not reachable)")}${detail === undefined ? "" : ` (${detail})`}`,
      ],
    ];
    for (const item of asArray(lane["problems"])) {
      const problem = asObject(item) ?? {};
      rows.push([
        problem["level"] === "warn" ? "WARNING" : "PROBLEM",
        str(problem["message"]) ?? String(problem["code"] ?? "?"),
      ]);
    }
    lines.push(table(rows));
  }
  return `${lines.join("\n")}\n`;
}

function formatControl(data: Obj): string {
  const lanes = asArray(data["gateways"]);
  if (lanes.length === 0) return "done\n";
  const rows = lanes.map((item) => {
    const lane = asObject(item) ?? {};
    const breaker = asObject(lane["breaker"]);
    const engaged = breaker === undefined ? lane["breaker_engaged"] : breaker["engaged"];
    const reason = str(lane["trading_state_reason"]);
    return [
      String(lane["gateway"] ?? "?"),
      `trading ${String(lane["trading_state"] ?? "?")}${reason === undefined ? "" : ` (${reason})`}`,
      `breaker ${engaged === true ? "ENGAGED" : engaged === false ? "reset" : "?"}`,
    ];
  });
  return `${table(rows)}\n`;
}

// ---------------------------------------------------------------------------------------------

/** Columns separated by two spaces; `right` holds the indexes of right-aligned columns. */
export function table(
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  return rows
    .map((row) =>
      row
        .map((cell, index) => {
          const width = widths[index] ?? 0;
          return right.has(index) ? cell.padStart(width) : cell.padEnd(width);
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Milliseconds with microsecond precision. */
export function ms(value: number | undefined): string {
  return value === undefined ? "?" : `${value.toFixed(3)} ms`;
}

/** 12 significant digits, like the agent's own denial lines: hides float noise (0.30000000000000004). */
function plain(value: number): string {
  return Number.isInteger(value) || !Number.isFinite(value)
    ? String(value)
    : String(Number(value.toPrecision(12)));
}

export function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(3)}`;
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? "?" : value.toFixed(digits);
}

function stop(value: unknown): string {
  return typeof value === "number" ? String(value) : "-";
}

function jsonLine(body: unknown): string {
  return `${JSON.stringify(body)}\n`;
}

function asObject(value: unknown): Obj | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Obj)
    : undefined;
}

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
