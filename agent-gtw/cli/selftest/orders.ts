/**
 * The selftest's read-only pending-order checks (docs/MT5-SETUP.md §8): GET_ORDERS, the symbol's
 * pending-order modes, ORDER_CHECK, CALC_MARGIN and CALC_PROFIT answer, and their answers agree
 * with each other and with the account. Nothing is sent that could trade.
 */
import {
  type AccountInfo,
  PENDING_ORDER_TYPES,
  Retcode,
  retcodeName,
  type SymbolInfo,
} from "../../../shared/protocol/index.ts";
import { type CheckOrder, PLAIN_TERMS } from "../../backend/pending.ts";
import type { SelftestBackend, StepRecorder } from "./steps.ts";
import { expectThat } from "./trade.ts";

/** Money compared between two answers of MT5: a cent, or a millionth of the amount. */
function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(0.01, Math.abs(b) * 1e-6);
}

/** ORDER_CHECK of a minimum-lot market BUY: what the selftest asks the broker to judge. */
export function minimumBuy(info: SymbolInfo): CheckOrder {
  return {
    symbol: info.symbol,
    type: "BUY",
    volume: info.volume_min,
    price: undefined,
    ...PLAIN_TERMS,
    deviation: 20,
    magic: 0,
    comment: "",
  };
}

export async function runOrderChecks(
  backend: SelftestBackend,
  steps: StepRecorder,
  info: SymbolInfo | undefined,
  account: AccountInfo | undefined,
): Promise<void> {
  await steps.step("orders", async () => {
    const orders = await backend.orders();
    for (const o of orders) {
      const pending = (PENDING_ORDER_TYPES as readonly string[]).includes(o.type);
      expectThat(pending, `order ${o.ticket} is a ${o.type}, not a pending order`);
      expectThat(o.ticket > 0 && o.volume_current <= o.volume_initial, `order ${o.ticket} volumes`);
    }
    return [orders, `${orders.length} pending`];
  });
  if (info === undefined) {
    steps.fail("pending modes", "no symbol info");
    return;
  }
  const symbol = info.symbol;

  await steps.step(`pending modes ${symbol}`, async () => {
    const kinds = (info.order_modes ?? []).filter((m) =>
      ["LIMIT", "STOP", "STOP_LIMIT"].includes(m),
    );
    expectThat(
      info.expiration_modes !== undefined,
      "the EA does not report SYMBOL_EXPIRATION_MODE: it is older than 2.1.0; install the EA of this release",
    );
    return [
      undefined,
      `SYMBOL_ORDER_MODE allows ${kinds.join(", ") || "no pending orders"}; SYMBOL_EXPIRATION_MODE allows ${(info.expiration_modes ?? []).join(", ") || "no lifetime"}`,
    ];
  });

  await steps.step(`order check ${symbol}`, async () => {
    const check = await backend.orderCheck(minimumBuy(info));
    const closed = check.retcode === Retcode.MARKET_CLOSED && !info.session_open;
    expectThat(
      check.retcode === Retcode.CHECK_OK || closed,
      `a BUY of ${info.volume_min} would get ${check.retcode} ${retcodeName(check.retcode)} (${check.comment})`,
    );
    // (The margin after may be below the margin in use: a hedged pair needs less than one leg)
    if (account !== undefined) {
      const balance = account.balance;
      expectThat(
        close(check.balance, balance),
        `balance ${check.balance} ≠ the account's ${balance}`,
      );
    }
    expectThat(
      close(check.margin_free, check.equity - check.margin),
      "margin_free ≠ equity − margin",
    );
    return [
      check,
      `a BUY of ${info.volume_min}: ${check.retcode} ${check.comment}, margin after ${check.margin}, free margin after ${check.margin_free}`,
    ];
  });

  await steps.step(`calc margin ${symbol}`, async () => {
    const margin = await backend.calcMargin({
      symbol,
      side: "BUY",
      volume: info.volume_min,
      price: info.ask,
    });
    expectThat(margin !== undefined && margin > 0, `OrderCalcMargin gave ${margin}`);
    return [
      margin,
      `a BUY of ${info.volume_min} at ${info.ask} needs ${margin} ${account?.currency ?? ""}`.trim(),
    ];
  });

  await steps.step(`calc profit ${symbol}`, async () => {
    const move = 100 * info.point;
    const query = {
      symbol,
      volume: info.volume_min,
      priceOpen: info.bid,
      priceClose: info.bid + move,
    };
    const up = await backend.calcProfit({ ...query, side: "BUY" });
    const down = await backend.calcProfit({ ...query, side: "SELL" });
    expectThat(up !== undefined && up > 0, `a BUY that gains 100 points makes ${up}`);
    // The same move the other way; a conversion into the deposit currency may differ a little
    const mirrored =
      down !== undefined && down < 0 && Math.abs(down + (up as number)) <= (up as number) * 0.01;
    expectThat(mirrored, `the SELL makes ${down}, not about −${up}`);
    return [up, `100 points on ${info.volume_min} lot: BUY ${up}, SELL ${down}`];
  });
}
