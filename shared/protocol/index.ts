/**
 * Public surface of the application protocol (docs/PROTOCOL.md): message types, the codec,
 * validation of requests, replies and stream events, error codes, MT5 retcodes and order
 * signing. The agents, scripts and cross-agent tests import from here; the modules of this
 * folder import each other directly, never this file.
 */
export * from "./checks.ts";
export * from "./codec.ts";
export * from "./error-info.ts";
export * from "./errors.ts";
export * from "./market-cursor.ts";
export * from "./market-reply-shapes.ts";
export * from "./market-types.ts";
export * from "./pending-shapes.ts";
export * from "./pending-types.ts";
export * from "./retcodes.ts";
export * from "./signing.ts";
export * from "./stream-checks.ts";
export * from "./stream-types.ts";
export * from "./symbol-group.ts";
export * from "./timeframes.ts";
export * from "./types.ts";
export * from "./validate.ts";
export * from "./validate-event.ts";
export * from "./validate-market.ts";
export * from "./validate-pending.ts";
export * from "./validate-reply.ts";
