/**
 * A minimal gateway client for tests: a CURVE DEALER, requests built and signed by the shared
 * protocol module, replies matched by id. Deliberately simpler than agent-inf's client (no
 * retries, no reconciliation) so gateway tests see exactly what the gateway answers.
 */
import { readPublicKeyFile, readSecretKeyFile } from "../../shared/keys/curve-keys.ts";
import type { GeneratedInferenceKeys } from "../../shared/keys/keygen.ts";
import { readSigningSecretKeyFile } from "../../shared/keys/signing-keys.ts";
import { DealerSocket, type SocketEvent } from "../../shared/net/index.ts";
import {
  createSigner,
  encodeRequest,
  isSignedAction,
  newClientOrderId,
  newRequestId,
  parseReply,
  type Reply,
  type Request,
  type Signer,
} from "../../shared/protocol/index.ts";
import type { Deployment } from "./deployment.ts";

export interface TestClientOptions {
  /** Another inference host's keys (default: the deployment's inf-1). */
  readonly keys?: GeneratedInferenceKeys;
  /** Sign with these keys instead (a host using another host's signing key). */
  readonly signWith?: GeneratedInferenceKeys;
  /** A ZMTP routing identity to announce. */
  readonly identity?: string;
}

type Body<T> = T extends Request
  ? Omit<T, "v" | "id" | "ts" | "client_order_id" | "gateway" | "key_id">
  : never;
export type RequestBody = Body<Request>;

export class TestClient {
  readonly events: SocketEvent[] = [];
  readonly #socket: DealerSocket;
  readonly #signer: Signer;
  readonly #gateway: string;
  readonly #pending = new Map<string, (reply: Reply) => void>();
  readonly unmatched: Uint8Array[][] = [];

  constructor(endpoint: string, deployment: Deployment, options: TestClientOptions = {}) {
    const keys = options.keys ?? deployment.inferenceKeys;
    const client = readSecretKeyFile(keys.curveSecretPath);
    const server = readPublicKeyFile(deployment.gatewayKeys.publicPath);
    const signing = readSigningSecretKeyFile((options.signWith ?? keys).signSecretPath);
    this.#signer = createSigner({ keyId: signing.keyId, secretKey: signing.secretKey });
    this.#gateway = deployment.gatewayName;
    this.#socket = new DealerSocket({
      security: {
        mechanism: "CURVE",
        role: "client",
        publicKey: client.publicKey,
        secretKey: client.secretKey,
        serverKey: server.publicKey,
      },
      reconnectIntervalMs: 50,
      reconnectIntervalMaxMs: 200,
      ...(options.identity === undefined
        ? {}
        : { identity: new TextEncoder().encode(options.identity) }),
    });
    this.#socket.on((event) => this.events.push(event));
    this.#socket.onMessage((parts) => {
      const parsed = parseReply(parts[0] as Uint8Array);
      const resolve = parsed.ok ? this.#pending.get(parsed.reply.id) : undefined;
      if (parsed.ok && resolve !== undefined) {
        this.#pending.delete(parsed.reply.id);
        resolve(parsed.reply);
      } else {
        this.unmatched.push(parts);
      }
    });
    this.#socket.connect(endpoint);
  }

  /** Build, (sign,) send and await the reply. Signed actions get a fresh client_order_id unless given one. */
  async send(
    body: RequestBody & { client_order_id?: string; ts?: number; id?: string; gateway?: string },
    timeoutMs = 10_000,
  ): Promise<Reply> {
    const id = body.id ?? newRequestId();
    const signed = isSignedAction(body.action);
    const request = {
      v: 1,
      id,
      ts: body.ts ?? Date.now(),
      ...body,
      ...(signed
        ? {
            client_order_id: body.client_order_id ?? newClientOrderId(Date.now()),
            gateway: body.gateway ?? this.#gateway,
            key_id: this.#signer.keyId,
          }
        : {}),
    } as unknown as Request;
    const bytes = encodeRequest(request);
    return this.sendFrames(signed ? [bytes, this.#signer.sign(bytes)] : [bytes], id, timeoutMs);
  }

  /** Send exact frames and await the reply with `id`. */
  sendFrames(frames: readonly Uint8Array[], id: string, timeoutMs = 10_000): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no reply to ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      if (!this.#socket.send(frames)) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new Error("send refused (high-water mark)"));
      }
    });
  }

  /** Whether the socket is connected and authenticated now. */
  get connected(): boolean {
    let up = false;
    for (const event of this.events) {
      if (event.type === "handshake_succeeded") up = true;
      else if (event.type === "disconnected" || event.type === "handshake_failed") up = false;
    }
    return up;
  }

  get signer(): Signer {
    return this.#signer;
  }

  async close(): Promise<void> {
    await this.#socket.close();
  }
}
