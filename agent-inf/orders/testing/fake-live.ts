/**
 * Test-only: a LiveMarket whose contents the test sets, recording what the order path hands it
 * (remember), the orders of ours it was told of with their answers (ownOrder), and the
 * placements and cancels it was told of. Production code never imports it.
 */
import type { AccountInfo, SymbolInfo, TradeReply } from "../../../shared/protocol/index.ts";
import type { LiveMarket, OwnOrder } from "../../live-view/live-view.ts";

export class FakeLive implements LiveMarket {
  account_: AccountInfo | undefined;
  positions_: ReturnType<LiveMarket["positions"]>;
  orders_: ReturnType<LiveMarket["orders"]>;
  readonly symbols = new Map<string, SymbolInfo>();
  readonly remembered: Parameters<LiveMarket["remember"]>[0][] = [];
  readonly expectedOrders: number[] = [];
  readonly gone: number[] = [];
  /** Each order of ours and the FILLED reply it was finished with (null: another answer). */
  readonly own: { order: OwnOrder; filled: TradeReply | null | "pending" }[] = [];
  positions() {
    return this.positions_;
  }
  orders() {
    return this.orders_;
  }
  account() {
    return this.account_;
  }
  symbol(name: string) {
    return this.symbols.get(name);
  }
  remember(data: Parameters<LiveMarket["remember"]>[0]) {
    this.remembered.push(data);
  }
  ownOrder(order: OwnOrder) {
    const entry: (typeof this.own)[number] = { order, filled: "pending" };
    this.own.push(entry);
    return {
      finish: (filled: TradeReply | undefined) => {
        entry.filled = filled ?? null;
      },
    };
  }
  expectOrder(ticket: number) {
    this.expectedOrders.push(ticket);
  }
  orderGone(ticket: number) {
    this.gone.push(ticket);
  }
}
