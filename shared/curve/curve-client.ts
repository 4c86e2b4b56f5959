/**
 * CURVE client mechanism (RFC 25 ZMTP-CURVE, RFC 26 CurveZMQ), byte-compatible with libzmq
 * 4.3's `curve_client_t`. Pure state machine: keys and randomness are injected, nothing here
 * touches sockets or clocks.
 *
 *   start()            → HELLO                      (produceHello)
 *   WELCOME            → INITIATE                   (processWelcome, produceInitiate)
 *   READY              → ready, MESSAGEs flow        (processReady)
 *   ERROR (in place of WELCOME or READY) → failed, fatal: the server refused our key
 *
 * Notation (RFC 26 §2.1): C/c our long-term key pair, S the server's, C'/c' and S'/s' the
 * transient pairs, Box[X](A→B) a crypto_box of X from A to B. A client never sends ERROR.
 */
import { concatBytes } from "../bytes.ts";
import { describeError, ProtocolError } from "../errors.ts";
import { isCommand, parseErrorReason } from "../zmtp/command.ts";
import type {
  DecodeResult,
  HandshakeResult,
  Mechanism,
  OutgoingFrame,
  SocketType,
} from "../zmtp/mechanism.ts";
import { parseMetadata, socketMetadata } from "../zmtp/metadata.ts";
import { checkPeerMetadata } from "../zmtp/socket-type.ts";
import {
  type CurveRandom,
  isWeakPublicKey,
  KEY_BYTES,
  open,
  precompute,
  seal,
  systemRandom,
} from "./box.ts";
import { CurveMessageCodec, notReady } from "./curve-message.ts";
import {
  COMMAND_NAME,
  COOKIE_BYTES,
  checkKeyOption,
  failed,
  failedUnexpectedly,
  HELLO_BYTES,
  HELLO_VERSION_MAJOR,
  HELLO_VERSION_MINOR,
  hasName,
  longNonce,
  MAX_HANDSHAKE_COMMAND_BYTES,
  NONCE_PREFIX,
  proceed,
  READY_MIN_BYTES,
  readShortNonce,
  shortNonce,
  WELCOME_BYTES,
  wipe,
  writeShortNonce,
} from "./curve-protocol.ts";

export interface CurveClientOptions {
  readonly socketType: SocketType;
  /** Our Identity property (RFC 37 §2.4); empty by default. */
  readonly identity?: Uint8Array;
  /** C: our long-term public key. */
  readonly publicKey: Uint8Array;
  /** c: our long-term secret key. */
  readonly secretKey: Uint8Array;
  /** S: the server's long-term public key we pin. */
  readonly serverKey: Uint8Array;
  readonly random?: CurveRandom;
}

const State = {
  INITIAL: "INITIAL",
  EXPECT_WELCOME: "EXPECT_WELCOME",
  EXPECT_READY: "EXPECT_READY",
  READY: "READY",
  FAILED: "FAILED",
} as const;
type State = (typeof State)[keyof typeof State];

const ZERO_SIGNATURE = new Uint8Array(64);

export class CurveClient implements Mechanism {
  readonly name = "CURVE";
  readonly asServer = false;

  readonly #socketType: SocketType;
  readonly #metadata: Uint8Array;
  readonly #clientPublic: Uint8Array; // C
  readonly #clientSecret: Uint8Array; // c
  readonly #serverPublic: Uint8Array; // S
  readonly #random: CurveRandom;

  #state: State = State.INITIAL;
  /** Our next short nonce: HELLO 1, INITIATE 2, then MESSAGEs 3, 4, … (libzmq numbering) */
  #nextNonce = 1n;
  #transientPublic: Uint8Array | undefined; // C'
  #transientSecret: Uint8Array | undefined; // c'
  #helloKey: Uint8Array | undefined; // k1 = C'↔S
  #sessionKey: Uint8Array | undefined; // k2 = C'↔S'
  #codec: CurveMessageCodec | undefined;

  constructor(options: CurveClientOptions) {
    checkKeyOption(options.publicKey, "client public key");
    checkKeyOption(options.secretKey, "client secret key");
    checkKeyOption(options.serverKey, "server public key", { peer: true });
    this.#socketType = options.socketType;
    this.#metadata = socketMetadata(options.socketType, options.identity);
    this.#clientPublic = options.publicKey.slice();
    this.#clientSecret = options.secretKey.slice();
    this.#serverPublic = options.serverKey.slice();
    this.#random = options.random ?? systemRandom;
  }

  start(): HandshakeResult {
    if (this.#state !== State.INITIAL) {
      return this.#fail(failed("UNEXPECTED_COMMAND", "curve: client handshake already started"));
    }
    try {
      return this.produceHello();
    } catch (error) {
      return this.#fail(failedUnexpectedly("HELLO", error));
    }
  }

  processHandshake(body: Uint8Array): HandshakeResult {
    try {
      if (body.length > MAX_HANDSHAKE_COMMAND_BYTES) {
        return this.#fail(
          failed(
            "MALFORMED_COMMAND",
            `curve: handshake command must be at most ${MAX_HANDSHAKE_COMMAND_BYTES} bytes, was ${body.length}`,
          ),
        );
      }
      const expectingReply =
        this.#state === State.EXPECT_WELCOME || this.#state === State.EXPECT_READY;
      if (expectingReply && isCommand(body, "ERROR")) return this.#processError(body);
      if (this.#state === State.EXPECT_WELCOME && hasName(body, COMMAND_NAME.WELCOME)) {
        return this.processWelcome(body);
      }
      if (this.#state === State.EXPECT_READY && hasName(body, COMMAND_NAME.READY)) {
        return this.processReady(body);
      }
      return this.#fail(
        failed("UNEXPECTED_COMMAND", `curve: client did not expect this command in ${this.#state}`),
      );
    } catch (error) {
      return this.#fail(failedUnexpectedly("client handshake", error));
    }
  }

  encode(data: Uint8Array, more: boolean, command: boolean): OutgoingFrame {
    if (this.#codec === undefined) return notReady("client");
    return this.#codec.encode(data, more, command);
  }

  decode(_flags: number, body: Uint8Array): DecodeResult {
    if (this.#codec === undefined) {
      return {
        ok: false,
        message: "curve: client received a message before the handshake completed",
      };
    }
    return this.#codec.decode(body);
  }

  /**
   * HELLO = %x05 "HELLO" version(1.0) padding(72 zeros) C' short-nonce Box[64 zeros](C'→S)
   * The padding makes HELLO (200 bytes) larger than the WELCOME (168) it triggers, so an
   * unauthenticated server never amplifies traffic (RFC 26 §2.6).
   */
  private produceHello(): HandshakeResult {
    const transient = this.#random.keyPair();
    this.#transientPublic = transient.publicKey.slice();
    this.#transientSecret = transient.secretKey.slice();

    // k1 = C'↔S, kept for the WELCOME box, which the server seals with the same pair of keys
    this.#helloKey = precompute(this.#serverPublic, this.#transientSecret);
    const nonce = this.#takeNonce();

    // Box[64 zeros](C'→S): proves we hold c' and know S
    const signature = seal(ZERO_SIGNATURE, shortNonce(NONCE_PREFIX.HELLO, nonce), this.#helloKey);
    const hello = new Uint8Array(HELLO_BYTES);
    hello.set(COMMAND_NAME.HELLO, 0);
    hello[6] = HELLO_VERSION_MAJOR;
    hello[7] = HELLO_VERSION_MINOR;
    hello.set(this.#transientPublic, 80);
    writeShortNonce(hello, 112, nonce);
    hello.set(signature, 120);
    this.#state = State.EXPECT_WELCOME;
    return proceed([hello]);
  }

  /** WELCOME = %x07 "WELCOME" nonce-tail(16) Box[S' + cookie](S→C') */
  private processWelcome(body: Uint8Array): HandshakeResult {
    if (body.length !== WELCOME_BYTES) {
      return this.#fail(
        failed(
          "MALFORMED_COMMAND",
          `curve: WELCOME must be ${WELCOME_BYTES} bytes, was ${body.length}`,
        ),
      );
    }
    const helloKey = this.#helloKey as Uint8Array;
    const plaintext = open(
      body.subarray(24),
      longNonce(NONCE_PREFIX.WELCOME, body.subarray(8, 24)),
      helloKey,
    );
    wipe(this.#helloKey);
    this.#helloKey = undefined;
    if (plaintext === null) {
      return this.#fail(
        failed("CRYPTOGRAPHIC", "curve: WELCOME box did not open (wrong server key?)"),
      );
    }
    const serverTransient = plaintext.slice(0, KEY_BYTES); // S'
    const cookie = plaintext.slice(KEY_BYTES, KEY_BYTES + COOKIE_BYTES);
    if (isWeakPublicKey(serverTransient)) {
      return this.#fail(failed("CRYPTOGRAPHIC", "curve: WELCOME carries a weak transient key S'"));
    }

    // k2 = C'↔S' keys INITIATE, READY and every MESSAGE; c' is not needed after this
    this.#sessionKey = precompute(serverTransient, this.#transientSecret as Uint8Array);
    wipe(this.#transientSecret);
    this.#transientSecret = undefined;
    return this.produceInitiate(serverTransient, cookie);
  }

  /**
   * INITIATE = %x08 "INITIATE" cookie(96) short-nonce Box[C + vouch-nonce-tail + vouch + metadata](C'→S')
   * vouch    = Box[C' + S](C→S'), nonce "VOUCH---" + 16 random bytes
   */
  private produceInitiate(serverTransient: Uint8Array, cookie: Uint8Array): HandshakeResult {
    const vouchTail = this.#random.bytes(16);

    // k3 = C↔S': only the holder of c can produce the vouch, binding C to this C' and S
    const vouchKey = precompute(serverTransient, this.#clientSecret);
    const vouch = seal(
      concatBytes(this.#transientPublic as Uint8Array, this.#serverPublic),
      longNonce(NONCE_PREFIX.VOUCH, vouchTail),
      vouchKey,
    );
    wipe(vouchKey);

    const nonce = this.#takeNonce();
    const box = seal(
      concatBytes(this.#clientPublic, vouchTail, vouch, this.#metadata),
      shortNonce(NONCE_PREFIX.INITIATE, nonce),
      this.#sessionKey as Uint8Array,
    );
    const initiate = new Uint8Array(COMMAND_NAME.INITIATE.length + COOKIE_BYTES + 8 + box.length);
    initiate.set(COMMAND_NAME.INITIATE, 0);
    initiate.set(cookie, 9);
    writeShortNonce(initiate, 105, nonce);
    initiate.set(box, 113);
    this.#state = State.EXPECT_READY;
    return proceed([initiate]);
  }

  /** READY = %x05 "READY" short-nonce Box[metadata](S'→C') */
  private processReady(body: Uint8Array): HandshakeResult {
    if (body.length < READY_MIN_BYTES) {
      return this.#fail(
        failed(
          "MALFORMED_COMMAND",
          `curve: READY must be at least ${READY_MIN_BYTES} bytes, was ${body.length}`,
        ),
      );
    }
    const sessionKey = this.#sessionKey as Uint8Array;
    const readyNonce = readShortNonce(body, 6);
    const metadataBytes = open(
      body.subarray(14),
      shortNonce(NONCE_PREFIX.READY, readyNonce),
      sessionKey,
    );
    if (metadataBytes === null) {
      return this.#fail(failed("CRYPTOGRAPHIC", "curve: READY box did not open"));
    }
    let metadata: ReturnType<typeof parseMetadata>;
    try {
      metadata = parseMetadata(metadataBytes);
    } catch (error) {
      return this.#fail(
        failed("INVALID_METADATA", `curve: READY metadata: ${describeError(error)}`),
      );
    }
    const peer = checkPeerMetadata(this.#socketType, metadata);
    if (!peer.ok) return this.#fail(failed(peer.code, peer.message));

    // The server's MESSAGE nonces must exceed READY's (libzmq initialises the window here)
    this.#codec = new CurveMessageCodec({
      key: sessionKey,
      sendPrefix: NONCE_PREFIX.MESSAGE_FROM_CLIENT,
      receivePrefix: NONCE_PREFIX.MESSAGE_FROM_SERVER,
      nextSendNonce: this.#nextNonce,
      lastReceivedNonce: readyNonce,
    });
    // The codec owns k2 from here on; a later #fail must not wipe it under the codec
    this.#sessionKey = undefined;
    this.#state = State.READY;
    return {
      status: "ready",
      send: [],
      peer: {
        socketType: peer.socketType,
        identity: peer.identity,
        publicKey: this.#serverPublic.slice(),
        metadata,
      },
    };
  }

  /** ERROR = %x05 "ERROR" reason-length reason: the server refused us; do not reconnect. */
  #processError(body: Uint8Array): HandshakeResult {
    let reason: string;
    try {
      reason = parseErrorReason(body.subarray(6));
    } catch (error) {
      // A malformed ERROR is a protocol error, not a refusal: libzmq reconnects after it
      const message = error instanceof ProtocolError ? error.message : describeError(error);
      return this.#fail(failed("MALFORMED_COMMAND", `curve: malformed ERROR: ${message}`));
    }
    return this.#fail(
      failed("ERROR_RECEIVED", `curve: server sent ERROR ${JSON.stringify(reason)}`, {
        fatal: true,
        errorReason: reason,
      }),
    );
  }

  #takeNonce(): bigint {
    const nonce = this.#nextNonce;
    this.#nextNonce = nonce + 1n;
    return nonce;
  }

  #fail(result: HandshakeResult): HandshakeResult {
    this.#state = State.FAILED;
    wipe(this.#transientSecret, this.#helloKey, this.#sessionKey);
    this.#transientSecret = undefined;
    this.#helloKey = undefined;
    this.#sessionKey = undefined;
    return result;
  }
}
