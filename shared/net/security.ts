/**
 * Builds a fresh mechanism for each connection from the socket's Security setting. Keeping this
 * in one place means the session never knows which mechanism it runs (house style §1).
 */
import { CurveClient } from "../curve/curve-client.ts";
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
