/**
 * The broker cross-check (issue 12 §5): at start, what the broker holds with the gateway's comment
 * tag is matched against the journal, so a journal that lost lines cannot let the same signed
 * intent execute again.
 *
 * Every deal, position, pending order and history order carrying a tag (PROTOCOL.md §8) inside
 * the journal's retention window is looked up among the journal's entries. A tag the journal does
 * not know is journaled as a broker tag (a T record): the tag is a hash of the client and its
 * client_order_id, so the id itself cannot be recovered, but when that id arrives again its tag
 * matches and the gateway answers from the broker instead of executing (executor.ts). An entry the
 * journal says NOT_EXECUTED whose tag the broker holds is put back to UNKNOWN, so reconciliation
 * decides it again from what the broker shows.
 */
import { commentTag, commentTagOf, type TradeOrder } from "../../shared/protocol/index.ts";
import type { Backend, DealQuery } from "../backend/backend.ts";
import { findHistoryOrder } from "../backend/market-reads.ts";
import type { BrokerTag, Journal, JournalEntry } from "./journal.ts";

export interface CrossCheckFindings {
  /** Tagged items the broker showed. */
  readonly scanned: number;
  /** Tags no entry explains, not yet journaled. */
  readonly unknown: readonly BrokerTag[];
  /** Entries recorded NOT_EXECUTED whose tag the broker holds. */
  readonly contradicted: readonly JournalEntry[];
}

/** Read what the broker holds and compare it with the journal. Throws when the broker cannot answer. */
export async function crossCheck(
  journal: Journal,
  backend: Backend,
  /** Deals and history orders are searched in this window (Unix ms). */
  window: DealQuery,
): Promise<CrossCheckFindings> {
  const found = new Map<string, BrokerTag>();
  let scanned = 0;
  const see = (comment: string, time: number, evidence: string) => {
    const tag = commentTagOf(comment);
    if (tag === undefined) return;
    scanned += 1;
    const known = found.get(tag);
    if (known === undefined || time < known.time) found.set(tag, { tag, time, evidence });
  };
  const history: TradeOrder[] = [];
  const [deals, positions, orders] = await Promise.all([
    backend.deals(window),
    backend.positions(),
    backend.orders(),
    // Every page of the window's order history (a search that accepts nothing reads them all)
    findHistoryOrder(backend.market, { kind: "range", ...window }, (order) => {
      history.push(order);
      return false;
    }),
  ]);
  for (const deal of deals)
    see(deal.comment, deal.time, `deal ${deal.ticket} (position ${deal.position})`);
  for (const position of positions)
    see(position.comment, position.time, `position ${position.ticket}`);
  for (const order of [...orders, ...history])
    see(order.comment, order.time_setup, `order ${order.ticket} (${order.state})`);

  const contradicted: JournalEntry[] = [];
  for (const entry of journal.entries()) {
    const tag = commentTag(entry.brokerKey);
    if (!found.has(tag)) continue;
    found.delete(tag);
    if (entry.state === "NOT_EXECUTED") contradicted.push(entry);
  }
  const unknown = [...found.values()].filter((tag) => journal.brokerTag(tag.tag) === undefined);
  return { scanned, unknown, contradicted };
}
