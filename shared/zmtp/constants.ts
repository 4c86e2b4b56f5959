/**
 * ZMTP wire constants shared by the greeting and frame codecs (RFC 23 §2.2–2.3, RFC 37). Numbers
 * only; the flag bits live in mechanism.ts (FrameFlag, PartFlag) beside the interface that uses
 * them.
 */

/** The greeting is always 64 bytes (RFC 23 §2.2). */
export const GREETING_SIZE = 64;

/** The version we announce: ZMTP 3.1 (RFC 37). */
export const ZMTP_MAJOR = 3;
export const ZMTP_MINOR = 1;

/** Offsets inside the greeting (research §2.1). */
export const GREETING_SIGNATURE_END = 9;
export const GREETING_MAJOR_OFFSET = 10;
export const GREETING_MINOR_OFFSET = 11;
export const GREETING_MECHANISM_OFFSET = 12;
export const GREETING_MECHANISM_SIZE = 20;
export const GREETING_AS_SERVER_OFFSET = 32;

/** Largest body a short frame can carry; libzmq's v3_1_encoder goes long above it. */
export const MAX_SHORT_FRAME_BODY = 255;

/** Flags byte + 1-byte size, or flags byte + 8-byte big-endian size (RFC 23 §2.3). */
export const SHORT_FRAME_HEADER_SIZE = 2;
export const LONG_FRAME_HEADER_SIZE = 9;

/**
 * A frame cap for the handshake (research §2.2): comfortably holds a CURVE INITIATE with
 * metadata, and keeps an unauthenticated peer from making us allocate much.
 */
export const HANDSHAKE_MAX_FRAME_SIZE = 64 * 1024;
