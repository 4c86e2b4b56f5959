/**
 * The ZMTP 3.x greeting (RFC 23 §2.2 "Version Negotiation", research §2.1): the 64 bytes each peer
 * sends first, announcing the protocol version and the security mechanism. An encoder and an
 * incremental, validating reader. Pure: no sockets, no timers.
 *
 * We speak ZMTP 3 only and never downgrade (research §0.5: CVE-2014-7202, CVE-2014-9721), so the
 * reader refuses 1.0/2.0 peers and any mechanism other than the one we expect.
 */
import {
  GREETING_AS_SERVER_OFFSET,
  GREETING_MAJOR_OFFSET,
  GREETING_MECHANISM_OFFSET,
  GREETING_MECHANISM_SIZE,
  GREETING_MINOR_OFFSET,
  GREETING_SIGNATURE_END,
  GREETING_SIZE,
  ZMTP_MAJOR,
  ZMTP_MINOR,
} from "./constants.ts";
import type { MechanismName } from "./mechanism.ts";

export interface Greeting {
  readonly major: number;
  readonly minor: number;
  /** The mechanism name without its NUL padding (always the one the reader expected). */
  readonly mechanism: string;
  /** Informational only: libzmq always sends 0, even as the CURVE server (research §0). */
  readonly asServer: boolean;
}

export type GreetingStatus =
  | { readonly status: "need-more" }
  /** `rest` is a view of the caller's chunk: the bytes after the greeting, for the frame decoder. */
  | { readonly status: "done"; readonly greeting: Greeting; readonly rest: Uint8Array }
  | { readonly status: "error"; readonly message: string };

const NEED_MORE: GreetingStatus = { status: "need-more" };
const EMPTY = new Uint8Array(0);

/** The 20-byte NUL-padded mechanism field (RFC 23 §2.2). */
function mechanismField(mechanism: MechanismName): Uint8Array {
  const field = new Uint8Array(GREETING_MECHANISM_SIZE);
  for (let i = 0; i < mechanism.length; i++) field[i] = mechanism.charCodeAt(i);
  return field;
}

/**
 * Our full greeting. Padding is zeros (the RFC's advice for a peer that sends all 64 bytes at
 * once); as-server is only meaningful to CURVE and nobody checks it.
 */
export function encodeGreeting(mechanism: MechanismName, asServer: boolean): Uint8Array {
  const out = new Uint8Array(GREETING_SIZE);
  out[0] = 0xff;
  out[GREETING_SIGNATURE_END] = 0x7f;
  out[GREETING_MAJOR_OFFSET] = ZMTP_MAJOR;
  out[GREETING_MINOR_OFFSET] = ZMTP_MINOR;
  out.set(mechanismField(mechanism), GREETING_MECHANISM_OFFSET);
  out[GREETING_AS_SERVER_OFFSET] = asServer ? 1 : 0;
  return out;
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Reads the peer's greeting from chunks of any size, validating each byte as it arrives so a
 * wrong peer is refused without waiting for all 64 bytes. libzmq sends its greeting in stages
 * (10, 1, then 53 bytes) and waits for ours in between, so we must never require the whole
 * greeting before acting (research §0).
 *
 * Holds at most 64 bytes; whatever follows the greeting in a chunk is returned as `rest`.
 * Once it reports "done" or "error" the reader keeps that outcome: further pushes after "done"
 * return the whole chunk as `rest`, after "error" the same error.
 */
export class GreetingReader {
  private readonly expectedName: MechanismName;
  private readonly expected: Uint8Array;
  private readonly bytes = new Uint8Array(GREETING_SIZE);
  private count = 0;
  private greeting: Greeting | undefined;
  private failure: GreetingStatus | undefined;

  constructor(expectedMechanism: MechanismName) {
    this.expectedName = expectedMechanism;
    this.expected = mechanismField(expectedMechanism);
  }

  /** Greeting bytes received so far (0..64). */
  get received(): number {
    return this.count;
  }

  push(chunk: Uint8Array): GreetingStatus {
    if (this.failure !== undefined) return this.failure;
    if (this.greeting !== undefined)
      return { status: "done", greeting: this.greeting, rest: chunk };

    const start = this.count;
    const take = Math.min(chunk.length, GREETING_SIZE - start);
    this.bytes.set(take === chunk.length ? chunk : chunk.subarray(0, take), start);
    this.count = start + take;
    for (let i = start; i < this.count; i++) {
      const message = this.check(i);
      if (message !== undefined) {
        this.failure = { status: "error", message };
        return this.failure;
      }
    }
    if (this.count < GREETING_SIZE) return NEED_MORE;

    this.greeting = {
      major: this.bytes[GREETING_MAJOR_OFFSET] as number,
      minor: this.bytes[GREETING_MINOR_OFFSET] as number,
      mechanism: this.expectedName,
      asServer: ((this.bytes[GREETING_AS_SERVER_OFFSET] as number) & 1) === 1,
    };
    const rest = take === chunk.length ? EMPTY : chunk.subarray(take);
    return { status: "done", greeting: this.greeting, rest };
  }

  /** Validate the byte at `index`; returns an error message, or undefined when it is fine. */
  private check(index: number): string | undefined {
    const byte = this.bytes[index] as number;
    if (index === 0) {
      // Anything but 0xFF is ZMTP 1.0 (a length byte) or not ZMTP at all
      if (byte !== 0xff) {
        return `zmtp: greeting byte 0 was ${hex(byte)}, expected 0xff (not a ZMTP 3 peer)`;
      }
    } else if (index < GREETING_SIGNATURE_END) {
      // Padding: RFC 23 §2.2 forbids validating it (libzmq sends identity length + 1 there)
    } else if (index === GREETING_SIGNATURE_END) {
      // RFC 23 backwards interoperability: a clear low bit means a ZMTP 1.0 identity frame
      if ((byte & 1) === 0) {
        return `zmtp: greeting byte 9 was ${hex(byte)}, expected its low bit set (peer speaks ZMTP 1.0)`;
      }
    } else if (index === GREETING_MAJOR_OFFSET) {
      // Higher versions MUST be accepted; lower ones are refused, never downgraded to
      if (byte < ZMTP_MAJOR) {
        return `zmtp: peer ZMTP major version was ${byte}, 3 or later is required`;
      }
    } else if (index >= GREETING_MECHANISM_OFFSET && index < GREETING_AS_SERVER_OFFSET) {
      // All 20 bytes must match exactly, padding included (RFC 23 "Authentication and Confidentiality")
      if (byte !== this.expected[index - GREETING_MECHANISM_OFFSET]) {
        return `zmtp: mechanism mismatch, expected ${this.expectedName}, was ${this.peerMechanism()}`;
      }
    }
    // as-server and filler are ignored, as libzmq does
    return undefined;
  }

  /** The peer's mechanism as far as received, printable, for the mismatch message. */
  private peerMechanism(): string {
    const end = Math.min(this.count, GREETING_AS_SERVER_OFFSET);
    let stop = end;
    while (stop > GREETING_MECHANISM_OFFSET && this.bytes[stop - 1] === 0) stop--;
    let text = "";
    for (let i = GREETING_MECHANISM_OFFSET; i < stop; i++) {
      const c = this.bytes[i] as number;
      text +=
        c >= 0x21 && c <= 0x7e ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
    }
    if (end < GREETING_AS_SERVER_OFFSET) text += "…";
    return `"${text}"`;
  }
}
