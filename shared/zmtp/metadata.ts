/**
 * ZMTP metadata: the property list carried by NULL READY and by CURVE INITIATE/READY
 * (RFC 23 §2.5, RFC 37 §2.4): `[name_len:1][name][value_len:4 BE][value]` repeated.
 *
 * Pure and bounded: every length is checked against the bytes that remain before anything is
 * sliced, so hostile metadata costs time proportional to its size and nothing more.
 */
import { concatBytes } from "../bytes.ts";
import { ProtocolError } from "../errors.ts";
import type { SocketType } from "./mechanism.ts";

/** Property names (RFC 37 §2.4): 1..255 of `A-Z a-z 0-9 - _ . +`. */
const NAME_PATTERN = /^[A-Za-z0-9\-_.+]{1,255}$/;

/** More properties than any real peer sends; a cap on work for hostile input. */
export const MAX_METADATA_PROPERTIES = 64;

export const PROPERTY_SOCKET_TYPE = "Socket-Type";
export const PROPERTY_IDENTITY = "Identity";

/**
 * Parsed metadata. Keys are lower-cased because property names are case-insensitive in the RFC
 * (libzmq compares them case-sensitively, but never sends other spellings).
 */
export type Metadata = ReadonlyMap<string, Uint8Array>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMetadata(properties: Iterable<readonly [string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, value] of properties) {
    if (!NAME_PATTERN.test(name))
      throw new ProtocolError(`zmtp: invalid property name ${JSON.stringify(name)}`);
    const nameBytes = encoder.encode(name);
    const header = new Uint8Array(1 + nameBytes.length + 4);
    header[0] = nameBytes.length;
    header.set(nameBytes, 1);
    new DataView(header.buffer).setUint32(1 + nameBytes.length, value.length);
    parts.push(header, value);
  }
  return concatBytes(...parts);
}

/**
 * Parse a property list that must fill `bytes` exactly. Duplicate Socket-Type or Identity is
 * refused (an ambiguity an attacker could exploit); other duplicates keep the last value.
 */
export function parseMetadata(bytes: Uint8Array): Metadata {
  const properties = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  let count = 0;
  while (offset < bytes.length) {
    if (++count > MAX_METADATA_PROPERTIES) {
      throw new ProtocolError(`zmtp: metadata has more than ${MAX_METADATA_PROPERTIES} properties`);
    }
    const nameLength = bytes[offset] as number;
    offset += 1;
    if (nameLength === 0) throw new ProtocolError("zmtp: metadata property name is empty");
    if (offset + nameLength + 4 > bytes.length) {
      throw new ProtocolError("zmtp: metadata property name overruns the command");
    }
    const name = decoder.decode(bytes.subarray(offset, offset + nameLength));
    if (!NAME_PATTERN.test(name)) {
      throw new ProtocolError(`zmtp: invalid metadata property name ${JSON.stringify(name)}`);
    }
    offset += nameLength;
    const valueLength = view.getUint32(offset);
    offset += 4;
    if (valueLength > bytes.length - offset) {
      throw new ProtocolError(
        `zmtp: metadata value of ${name} overruns the command (length was ${valueLength}, ${bytes.length - offset} bytes remain)`,
      );
    }
    const key = name.toLowerCase();
    if (properties.has(key) && (key === "socket-type" || key === "identity")) {
      throw new ProtocolError(`zmtp: duplicate metadata property ${name}`);
    }
    properties.set(key, bytes.slice(offset, offset + valueLength));
    offset += valueLength;
  }
  return properties;
}

/**
 * The metadata a socket of `socketType` sends (what libzmq sends, research §2.3): Socket-Type
 * always; Identity only for REQ, DEALER and ROUTER, even when empty.
 */
export function socketMetadata(
  socketType: SocketType,
  identity: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const properties: [string, Uint8Array][] = [[PROPERTY_SOCKET_TYPE, encoder.encode(socketType)]];
  if (socketType === "REQ" || socketType === "DEALER" || socketType === "ROUTER") {
    properties.push([PROPERTY_IDENTITY, identity]);
  }
  return encodeMetadata(properties);
}

export function metadataText(metadata: Metadata, name: string): string | undefined {
  const value = metadata.get(name.toLowerCase());
  return value === undefined ? undefined : decoder.decode(value);
}
