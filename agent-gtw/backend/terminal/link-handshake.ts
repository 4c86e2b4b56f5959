/**
 * The gateway's side of one connection's handshake (docs/EA-LINK.md §6.1, §6.2):
 *
 *   EA → AUTH {proto, ea_nonce}
 *   gateway → CHALLENGE {gw_nonce, gw_proof}      the gateway proves itself first
 *   EA → HELLO {proto, ea_proof, account…}        only after the gateway's proof checked out
 *   gateway → HELLO_ACK {ok, heartbeat_ms | reason}
 *
 * One frame in, one step out; the link server does the I/O, the timing and the logging. Pure
 * apart from the nonce source.
 */
import type { WireObject } from "./framing.ts";
import { checkHello, type EaHello } from "./hello.ts";
import {
  checkAuth,
  gatewayProof,
  type HandshakeRefusal,
  newNonce,
  type RandomBytes,
} from "./link-auth.ts";

export type HandshakeStep =
  /** Send this frame and wait for the next one. */
  | { readonly kind: "reply"; readonly frame: WireObject }
  /** Send HELLO_ACK ok:false with `reason`, then close. */
  | { readonly kind: "refuse"; readonly reason: HandshakeRefusal; readonly detail: string }
  /** The EA proved the secret: hand over the connection. */
  | { readonly kind: "accepted"; readonly hello: EaHello };

export type HandshakeStage = "AUTH" | "HELLO" | "DONE";

export interface HandshakeOptions {
  readonly secret: string;
  readonly expectedLogin: number | undefined;
  readonly random?: RandomBytes;
}

export class GatewayHandshake {
  readonly #options: HandshakeOptions;
  #stage: HandshakeStage = "AUTH";
  #eaNonce = "";
  #gwNonce = "";

  constructor(options: HandshakeOptions) {
    this.#options = options;
  }

  /** Which frame the connection owes next. */
  get stage(): HandshakeStage {
    return this.#stage;
  }

  /** The HELLO_ACK of a refusal. */
  static refusal(reason: HandshakeRefusal): WireObject {
    return { type: "HELLO_ACK", ok: false, reason };
  }

  step(message: Readonly<Record<string, unknown>>): HandshakeStep {
    if (this.#stage === "AUTH") {
      const verdict = checkAuth(message);
      if (!verdict.ok) return this.#refuse(verdict.reason, verdict.detail);
      this.#eaNonce = verdict.eaNonce;
      this.#gwNonce = newNonce(this.#options.random);
      this.#stage = "HELLO";
      return {
        kind: "reply",
        frame: {
          type: "CHALLENGE",
          gw_nonce: this.#gwNonce,
          gw_proof: gatewayProof(this.#options.secret, this.#eaNonce, this.#gwNonce),
        },
      };
    }
    if (this.#stage === "HELLO") {
      const verdict = checkHello(
        message,
        this.#options.secret,
        { eaNonce: this.#eaNonce, gwNonce: this.#gwNonce },
        this.#options.expectedLogin,
      );
      if (!verdict.ok) return this.#refuse(verdict.reason, verdict.detail);
      this.#stage = "DONE";
      return { kind: "accepted", hello: verdict.hello };
    }
    return this.#refuse("BAD_HELLO", "a frame after the handshake ended");
  }

  #refuse(reason: HandshakeRefusal, detail: string): HandshakeStep {
    this.#stage = "DONE";
    return { kind: "refuse", reason, detail };
  }
}
