/**
 * Socket-Type compatibility (RFC 37 §2.3 and libzmq `mechanism_t::check_socket_type`), and the
 * check both mechanisms run on the peer's metadata before declaring the handshake done.
 */
import type { SocketType } from "./mechanism.ts";
import { type Metadata, metadataText, PROPERTY_IDENTITY } from "./metadata.ts";

const COMPATIBLE: Readonly<Record<SocketType, readonly SocketType[]>> = {
  REQ: ["REP", "ROUTER"],
  REP: ["REQ", "DEALER"],
  DEALER: ["REP", "DEALER", "ROUTER"],
  ROUTER: ["REQ", "DEALER", "ROUTER"],
};

const SOCKET_TYPES: readonly string[] = Object.keys(COMPATIBLE);

export function isSocketType(value: string): value is SocketType {
  return SOCKET_TYPES.includes(value);
}

/** Exact and case-sensitive, as in libzmq. */
export function isCompatible(ours: SocketType, theirs: SocketType): boolean {
  return COMPATIBLE[ours].includes(theirs);
}

export type PeerCheck =
  | { readonly ok: true; readonly socketType: SocketType; readonly identity: Uint8Array }
  | {
      readonly ok: false;
      readonly code: "INVALID_METADATA" | "SOCKET_TYPE_MISMATCH";
      readonly message: string;
    };

/**
 * Validate the peer's metadata against our socket type: Socket-Type present, known and
 * compatible; Identity (if any) at most 255 bytes and not starting with 0x00 (reserved by
 * RFC 37 §2.4 for ids a ROUTER generates).
 */
export function checkPeerMetadata(ours: SocketType, metadata: Metadata): PeerCheck {
  const theirs = metadataText(metadata, "Socket-Type");
  if (theirs === undefined) {
    return { ok: false, code: "INVALID_METADATA", message: "zmtp: peer sent no Socket-Type" };
  }
  if (!isSocketType(theirs)) {
    return {
      ok: false,
      code: "SOCKET_TYPE_MISMATCH",
      message: `zmtp: peer Socket-Type ${JSON.stringify(theirs.slice(0, 32))} is not supported`,
    };
  }
  if (!isCompatible(ours, theirs)) {
    return {
      ok: false,
      code: "SOCKET_TYPE_MISMATCH",
      message: `zmtp: peer Socket-Type ${theirs} cannot talk to ${ours}`,
    };
  }
  const identity = metadata.get(PROPERTY_IDENTITY.toLowerCase()) ?? new Uint8Array(0);
  if (identity.length > 255) {
    return {
      ok: false,
      code: "INVALID_METADATA",
      message: "zmtp: peer Identity is longer than 255 bytes",
    };
  }
  if (identity.length > 0 && identity[0] === 0) {
    return {
      ok: false,
      code: "INVALID_METADATA",
      message: "zmtp: peer Identity starts with the reserved byte 0x00",
    };
  }
  return { ok: true, socketType: theirs, identity };
}
