import { describe, expect, test } from "bun:test";
import {
  makeClose,
  makeModify,
  makeOpen,
  makePing,
  rawBytes,
  validRequests,
} from "./testing/fixtures.ts";
import { isSignedRequest, parseMessage, parseRequest, type RequestErrorCode } from "./validate.ts";

type Row = Record<string, unknown>;

function set(request: object, field: string, value: unknown): Row {
  return { ...request, [field]: value };
}

function drop(request: object, field: string): Row {
  const copy: Row = { ...request };
  delete copy[field];
  return copy;
}

describe("parseRequest accepts", () => {
  test.each(validRequests().map((request) => [request.action, request] as const))(
    "a valid %s and returns it unchanged",
    (_action, request) => {
      const result = parseRequest(rawBytes(request));

      expect(result).toEqual({ ok: true, request });
    },
  );

  const minimalOpen = drop(
    drop(drop(drop(drop(drop(makeOpen(), "sl"), "tp"), "deviation"), "magic"), "comment"),
    "volume",
  );
  test.each([
    ["OPEN with only required fields", { ...minimalOpen, volume: 1 }],
    ["OPEN with sl and tp null", makeOpen({ sl: null, tp: null })],
    ["OPEN with an empty comment", makeOpen({ comment: "" })],
    ["CLOSE without volume (the whole position)", drop(makeClose(), "volume")],
    ["MODIFY with only tp null", drop(makeModify({ tp: null }), "sl")],
    ["MODIFY with only sl", drop(makeModify(), "tp")],
    ["GET_POSITIONS without symbol", { v: 1, id: "a", action: "GET_POSITIONS", ts: 1 }],
    ["symbol XAUUSD", makeOpen({ symbol: "XAUUSD" })],
    ["symbol US500.cash", makeOpen({ symbol: "US500.cash" })],
    ["symbol BTCUSD#", makeOpen({ symbol: "BTCUSD#" })],
    ["symbol EURUSD+", makeOpen({ symbol: "EURUSD+" })],
    ["symbol GER40-m_x", makeOpen({ symbol: "GER40-m_x" })],
    ["symbol of 32 characters", makeOpen({ symbol: "S".repeat(32) })],
    [
      "client_order_id of 24 characters",
      makeOpen({ client_order_id: "a_-Z9".repeat(4).concat("abcd") }),
    ],
    ["request id of 64 characters", makePing({ id: "a.b:c-d_".repeat(8) })],
    ["volume 1000000", makeOpen({ volume: 1_000_000 })],
    ["volume 0.00000001", makeOpen({ volume: 0.00000001 })],
    ["volume 123456.12345678", makeOpen({ volume: 123456.12345678 })],
    ["deviation 0", makeOpen({ deviation: 0 })],
    ["deviation 100000", makeOpen({ deviation: 100_000 })],
    ["magic 0", makeOpen({ magic: 0 })],
    ["magic 2^53 - 1", makeOpen({ magic: Number.MAX_SAFE_INTEGER })],
    [
      "comment of 31 printable characters",
      makeOpen({ comment: "~!@#$%^&*()_+{}|:<>? `-=[]\\;',." }),
    ],
    ["ticket 2^53 - 1", makeClose({ ticket: Number.MAX_SAFE_INTEGER })],
  ] as const)("%s", (_name, request) => {
    const result = parseRequest(rawBytes(request));

    expect(result.ok).toBe(true);
  });
});

interface Refusal {
  readonly name: string;
  readonly request: Row;
  readonly code?: RequestErrorCode;
  readonly field: string;
  readonly message: string;
}

const open = makeOpen();
const close = makeClose();
const modify = makeModify();
const ping = makePing();

// One row per field and rule. `message` is a fragment of the expected error message.
const REFUSALS: readonly Refusal[] = [
  // envelope
  { name: "v missing", request: drop(ping, "v"), field: "v", message: "field v is required" },
  {
    name: "v a string",
    request: set(ping, "v", "1"),
    field: "v",
    message: 'must be an integer, was "1"',
  },
  {
    name: "v fractional",
    request: set(ping, "v", 1.5),
    field: "v",
    message: "must be an integer, was 1.5",
  },
  {
    name: "v 2",
    request: set(ping, "v", 2),
    code: "UNSUPPORTED_VERSION",
    field: "v",
    message: "protocol version 2 is not supported",
  },
  {
    name: "v 0",
    request: set(ping, "v", 0),
    code: "UNSUPPORTED_VERSION",
    field: "v",
    message: "version 0",
  },
  {
    name: "action missing",
    request: drop(ping, "action"),
    field: "action",
    message: "field action is required",
  },
  {
    name: "action a number",
    request: set(ping, "action", 5),
    field: "action",
    message: "must be a string, was 5",
  },
  {
    name: "action unknown",
    request: set(ping, "action", "BUY_NOW"),
    code: "UNKNOWN_ACTION",
    field: "action",
    message: 'action "BUY_NOW" is unknown',
  },
  {
    name: "action lowercase",
    request: set(ping, "action", "ping"),
    code: "UNKNOWN_ACTION",
    field: "action",
    message: "known actions are PING, OPEN",
  },
  { name: "id missing", request: drop(ping, "id"), field: "id", message: "field id is required" },
  { name: "id empty", request: set(ping, "id", ""), field: "id", message: "must not be empty" },
  {
    name: "id too long",
    request: set(ping, "id", "a".repeat(65)),
    field: "id",
    message: "at most 64 characters",
  },
  {
    name: "id with a space",
    request: set(ping, "id", "a b"),
    field: "id",
    message: "must contain only",
  },
  { name: "id a number", request: set(ping, "id", 7), field: "id", message: "must be a string" },
  { name: "ts missing", request: drop(ping, "ts"), field: "ts", message: "field ts is required" },
  {
    name: "ts zero",
    request: set(ping, "ts", 0),
    field: "ts",
    message: "positive integer (Unix ms), was 0",
  },
  { name: "ts negative", request: set(ping, "ts", -1), field: "ts", message: "was -1" },
  { name: "ts fractional", request: set(ping, "ts", 1.5), field: "ts", message: "was 1.5" },
  { name: "ts a string", request: set(ping, "ts", "1"), field: "ts", message: 'was "1"' },
  {
    name: "ts beyond 2^53",
    request: set(ping, "ts", 2 ** 64),
    field: "ts",
    message: "was 18446744073709552000",
  },
  {
    name: "unknown field in PING",
    request: set(ping, "client_order_id", "x"),
    field: "client_order_id",
    message: "field client_order_id is not allowed in PING",
  },
  // signed envelope
  {
    name: "client_order_id missing",
    request: drop(open, "client_order_id"),
    field: "client_order_id",
    message: "is required",
  },
  {
    name: "client_order_id too long",
    request: set(open, "client_order_id", "a".repeat(25)),
    field: "client_order_id",
    message: "at most 24 characters",
  },
  {
    name: "client_order_id with a dot",
    request: set(open, "client_order_id", "ab.c"),
    field: "client_order_id",
    message: "A-Z a-z 0-9 _ -",
  },
  {
    name: "client_order_id with unicode",
    request: set(open, "client_order_id", "ordré"),
    field: "client_order_id",
    message: "must contain only",
  },
  {
    name: "gateway missing",
    request: drop(open, "gateway"),
    field: "gateway",
    message: "field gateway is required",
  },
  {
    name: "gateway empty",
    request: set(open, "gateway", ""),
    field: "gateway",
    message: "must not be empty",
  },
  {
    name: "gateway too long",
    request: set(open, "gateway", "g".repeat(65)),
    field: "gateway",
    message: "at most 64",
  },
  {
    name: "gateway with a slash",
    request: set(open, "gateway", "gtw/1"),
    field: "gateway",
    message: "must contain only",
  },
  {
    name: "key_id missing",
    request: drop(close, "key_id"),
    field: "key_id",
    message: "field key_id is required",
  },
  {
    name: "key_id with a space",
    request: set(modify, "key_id", "inf 1"),
    field: "key_id",
    message: "must contain only",
  },
];

describe("parseRequest refuses", () => {
  test.each(REFUSALS.map((row) => [row.name, row] as const))("%s", (_name, row) => {
    const result = parseRequest(rawBytes(row.request));

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(row.code ?? "INVALID_REQUEST");
    expect(result.error.field).toBe(row.field);
    expect(result.error.message).toContain(row.message);
    expect(result.error.message).toBe(
      result.error.message.charAt(0).toLowerCase() + result.error.message.slice(1),
    );
  });

  test("names the field and the value in the documented form", () => {
    const result = parseRequest(rawBytes(set(open, "volume", -1)));

    expect(result).toEqual({
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "field volume must be a positive number, was -1",
        field: "volume",
        id: open.id,
      },
    });
  });

  test("echoes a valid id and leaves out an invalid one", () => {
    const withValidId = parseRequest(rawBytes(set(open, "side", "x")));
    const withBadId = parseRequest(rawBytes(set(set(open, "side", "x"), "id", "bad id")));

    expect(withValidId.ok ? undefined : withValidId.error.id).toBe(open.id);
    expect(withBadId.ok ? "parsed" : withBadId.error.id).toBeUndefined();
  });

  test("reports an unknown field before a missing one", () => {
    const result = parseRequest(rawBytes(set(drop(open, "volume"), "volum", 0.1)));

    expect(result.ok ? undefined : result.error.field).toBe("volum");
  });
});

describe("isSignedRequest", () => {
  test("is true exactly for OPEN, CLOSE and MODIFY", () => {
    const signed = validRequests()
      .filter(isSignedRequest)
      .map((request) => request.action);

    expect(signed).toEqual(["OPEN", "CLOSE", "MODIFY"]);
  });
});

describe("parseMessage", () => {
  const open = makeOpen();
  const signature = new Uint8Array(64);

  test("splits a signed action into its request bytes and signature", () => {
    const bytes = rawBytes(open);

    expect(parseMessage([bytes, signature])).toEqual({
      ok: true,
      request: open,
      requestBytes: bytes,
      signature,
    });
  });

  test("passes a signed action without a signature on, for the verifier to refuse", () => {
    const result = parseMessage([rawBytes(open)]);

    expect(result.ok && result.signature).toBeUndefined();
  });

  test.each([
    ["no frames", [], "message has no frames", undefined],
    [
      "an unsigned action with two frames",
      [rawBytes(makePing()), signature],
      "PING takes at most 1 frame, was 2",
      "ping-1",
    ],
    [
      "a signed action with three frames",
      [rawBytes(open), signature, signature],
      "OPEN takes at most 2 frames, was 3",
      open.id,
    ],
    [
      "a bad request frame",
      [rawBytes([1])],
      "request must be a JSON object, was an array",
      undefined,
    ],
  ])("refuses %s", (_name, frames, message, id) => {
    const result = parseMessage(frames);

    expect(
      result.ok ? undefined : [result.error.code, result.error.message, result.error.id],
    ).toEqual(["INVALID_REQUEST", message, id]);
  });
});
