/**
 * Start-up of the simulated broker's books: a fresh state directory gets its first snapshot, an
 * existing one is replayed (snapshot and deal history, then every logged record) into the books
 * and the feed. State written for another account is refused rather than reused or reset.
 */
import { AgentError, FaultCode } from "../../../shared/errors.ts";
import { Book } from "./book.ts";
import type { ResolvedAccount } from "./options.ts";
import type { QuoteFeed } from "./quotes.ts";
import type { SimStore } from "./store.ts";

export interface RestoreTarget {
  readonly stateDir: string;
  readonly account: ResolvedAccount;
  readonly feed: QuoteFeed;
}

export interface Loaded {
  readonly book: Book;
  /** Symbols whose volatility setting changed since the state was written (not yet persisted). */
  readonly volatilityChanged: readonly string[];
}

export function loadBook(store: SimStore, target: RestoreTarget): Loaded {
  const loaded = store.load();
  if (loaded === undefined) {
    const book = new Book(target.account.balance);
    store.initialize(book.snapshot(), target.feed.snapshot());
    return { book, volatilityChanged: [] };
  }
  const stored = loaded.snapshot.account;
  const wanted = target.account;
  if (
    stored.login !== wanted.login ||
    stored.currency !== wanted.currency ||
    stored.margin_mode !== wanted.marginMode
  ) {
    throw new AgentError(
      FaultCode.CONFIG_INVALID,
      `sim: state in ${target.stateDir} belongs to login ${stored.login} ` +
        `(${stored.currency}, ${stored.margin_mode}); options ask for login ${wanted.login} ` +
        `(${wanted.currency}, ${wanted.marginMode})`,
    );
  }
  const book = Book.fromSnapshot(loaded.snapshot.book, loaded.deals);
  let feed = loaded.snapshot.feed;
  for (const { record, feed: recordFeed } of loaded.records) {
    book.apply(record);
    feed = recordFeed;
  }
  const volatilityChanged = target.feed.restore(feed);
  return { book, volatilityChanged };
}
