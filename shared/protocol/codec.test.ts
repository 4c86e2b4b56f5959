import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../errors.ts";
import { roundDecimal } from "./checks.ts";
import {
  COMMENT_TAG_LENGTH,
  commentTag,
  encodeReply,
  encodeRequest,
  errorReply,
  filledReply,
  hasCommentTag,
  intentHash,
  newClientOrderId,
  newRequestId,
  okReply,
  orderComment,
} from "./codec.ts";
import { FIXTURE_NOW_MS, makeClose, makeModify, makeOpen, makePing } from "./testing/fixtures.ts";
import type { OpenRequest } from "./types.ts";
import { parseReply, parseRequest } from "./validate.ts";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Independent base32 for cross-checking: BigInt over the first `chars` × 5 bits. */
function referenceBase32(bytes: Uint8Array, chars: number): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  const totalBits = BigInt(bytes.length * 8);
  let out = "";
  for (let i = 0; i < chars; i++) {
    const shift = totalBits - BigInt((i + 1) * 5);
    const digit = shift >= 0n ? (value >> shift) & 31n : (value << -shift) & 31n;
    out += CROCKFORD[Number(digit)];
  }
  return out;
}

const fixedBytes = (fill: number) => (length: number) => new Uint8Array(length).fill(fill);

describe("encodeRequest", () => {
  test("writes the keys in the order the object has them", () => {
    const text = new TextDecoder().decode(encodeRequest(makePing()));

    expect(text).toBe(`{"v":1,"id":"ping-1","action":"PING","ts":${FIXTURE_NOW_MS}}`);
  });

  test("produces bytes the validator accepts unchanged", () => {
    const request = makeOpen();

    expect(parseRequest(encodeRequest(request))).toEqual({ ok: true, request });
  });

  test("throws ProtocolError with the validator's message for an invalid request", () => {
    const request = makeOpen({ volume: Number.NaN });

    expect(() => encodeRequest(request)).toThrow(ProtocolError);
    expect(() => encodeRequest(request)).toThrow(
      "protocol: INVALID_REQUEST: field volume must be a positive number, was null",
    );
  });

  test("throws before validating a request over the size cap", () => {
    const request = { ...makePing(), padding: "x".repeat(5000) } as unknown as OpenRequest;

    expect(() => encodeRequest(request)).toThrow(
      /^protocol: request is 50\d\d bytes, limit is 4096$/,
    );
  });
});

describe("reply builders", () => {
  test("okReply puts the envelope first and the body after it", () => {
    const reply = okReply("r1", { gateway: "gtw-1" });

    expect(JSON.stringify(reply)).toBe('{"v":1,"id":"r1","status":"OK","gateway":"gtw-1"}');
  });

  test("filledReply carries the trade fields", () => {
    const reply = filledReply("r1", { client_order_id: "c1", ticket: 5001, volume: 0.1 });

    expect(reply).toEqual({
      v: 1,
      id: "r1",
      status: "FILLED",
      client_order_id: "c1",
      ticket: 5001,
      volume: 0.1,
    });
  });

  test.each([
    ["INVALID_REQUEST", "ERROR"],
    ["BAD_SIGNATURE", "ERROR"],
    ["OUTCOME_UNKNOWN", "ERROR"],
    ["TRADING_HALTED", "REJECTED"],
    ["REQUOTE", "REJECTED"],
    ["MT5_LINK_DOWN", "REJECTED"],
  ] as const)("errorReply with %s has status %s", (code, status) => {
    const reply = errorReply("r1", code, "message", { retcode: 10004 });

    expect(JSON.stringify(reply)).toBe(
      `{"v":1,"id":"r1","status":"${status}","error_code":"${code}","error_msg":"message","retcode":10004}`,
    );
  });

  test("encodeReply output parses back to the same reply", () => {
    const reply = errorReply("r1", "REQUOTE", "price moved", {
      retcode: 10004,
      client_order_id: "c1",
      bid: 1.1,
      ask: 1.1001,
    });

    expect(parseReply(encodeReply(reply), "OPEN")).toEqual({ ok: true, reply });
  });
});

describe("newRequestId", () => {
  test("is 26 lowercase base32 characters of 16 random bytes", () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const id = newRequestId(() => bytes);

    expect(id).toBe(referenceBase32(bytes, 26).toLowerCase());
    expect(id).toHaveLength(26);
  });

  test("is valid as a request id and unique across 10,000 draws", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newRequestId()));
    const sample = [...ids][0] ?? "";

    expect(ids.size).toBe(10_000);
    expect(parseRequest(encodeRequest(makePing({ id: sample }))).ok).toBe(true);
  });
});

describe("newClientOrderId", () => {
  test("is 10 characters of time and 14 of randomness", () => {
    const id = newClientOrderId(FIXTURE_NOW_MS, fixedBytes(0xff));
    const time = BigInt(FIXTURE_NOW_MS).toString(32).padStart(10, "0");
    const timeCrockford = [...time].map((c) => CROCKFORD[Number.parseInt(c, 32)]).join("");

    expect(id).toBe(`${timeCrockford}${"Z".repeat(14)}`);
  });

  test("sorts by creation time", () => {
    const earlier = newClientOrderId(FIXTURE_NOW_MS, fixedBytes(0xff));
    const later = newClientOrderId(FIXTURE_NOW_MS + 1, fixedBytes(0x00));

    expect(earlier < later).toBe(true);
  });

  test("is a valid client_order_id and unique within one millisecond", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newClientOrderId(FIXTURE_NOW_MS)));
    const sample = [...ids][0] ?? "";

    expect(ids.size).toBe(10_000);
    expect(sample).toMatch(/^[0-9A-Z]{24}$/);
    expect(parseRequest(encodeRequest(makeOpen({ client_order_id: sample }))).ok).toBe(true);
  });

  test.each([-1, 1.5, Number.NaN, 2 ** 50])("refuses time %p", (nowMs) => {
    expect(() => newClientOrderId(nowMs)).toThrow(RangeError);
  });
});

describe("comment tag", () => {
  test('is "B" + the first 10 base32 characters of SHA-256', () => {
    const digest = new Bun.CryptoHasher("sha256").update("01JBZ4N5T6ABCDEFGHJKMNPQ").digest();
    const tag = commentTag("01JBZ4N5T6ABCDEFGHJKMNPQ");

    expect(tag).toBe(`B${referenceBase32(new Uint8Array(digest), 10)}`);
    expect(tag).toHaveLength(COMMENT_TAG_LENGTH);
  });

  test("is deterministic and differs between client order ids", () => {
    expect(commentTag("order-a")).toBe(commentTag("order-a"));
    expect(commentTag("order-a")).not.toBe(commentTag("order-b"));
  });

  test.each([
    ["no user comment", undefined, 11],
    ["an empty user comment", "", 11],
    ["a short user comment", "momentum", 20],
    ["a 19-character user comment", "m".repeat(19), 31],
    ["a 31-character user comment", "m".repeat(31), 31],
  ])("orderComment with %s keeps the whole tag", (_name, userComment, length) => {
    const comment = orderComment("order-a", userComment);

    expect(comment).toHaveLength(length);
    expect(comment.startsWith(commentTag("order-a"))).toBe(true);
    expect(hasCommentTag(comment, "order-a")).toBe(true);
  });

  test("orderComment cuts only the user's part", () => {
    expect(orderComment("order-a", "abcdefghijklmnopqrstuvwxyz")).toBe(
      `${commentTag("order-a")} abcdefghijklmnopqrs`,
    );
  });

  test("hasCommentTag refuses another order's tag and a tag run into other text", () => {
    const tag = commentTag("order-a");

    expect(hasCommentTag(orderComment("order-b", "x"), "order-a")).toBe(false);
    expect(hasCommentTag(`${tag}X`, "order-a")).toBe(false);
    expect(hasCommentTag(`x ${tag}`, "order-a")).toBe(false);
    expect(hasCommentTag("", "order-a")).toBe(false);
  });
});

describe("intentHash", () => {
  const open = makeOpen();

  test("ignores the envelope: id, ts, key_id, gateway and client_order_id", () => {
    const retry = makeOpen({
      id: "another",
      ts: FIXTURE_NOW_MS + 900,
      key_id: "inf-2",
      gateway: "gtw-2",
      client_order_id: "other",
    });

    expect(intentHash(retry)).toBe(intentHash(open));
    expect(intentHash(open)).toMatch(/^[0-9a-f]{64}$/);
  });

  test.each([
    ["volume", makeOpen({ volume: 0.2 })],
    ["side", makeOpen({ side: "SELL" })],
    ["symbol", makeOpen({ symbol: "GBPUSD" })],
    ["sl", makeOpen({ sl: 1.09 })],
    ["sl to null", makeOpen({ sl: null })],
    ["tp", makeOpen({ tp: 1.2 })],
    ["deviation", makeOpen({ deviation: 20 })],
    ["magic", makeOpen({ magic: 1 })],
    ["comment", makeOpen({ comment: "other" })],
  ])("changes with %s", (_name, changed) => {
    expect(intentHash(changed)).not.toBe(intentHash(open));
  });

  test("tells a MODIFY that removes a stop from one that keeps it", () => {
    const { sl: _sl, ...keepsSl } = makeModify({ tp: 1.2 });
    const removesSl = makeModify({ sl: null, tp: 1.2 });

    expect(intentHash(keepsSl)).not.toBe(intentHash(removesSl));
  });

  test("tells a partial CLOSE from a full one and one ticket from another", () => {
    const { volume: _volume, ...full } = makeClose();

    expect(intentHash(full)).not.toBe(intentHash(makeClose()));
    expect(intentHash(makeClose({ ticket: 5002 }))).not.toBe(intentHash(makeClose()));
  });
});

describe("roundDecimal", () => {
  test("removes float noise so the volume passes validation", () => {
    const volume = roundDecimal(0.1 + 0.2);

    expect(volume).toBe(0.3);
    expect(parseRequest(encodeRequest(makeOpen({ volume }))).ok).toBe(true);
  });
});
