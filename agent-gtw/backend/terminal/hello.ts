/**
 * The EA's HELLO (docs/EA-LINK.md §6.2), the status fields it shares with the PING reply (§7.1),
 * and the link state those flags give (§7.1 "Link state derived by the gateway"). A HELLO is
 * judged only after its proof (link-auth.ts) checked out.
 */
import type { LinkState, MarginMode } from "../../../shared/protocol/index.ts";
import { EA_PROTOCOL_VERSION, eaProof, type HandshakeRefusal, proofMatches } from "./link-auth.ts";
import { type AccountTradeMode, accountTradeMode, magic, roundOffsetSeconds } from "./mapping.ts";
import { LinkProtocolError, WireFields } from "./wire-fields.ts";

export { EA_PROTOCOL_VERSION } from "./link-auth.ts";

/** The five permission flags, in the order §7.1 names the first false one. */
export const PERMISSION_FLAGS = [
  "terminal_connected",
  "terminal_trade_allowed",
  "ea_trade_allowed",
  "account_trade_allowed",
  "account_trade_expert",
] as const;
export type PermissionFlag = (typeof PERMISSION_FLAGS)[number];

/** What each false flag means to an operator (docs/MT5-SETUP.md §6). */
const FLAG_HINTS: Readonly<Record<PermissionFlag, string>> = {
  terminal_connected: "the terminal is not connected to the trade server",
  terminal_trade_allowed: "the toolbar Algo Trading button is off",
  ea_trade_allowed: "the EA's Allow Algo Trading checkbox is off",
  account_trade_allowed: "the account may not trade (investor password?)",
  account_trade_expert: "the broker does not allow EAs on this account",
};

/** HELLO and PING status fields (§7.1), as the EA sent them. */
export interface EaStatus {
  readonly terminal_connected: boolean;
  readonly terminal_trade_allowed: boolean;
  readonly ea_trade_allowed: boolean;
  readonly account_trade_allowed: boolean;
  readonly account_trade_expert: boolean;
  /** Broker-server ms (§5), whole seconds. */
  readonly server_time: number;
  /** As sent; ServerTime rounds it to 15 minutes. */
  readonly gmt_offset_s: number;
}

export interface EaPing extends EaStatus {
  /** Terminal ↔ trade server ping, microseconds. */
  readonly ping_last_us: number;
  readonly uptime_ms: number;
}

export type { AccountTradeMode } from "./mapping.ts";

/** HELLO without `type` and `ea_proof`. */
export interface EaHello {
  readonly proto: number;
  readonly login: number;
  readonly server: string;
  readonly company: string;
  readonly currency: string;
  readonly account_trade_mode: AccountTradeMode;
  readonly margin_mode: MarginMode;
  readonly terminal_build: number;
  readonly ea_version: string;
  readonly magic: number;
  readonly max_lots: number;
  readonly deviation: number;
  readonly chart_symbol: string;
  readonly dedup_entries: number;
  readonly status: EaStatus;
}

export type HelloVerdict =
  | { readonly ok: true; readonly hello: EaHello }
  | { readonly ok: false; readonly reason: HandshakeRefusal; readonly detail: string };

/** The nonces of this connection's handshake (§6.1). */
export interface HandshakeNonces {
  readonly eaNonce: string;
  readonly gwNonce: string;
}

/**
 * Judge the frame after CHALLENGE: the EA's proof before anything else (a peer without the
 * secret learns nothing about what else is wrong), then the protocol version, the fields, and
 * the account: login 0 means the terminal is not logged in yet, and its trade mode would read
 * as DEMO, so such a HELLO is refused rather than kept for the session.
 */
export function checkHello(
  message: Readonly<Record<string, unknown>>,
  secret: string,
  nonces: HandshakeNonces,
  expectedLogin: number | undefined,
): HelloVerdict {
  if (message["type"] !== "HELLO") {
    return { ok: false, reason: "BAD_HELLO", detail: "the frame after CHALLENGE was not a HELLO" };
  }
  if (!proofMatches(message["ea_proof"], eaProof(secret, nonces.eaNonce, nonces.gwNonce))) {
    return { ok: false, reason: "BAD_PROOF", detail: "ea_proof does not match the secret" };
  }
  if (message["proto"] !== EA_PROTOCOL_VERSION) {
    return {
      ok: false,
      reason: "PROTO_UNSUPPORTED",
      detail: `proto was ${String(message["proto"])}, this gateway speaks ${EA_PROTOCOL_VERSION}`,
    };
  }
  let hello: EaHello;
  try {
    hello = parseHello(new WireFields(message, "HELLO"));
  } catch (error) {
    return { ok: false, reason: "BAD_HELLO", detail: (error as Error).message };
  }
  if (hello.login <= 0) {
    return {
      ok: false,
      reason: "NOT_LOGGED_IN",
      detail: `login was ${hello.login}: the terminal is not logged in to a trade account`,
    };
  }
  if (expectedLogin !== undefined && hello.login !== expectedLogin) {
    return {
      ok: false,
      reason: "WRONG_ACCOUNT",
      detail: `login was ${hello.login}, the gateway expects ${expectedLogin}`,
    };
  }
  return { ok: true, hello };
}

function parseHello(fields: WireFields): EaHello {
  const tradeMode = accountTradeMode(fields);
  const marginMode = fields.string("margin_mode");
  if (marginMode !== "HEDGING" && marginMode !== "NETTING") {
    throw new LinkProtocolError(`terminal: HELLO margin_mode was ${marginMode}`);
  }
  return {
    proto: fields.integer("proto"),
    login: fields.integer("login"),
    server: fields.string("server"),
    company: fields.string("company"),
    currency: fields.string("currency"),
    account_trade_mode: tradeMode,
    margin_mode: marginMode,
    terminal_build: fields.integer("terminal_build"),
    ea_version: fields.string("ea_version"),
    magic: magic(fields),
    max_lots: fields.number("max_lots"),
    deviation: fields.integer("deviation"),
    chart_symbol: fields.string("chart_symbol"),
    dedup_entries: fields.integer("dedup_entries"),
    status: parseStatus(fields),
  };
}

export function parseStatus(fields: WireFields): EaStatus {
  const gmtOffset = fields.integer("gmt_offset_s");
  roundOffsetSeconds(gmtOffset); // throws on an impossible offset
  return {
    terminal_connected: fields.boolean("terminal_connected"),
    terminal_trade_allowed: fields.boolean("terminal_trade_allowed"),
    ea_trade_allowed: fields.boolean("ea_trade_allowed"),
    account_trade_allowed: fields.boolean("account_trade_allowed"),
    account_trade_expert: fields.boolean("account_trade_expert"),
    server_time: fields.integer("server_time"),
    gmt_offset_s: gmtOffset,
  };
}

export function parsePing(fields: WireFields): EaPing {
  return {
    ...parseStatus(fields),
    ping_last_us: fields.integer("ping_last_us"),
    uptime_ms: fields.integer("uptime_ms"),
  };
}

/** §7.1: TRADE_DISABLED names the first false flag; UP when all five are true. */
export function stateFromStatus(status: EaStatus): { state: LinkState; detail?: string } {
  const off = PERMISSION_FLAGS.find((flag) => !status[flag]);
  if (off === undefined) return { state: "UP" };
  return { state: "TRADE_DISABLED", detail: `${off} is false: ${FLAG_HINTS[off]}` };
}
