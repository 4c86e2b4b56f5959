/**
 * CURVE server mechanism (RFC 25 ZMTP-CURVE, RFC 26 CurveZMQ), byte-compatible with libzmq
 * 4.3's `curve_server_t` and stricter where that costs a libzmq client nothing. Pure state
 * machine: keys, randomness and the authorizer are injected; no sockets, no clock.
 *
 *   HELLO    → WELCOME                      (processHello, produceWelcome)
 *   INITIATE → authorize(C) → 200: READY    (processInitiate, produceReady)
 *                           → 300: silent close; 400/500: ERROR "400"/"500", then close
 *   anything malformed or undecryptable → silent close (what libzmq does; research §4.4)
 *
 * Notation (RFC 26 §2.1): S/s our long-term key pair, C the client's long-term public key,
 * C'/c' and S'/s' the transient pairs, K the cookie key, Box[X](A→B) a crypto_box from A to B.
 * Deviations from libzmq, all invisible to a correct client: S'/s' and K are generated only
 * after a valid HELLO; HELLO's padding must be zeros and its signature must decrypt to 64 zeros;
 * weak (low-order or non-canonical) keys are refused; the vouch must name our S; K and s' are
 * wiped once INITIATE has been processed.
 */
import { concatBytes } from "../bytes.ts";
import { describeError } from "../errors.ts";
import { encodeError } from "../zmtp/command.ts";
import type {
  Authorizer,
  AuthResult,
  DecodeResult,
  HandshakeResult,
  Mechanism,
  OutgoingFrame,
  SocketType,
} from "../zmtp/mechanism.ts";
import { type Metadata, parseMetadata, socketMetadata } from "../zmtp/metadata.ts";
import { checkPeerMetadata } from "../zmtp/socket-type.ts";
import {
  type CurveRandom,
  constantTimeEqual,
  isAllZero,
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
  INITIATE_MIN_BYTES,
  longNonce,
  MAX_HANDSHAKE_COMMAND_BYTES,
  NONCE_PREFIX,
  proceed,
  readShortNonce,
  shortNonce,
  VOUCH_BOX_BYTES,
  WELCOME_BYTES,
  wipe,
  writeShortNonce,
} from "./curve-protocol.ts";
import { fingerprint } from "./z85.ts";

export interface CurveServerOptions {
  readonly socketType: SocketType;
  /** Our Identity property (RFC 37 §2.4); empty by default. */
  readonly identity?: Uint8Array;
  /** S: our long-term public key. */
  readonly publicKey: Uint8Array;
  /** s: our long-term secret key. */
  readonly secretKey: Uint8Array;
  /** Decides on the client's long-term key C once the vouch proved the client holds c. */
  readonly authorize: Authorizer;
  /** The peer's address, passed to the authorizer (e.g. "tcp://10.0.0.5:51234"). */
  readonly address: string;
  readonly random?: CurveRandom;
}

const State = {
  EXPECT_HELLO: "EXPECT_HELLO",
  EXPECT_INITIATE: "EXPECT_INITIATE",
  READY: "READY",
  FAILED: "FAILED",
} as const;
type State = (typeof State)[keyof typeof State];

/** Plaintext of the INITIATE box before the metadata: C(32) vouch-nonce-tail(16) vouch(80). */
const INITIATE_PLAINTEXT_MIN = KEY_BYTES + 16 + VOUCH_BOX_BYTES;

export class CurveServer implements Mechanism {
  readonly name = "CURVE";
  readonly asServer = true;

  readonly #socketType: SocketType;
  readonly #metadata: Uint8Array;
  readonly #serverPublic: Uint8Array; // S
  readonly #serverSecret: Uint8Array; // s
  readonly #authorize: Authorizer;
  readonly #address: string;
  readonly #random: CurveRandom;

  #state: State = State.EXPECT_HELLO;
  /** Our next short nonce: READY 1, then MESSAGEs 2, 3, … (libzmq numbering) */
  #nextNonce = 1n;
  /** Last client short nonce: HELLO's, then overwritten by INITIATE's without comparison */
  #lastClientNonce = 0n;
  #clientTransient: Uint8Array | undefined; // C'
  #transientSecret: Uint8Array | undefined; // s'
  #cookieKey: Uint8Array | undefined; // K
  #codec: CurveMessageCodec | undefined;

  constructor(options: CurveServerOptions) {
    checkKeyOption(options.publicKey, "server public key");
    checkKeyOption(options.secretKey, "server secret key");
    this.#socketType = options.socketType;
    this.#metadata = socketMetadata(options.socketType, options.identity);
    this.#serverPublic = options.publicKey.slice();
    this.#serverSecret = options.secretKey.slice();
    this.#authorize = options.authorize;
    this.#address = options.address;
    this.#random = options.random ?? systemRandom;
  }

  /** The server speaks second: nothing to send until HELLO arrives. */
  start(): HandshakeResult {
    return proceed([]);
  }

  processHandshake(body: Uint8Array): HandshakeResult {
    try {
      if (body.length > MAX_HANDSHAKE_COMMAND_BYTES) {
        return this.#fail(
          "MALFORMED_COMMAND",
          `curve: handshake command must be at most ${MAX_HANDSHAKE_COMMAND_BYTES} bytes, was ${body.length}`,
        );
      }
      if (this.#state === State.EXPECT_HELLO && hasName(body, COMMAND_NAME.HELLO)) {
        return this.processHello(body);
      }
      if (this.#state === State.EXPECT_INITIATE && hasName(body, COMMAND_NAME.INITIATE)) {
        return this.processInitiate(body);
      }
      return this.#fail(
        "UNEXPECTED_COMMAND",
        `curve: server did not expect this command in ${this.#state}`,
      );
    } catch (error) {
      this.#wipeHandshakeSecrets();
      this.#state = State.FAILED;
      return failedUnexpectedly("server handshake", error);
    }
  }

  encode(data: Uint8Array, more: boolean, command: boolean): OutgoingFrame {
    if (this.#codec === undefined) return notReady("server");
    return this.#codec.encode(data, more, command);
  }

  decode(_flags: number, body: Uint8Array): DecodeResult {
    if (this.#codec === undefined) {
      return {
        ok: false,
        message: "curve: server received a message before the handshake completed",
      };
    }
    return this.#codec.decode(body);
  }

  /** HELLO = %x05 "HELLO" version padding(72) C' short-nonce Box[64 zeros](C'→S) */
  private processHello(body: Uint8Array): HandshakeResult {
    if (body.length !== HELLO_BYTES) {
      return this.#fail(
        "MALFORMED_COMMAND",
        `curve: HELLO must be ${HELLO_BYTES} bytes, was ${body.length}`,
      );
    }
    if (body[6] !== HELLO_VERSION_MAJOR || body[7] !== HELLO_VERSION_MINOR) {
      return this.#fail(
        "MALFORMED_COMMAND",
        `curve: HELLO version must be 1.0, was ${body[6]}.${body[7]}`,
      );
    }
    // RFC 26 grammar: 72 zero octets. libzmq does not look, but every client sends zeros
    if (!isAllZero(body.subarray(8, 80))) {
      return this.#fail("MALFORMED_COMMAND", "curve: HELLO padding must be 72 zero bytes");
    }
    const clientTransient = body.slice(80, 112); // C'
    if (isWeakPublicKey(clientTransient)) {
      return this.#fail("CRYPTOGRAPHIC", "curve: HELLO carries a weak transient key C'");
    }
    const helloNonce = readShortNonce(body, 112);

    // k1 = C'↔S opens the signature and, reused, seals WELCOME (one X25519 instead of two)
    const helloKey = precompute(clientTransient, this.#serverSecret);
    const signature = open(
      body.subarray(120),
      shortNonce(NONCE_PREFIX.HELLO, helloNonce),
      helloKey,
    );

    // A wrong S on the client lands here; libzmq closes silently and so do we
    if (signature === null || !isAllZero(signature)) {
      wipe(helloKey);
      return this.#fail(
        "CRYPTOGRAPHIC",
        "curve: HELLO signature box did not open (client has the wrong server key?)",
      );
    }
    this.#clientTransient = clientTransient;
    this.#lastClientNonce = helloNonce;
    return this.produceWelcome(helloKey);
  }

  /**
   * WELCOME = %x07 "WELCOME" nonce-tail(16) Box[S' + cookie](S→C')
   * cookie  = cookie-nonce-tail(16) secretbox[C' + s'](K), nonce "COOKIE--" + tail
   * Draws randomness in this order: S'/s', K, cookie tail, WELCOME tail.
   */
  private produceWelcome(helloKey: Uint8Array): HandshakeResult {
    const transient = this.#random.keyPair();
    const serverTransient = transient.publicKey.slice(); // S'
    this.#transientSecret = transient.secretKey.slice(); // s'
    this.#cookieKey = this.#random.bytes(KEY_BYTES).slice(); // K
    const cookieTail = this.#random.bytes(16);
    const welcomeTail = this.#random.bytes(16);

    // secretbox[C' + s'](K): the state INITIATE must echo back to prove it follows this WELCOME
    const cookieBox = seal(
      concatBytes(this.#clientTransient as Uint8Array, this.#transientSecret),
      longNonce(NONCE_PREFIX.COOKIE, cookieTail),
      this.#cookieKey,
    );
    const cookie = concatBytes(cookieTail.subarray(0, 16), cookieBox);

    // Box[S' + cookie](S→C') under k1
    const box = seal(
      concatBytes(serverTransient, cookie),
      longNonce(NONCE_PREFIX.WELCOME, welcomeTail),
      helloKey,
    );
    wipe(helloKey);
    const welcome = new Uint8Array(WELCOME_BYTES);
    welcome.set(COMMAND_NAME.WELCOME, 0);
    welcome.set(welcomeTail.subarray(0, 16), 8);
    welcome.set(box, 24);
    this.#state = State.EXPECT_INITIATE;
    return proceed([welcome]);
  }

  /**
   * INITIATE = %x08 "INITIATE" cookie(96) short-nonce Box[C + vouch-nonce-tail + vouch + metadata](C'→S')
   * Checks in order: size, cookie, box, vouch (C' and S), metadata, Socket-Type, then authorize.
   */
  private processInitiate(body: Uint8Array): HandshakeResult {
    try {
      return this.#verifyInitiate(body);
    } finally {
      // K and s' have served their purpose whatever the outcome
      this.#wipeHandshakeSecrets();
    }
  }

  #verifyInitiate(body: Uint8Array): HandshakeResult {
    if (body.length < INITIATE_MIN_BYTES) {
      return this.#fail(
        "MALFORMED_COMMAND",
        `curve: INITIATE must be at least ${INITIATE_MIN_BYTES} bytes, was ${body.length}`,
      );
    }
    const clientTransient = this.#clientTransient as Uint8Array; // C'
    const transientSecret = this.#transientSecret as Uint8Array; // s'

    // secretbox[C' + s'](K) must be the cookie we issued, for this client's C'
    const cookie = body.subarray(9, 9 + COOKIE_BYTES);
    const cookieContent = open(
      cookie.subarray(16),
      longNonce(NONCE_PREFIX.COOKIE, cookie.subarray(0, 16)),
      this.#cookieKey as Uint8Array,
    );
    if (
      cookieContent === null ||
      !constantTimeEqual(cookieContent.subarray(0, KEY_BYTES), clientTransient) ||
      !constantTimeEqual(cookieContent.subarray(KEY_BYTES), transientSecret)
    ) {
      return this.#fail("CRYPTOGRAPHIC", "curve: INITIATE cookie is not the one we issued");
    }

    // Box[C + vouch + metadata](C'→S') under k2 = C'↔S', computed only now that the cookie holds
    const sessionKey = precompute(clientTransient, transientSecret);
    const initiateNonce = readShortNonce(body, 105);
    const plaintext = open(
      body.subarray(113),
      shortNonce(NONCE_PREFIX.INITIATE, initiateNonce),
      sessionKey,
    );
    if (plaintext === null || plaintext.length < INITIATE_PLAINTEXT_MIN) {
      wipe(sessionKey);
      return this.#fail("CRYPTOGRAPHIC", "curve: INITIATE box did not open");
    }
    const clientPublic = plaintext.slice(0, KEY_BYTES); // C
    if (isWeakPublicKey(clientPublic)) {
      wipe(sessionKey);
      return this.#fail("CRYPTOGRAPHIC", "curve: INITIATE carries a weak long-term key C");
    }

    // vouch = Box[C' + S](C→S') under k3 = C↔S': proves the holder of c vouches for C' to us
    const vouchKey = precompute(clientPublic, transientSecret);
    const vouch = open(
      plaintext.subarray(KEY_BYTES + 16, INITIATE_PLAINTEXT_MIN),
      longNonce(NONCE_PREFIX.VOUCH, plaintext.subarray(KEY_BYTES, KEY_BYTES + 16)),
      vouchKey,
    );
    wipe(vouchKey);
    if (vouch === null || !constantTimeEqual(vouch.subarray(0, KEY_BYTES), clientTransient)) {
      wipe(sessionKey);
      return this.#fail("CRYPTOGRAPHIC", "curve: INITIATE vouch did not open or names another C'");
    }

    // RFC 26 §2.8 requires S in the vouch to be ours; libzmq skips this check
    if (!constantTimeEqual(vouch.subarray(KEY_BYTES), this.#serverPublic)) {
      wipe(sessionKey);
      return this.#fail("CRYPTOGRAPHIC", "curve: INITIATE vouch names another server key S");
    }

    // libzmq: INITIATE's nonce replaces HELLO's without comparison
    this.#lastClientNonce = initiateNonce;

    let metadata: Metadata;
    try {
      metadata = parseMetadata(plaintext.subarray(INITIATE_PLAINTEXT_MIN));
    } catch (error) {
      wipe(sessionKey);
      return this.#fail("INVALID_METADATA", `curve: INITIATE metadata: ${describeError(error)}`);
    }
    const peer = checkPeerMetadata(this.#socketType, metadata);
    if (!peer.ok) {
      wipe(sessionKey);
      return this.#fail(peer.code, peer.message);
    }

    const decision = this.#callAuthorizer(clientPublic);
    if (decision.status !== 200) {
      wipe(sessionKey);
      return this.#refuse(decision, clientPublic);
    }
    const ready = this.produceReady(sessionKey);
    this.#state = State.READY;
    return {
      status: "ready",
      send: [ready],
      peer: {
        socketType: peer.socketType,
        identity: peer.identity,
        publicKey: clientPublic,
        metadata,
        ...(decision.userId === undefined ? {} : { userId: decision.userId }),
      },
    };
  }

  /** READY = %x05 "READY" short-nonce Box[metadata](S'→C'); sets up the MESSAGE codec. */
  private produceReady(sessionKey: Uint8Array): Uint8Array {
    const nonce = this.#nextNonce;
    this.#nextNonce = nonce + 1n;
    const box = seal(this.#metadata, shortNonce(NONCE_PREFIX.READY, nonce), sessionKey);
    const ready = concatBytes(COMMAND_NAME.READY, new Uint8Array(8), box);
    writeShortNonce(ready, 6, nonce);
    this.#codec = new CurveMessageCodec({
      key: sessionKey,
      sendPrefix: NONCE_PREFIX.MESSAGE_FROM_SERVER,
      receivePrefix: NONCE_PREFIX.MESSAGE_FROM_CLIENT,
      nextSendNonce: this.#nextNonce,
      lastReceivedNonce: this.#lastClientNonce,
    });
    return ready;
  }

  /** A throwing authorizer is an internal error: ZAP status 500 (RFC 27 §2.3). */
  #callAuthorizer(clientPublic: Uint8Array): AuthResult {
    try {
      return this.#authorize({
        mechanism: "CURVE",
        publicKey: clientPublic.slice(),
        address: this.#address,
      });
    } catch (error) {
      return { status: 500, reason: `authorizer threw: ${describeError(error)}` };
    }
  }

  /** 300 → close without a word; 400/500 → ERROR with the status as reason, as libzmq sends. */
  #refuse(
    decision: Exclude<AuthResult, { status: 200 }>,
    clientPublic: Uint8Array,
  ): HandshakeResult {
    const why = decision.reason === undefined ? "" : `: ${decision.reason}`;
    const message = `curve: client key ${fingerprint(clientPublic)} refused (status was ${decision.status})${why}`;
    this.#state = State.FAILED;
    if (decision.status === 300) {
      return failed("AUTH_REFUSED", message, { clientPublicKey: clientPublic });
    }
    const reason = String(decision.status);
    return failed(
      "AUTH_REFUSED",
      message,
      { fatal: true, errorReason: reason, clientPublicKey: clientPublic },
      [encodeError(reason)],
    );
  }

  #fail(code: Parameters<typeof failed>[0], message: string): HandshakeResult {
    this.#state = State.FAILED;
    this.#wipeHandshakeSecrets();
    return failed(code, message);
  }

  #wipeHandshakeSecrets(): void {
    wipe(this.#cookieKey, this.#transientSecret);
    this.#cookieKey = undefined;
    this.#transientSecret = undefined;
  }
}
