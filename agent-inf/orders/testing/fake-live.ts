/**
 * Test-only: a LiveMarket whose contents the test sets, recording what the order path hands it
 * (remember) and which fills, placements and cancels it was told of. Production code never imports it.
 */
import type { AccountInfo, SymbolInfo } from "../../../shared/protocol/index.ts";
import type { LiveMarket } from "../../live-view/live-view.ts";

export class FakeLive implements LiveMarket {
  account_: AccountInfo | undefined;
  positions_: ReturnType<LiveMarket["positions"]>;
  orders_: ReturnType<LiveMarket["orders"]>;
  readonly symbols = new Map<string, SymbolInfo>();
  readonly remembered: Parameters<LiveMarket["remember"]>[0][] = [];
  readonly expected: number[] = [];
  readonly expectedOrders: number[] = [];
  readonly gone: number[] = [];
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
  expectPosition(ticket: number) {
    this.expected.push(ticket);
  }
  expectOrder(ticket: number) {
    this.expectedOrders.push(ticket);
  }
  orderGone(ticket: number) {
    this.gone.push(ticket);
  }
}
