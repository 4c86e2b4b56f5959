/**
 * What the pending-order commands print (format.ts renders the rest): the pending orders as a
 * table, an order as one line, MT5's order check and the margin and profit calculations. Pure
 * functions of the API's answer, read field by field.
 */
import { ExitCode } from "../../shared/cli.ts";
import { asArray, asObject, fixed, num, type Obj, stop, str, table } from "./format-kit.ts";

export function formatPendingOrders(data: Obj): string {
  const orders = asArray(data["orders"]);
  if (orders.length === 0) return "no pending orders\n";
  const header = [
    "TICKET",
    "SYMBOL",
    "TYPE",
    "VOLUME",
    "PRICE",
    "STOPLIMIT",
    "SL",
    "TP",
    "EXPIRES",
  ];
  const rows = orders.map((item) => {
    const o = asObject(item) ?? {};
    return [
      String(o["ticket"] ?? "?"),
      String(o["symbol"] ?? "?"),
      String(o["type"] ?? "?"),
      String(o["volume_current"] ?? "?"),
      String(o["price_open"] ?? "?"),
      stop(o["price_stoplimit"]),
      stop(o["sl"]),
      stop(o["tp"]),
      expiry(o),
    ];
  });
  return `${table([header, ...rows], new Set([0, 3, 4, 5, 6, 7]))}\n`;
}

/** One order in a line: `order 100000042 BUY_LIMIT EURUSD 0.1 at 1.095 sl 1.094 PLACED`. */
export function orderLine(order: Obj): string {
  const stoplimit = num(order["price_stoplimit"]);
  return [
    `order ${String(order["ticket"] ?? "?")}`,
    `${String(order["type"] ?? "?")} ${String(order["symbol"] ?? "?")} ${String(order["volume_current"] ?? "?")}`,
    `at ${String(order["price_open"] ?? "?")}${stoplimit === undefined ? "" : ` limit ${stoplimit}`}`,
    `sl ${stop(order["sl"])}`,
    `tp ${stop(order["tp"])}`,
    `expires ${expiry(order)}`,
    String(order["state"] ?? ""),
  ].join("  ");
}

/** MT5's verdict on an order (OrderCheck): exit 0 when it would pass, 6 when it would not. */
export function formatOrderCheck(data: Obj): { text: string; exit: number } {
  const check = asObject(data["check"]) ?? {};
  const retcode = num(check["retcode"]);
  const passes = retcode === 0;
  const money = (key: string) => fixed(num(check[key]), 2);
  const rows = [
    [
      "verdict",
      `${passes ? "would pass" : "would be refused"}: ${str(check["comment"]) ?? "?"}${passes ? "" : ` (retcode ${retcode ?? "?"})`}`,
    ],
    ["balance", money("balance")],
    ["equity", `${money("equity")}  (floating ${money("profit")})`],
    [
      "margin after",
      `${money("margin")}  free ${money("margin_free")}  level ${fixed(num(check["margin_level"]), 1)} %`,
    ],
  ];
  return { text: `${table(rows)}\n`, exit: passes ? ExitCode.OK : ExitCode.REJECTED };
}

export function formatCalc(data: Obj): string {
  const margin = num(data["margin"]);
  return margin !== undefined
    ? `margin ${fixed(margin, 2)}\n`
    : `profit ${fixed(num(data["profit"]), 2)}\n`;
}

function expiry(order: Obj): string {
  const type = str(order["type_time"]) ?? "?";
  const at = num(order["time_expiration"]);
  return type === "GTC" || at === undefined || at === 0
    ? type
    : `${type} ${new Date(at).toISOString().replace(".000Z", "Z")}`;
}
