/**
 * Test-only: the handshake half of BridgeLink.mqh, line by line (EA-LINK §6): dial only once
 * the terminal is logged in and connected (LinkAccountReady), AUTH with a fresh nonce
 * (LinkDial), check the gateway's proof before saying anything else (LinkOnChallenge), take
 * HELLO_ACK (LinkOnHelloAck), and redial when the account changes (LinkIdentityChange). The
 * socket side lives in fake-terminal.ts.
 */
import type { EaRecord, FlatObject } from "./ea-json.ts";
import {
  AUTH_EA_LABEL,
  AUTH_GW_LABEL,
  AUTH_PROTO,
  authEqual,
  authIsHex256,
  authProof,
  NonceSource,
} from "./fake-auth.ts";
import { helloFields } from "./fake-dispatch.ts";
import type { FakeEaState } from "./fake-reads.ts";

export const MAX_IN_FRAME = 65_536;
export const HANDSHAKE_TIMEOUT_MS = 5000;
export const BACKOFF_MIN_MS = 250;
export const BACKOFF_MAX_MS = 5000;
export const HEARTBEAT_MIN_MS = 200;
export const HEARTBEAT_MAX_MS = 10_000;
export const HEARTBEAT_DEFAULT_MS = 1000;

export type LinkState = "IDLE" | "WAIT_CHALLENGE" | "WAIT_ACK" | "READY";

/** What the terminal does after a handshake frame. */
export type LinkStep =
  | { readonly kind: "send"; readonly record: EaRecord; readonly state: LinkState }
  | { readonly kind: "ready"; readonly heartbeatMs: number }
  /** LinkDrop; `backoffMax` when the EA sets g_backoff = BACKOFF_MAX_MS first. */
  | { readonly kind: "drop"; readonly reason: string; readonly backoffMax: boolean };

/** g_helloLogin/Server/Mode: the identity the last HELLO announced. */
interface Announced {
  readonly login: number;
  readonly server: string;
  readonly mode: string;
}

export class FakeLinkAuth {
  readonly #ea: FakeEaState;
  readonly #secret: () => string;
  readonly #logOnce: (key: string, text: string) => void;
  readonly #nonces = new NonceSource();
  #eaNonce = "";
  #announced: Announced | undefined;

  constructor(ea: FakeEaState, secret: () => string, logOnce: (key: string, text: string) => void) {
    this.#ea = ea;
    this.#secret = secret;
    this.#logOnce = logOnce;
  }

  /** LinkAccountReady: a HELLO before login would say login 0 and trade mode DEMO. */
  accountReady(): boolean {
    const { login } = this.#ea.identity;
    const connected = this.#ea.status.terminal_connected;
    if (login !== 0 && connected) return true;
    this.#logOnce(
      "wait-login",
      `waiting for the terminal to log in to a trade account and connect to its server (login ${login}, connected ${connected ? "yes" : "no"}) before dialing the gateway`,
    );
    return false;
  }

  /** LinkIdentityChange: "" while the account behind the session is the one HELLO announced. */
  identityChange(): string {
    const { login, server, accountTradeMode } = this.#ea.identity;
    const was = this.#announced;
    if (was === undefined) return "";
    if (login === was.login && server === was.server && accountTradeMode === was.mode) return "";
    return `account changed from ${was.login}@${was.server} (${was.mode}) to ${login}@${server} (${accountTradeMode})`;
  }

  /** LinkDial's first frame: only a fresh nonce. */
  auth(): EaRecord {
    const ea = this.#ea;
    const now = ea.clock.monotonic();
    this.#eaNonce = this.#nonces.next(this.#secret(), {
      timeLocalS: ea.clock.now() / 1000,
      tickCountMs: now,
      microseconds: (now - ea.startedAt) * 1000,
      rand: Math.floor(Math.random() * 32_768),
    });
    return { type: "AUTH", proto: AUTH_PROTO, ea_nonce: this.#eaNonce };
  }

  /** LinkHandleFrame before READY. */
  handshakeFrame(type: string | undefined, frame: FlatObject, state: LinkState): LinkStep {
    if (type === "HELLO_ACK") return this.#helloAck(frame, state);
    if (type === "CHALLENGE" && state === "WAIT_CHALLENGE") return this.#challenge(frame);
    return drop(`unexpected ${type} during the handshake`);
  }

  /** LinkOnChallenge: the gateway proves the secret before the EA says anything about its account. */
  #challenge(frame: FlatObject): LinkStep {
    const gwNonce = frame.string("gw_nonce");
    const gwProof = frame.string("gw_proof");
    if (!authIsHex256(gwNonce) || !authIsHex256(gwProof)) return drop("malformed CHALLENGE");
    const secret = this.#secret();
    const expected = authProof(secret, AUTH_GW_LABEL, this.#eaNonce, gwNonce);
    if (!authEqual(gwProof, expected)) {
      this.#logOnce(
        "gw-proof",
        `the listener on 127.0.0.1 did not prove the shared secret: InpSecret differs from the gateway's secret_file, or another program holds the port. Nothing else was sent`,
      );
      return { kind: "drop", reason: "gateway proof did not verify", backoffMax: true };
    }
    const proof = authProof(secret, AUTH_EA_LABEL, this.#eaNonce, gwNonce);
    const { login, server, accountTradeMode } = this.#ea.identity;
    this.#announced = { login, server, mode: accountTradeMode };
    return { kind: "send", record: helloFields(this.#ea, proof), state: "WAIT_ACK" };
  }

  /** LinkOnHelloAck. */
  #helloAck(frame: FlatObject, state: LinkState): LinkStep {
    const ok = frame.boolean("ok");
    if (ok === undefined) return drop("HELLO_ACK without ok");
    if (!ok) {
      const reason = frame.string("reason") ?? "unspecified";
      this.#logOnce(`refused:${reason}`, `gateway refused the handshake: ${reason}`);
      return { kind: "drop", reason: `handshake refused: ${reason}`, backoffMax: true };
    }
    if (state !== "WAIT_ACK") return drop("HELLO_ACK before HELLO");
    let heartbeatMs = HEARTBEAT_DEFAULT_MS;
    if (frame.has("heartbeat_ms")) {
      const value = frame.integer("heartbeat_ms");
      if (value === undefined || value < HEARTBEAT_MIN_MS || value > HEARTBEAT_MAX_MS) {
        return drop("heartbeat_ms outside 200-10000");
      }
      heartbeatMs = value;
    }
    return { kind: "ready", heartbeatMs };
  }
}

function drop(reason: string): LinkStep {
  return { kind: "drop", reason, backoffMax: false };
}
