/** What reconciling one journaled intent with the broker found (reconcile.ts, reconcile-pending.ts). */
import type { Reply } from "../../shared/protocol/index.ts";

export type Reconciliation =
  /** MT5 shows it happened: record FILLED with this reply. */
  | { readonly state: "FILLED"; readonly reply: Reply }
  /** MT5 shows nothing: it never executed, the client may send the same intent again. */
  | { readonly state: "NOT_EXECUTED"; readonly reply: null }
  /** Cannot tell yet (backend unreachable); try again later. */
  | { readonly state: "UNKNOWN"; readonly reason: string };
