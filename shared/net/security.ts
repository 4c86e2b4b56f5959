/**
 * Builds a fresh mechanism for each connection from the socket's Security setting. Keeping this
 * in one place means the session never knows which mechanism it runs (house style §1).
 */
import { CurveClient } from "../curve/curve-client.ts";
import { checkKeyOption } from "../curve/curve-protocol.ts";
import { CurveServer } from "../curve/curve-server.ts";
import type { Mechanism, SocketType } from "../zmtp/mechanism.ts";
import { NullMechanism } from "../zmtp/null-mechanism.ts";
import type { Security } from "./options.ts";

export function createMechanism(
  security: Security,
  socketType: SocketType,
  identity: Uint8Array,
  address: string,
  isConnecter: boolean,
): Mechanism {
  if (security.mechanism === "NULL") {
    return new NullMechanism({ socketType, identity, asServer: !isConnecter });
  }
  if (security.role === "server") {
    return new CurveServer({
      socketType,
      identity,
      publicKey: security.publicKey,
      secretKey: security.secretKey,
      authorize: security.authorize,
      address,
    });
  }
  return new CurveClient({
    socketType,
    identity,
    publicKey: security.publicKey,
    secretKey: security.secretKey,
    serverKey: security.serverKey,
  });
}

/**
 * Check the keys of a Security setting once, when the socket is made: a bad key must fail the
 * constructor, not every connection later (where it would surface inside a socket callback).
 */
export function validateSecurity(security: Security): void {
  if (security.mechanism === "NULL") return;
  checkKeyOption(security.publicKey, `${security.role} public key`);
  checkKeyOption(security.secretKey, `${security.role} secret key`);
  if (security.role === "client")
    checkKeyOption(security.serverKey, "server public key", { peer: true });
}
