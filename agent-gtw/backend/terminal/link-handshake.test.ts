/**
 * The link's mutual authentication, pure (docs/EA-LINK.md §6.1, §6.2): HMAC-SHA256 on both
 * sides against RFC 4231, the worked example of EA-LINK.md computed by both, and the gateway's
 * judgement of AUTH and HELLO: the EA's proof before anything else, replays and reflections
 * refused, a HELLO from a terminal that is not logged in refused.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkAuth,
  EA_PROOF_LABEL,
  eaProof,
  GATEWAY_PROOF_LABEL,
  gatewayProof,
  hmacSha256Hex,
  proofMatches,
} from "./link-auth.ts";
import { GatewayHandshake } from "./link-handshake.ts";
import {
  AUTH_EA_LABEL,
  AUTH_GW_LABEL,
  authHex,
  authHmac,
  authProof,
  authSecretValid,
  authSelfTest,
  NonceSource,
} from "./testing/fake-auth.ts";
import { SECRET } from "./testing/rig.ts";

const latin1 = (bytes: number[]) => String.fromCharCode(...bytes);
const repeat = (byte: number, count: number) => new Array<number>(count).fill(byte);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** RFC 4231 §4: the HMAC-SHA-256 results of test cases 1–4, 6 and 7 (5 is a truncation). */
const RFC_4231: ReadonlyArray<readonly [string, number[], number[], string]> = [
  [
    "1",
    repeat(0x0b, 20),
    ascii("Hi There"),
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  ],
  [
    "2",
    ascii("Jefe"),
    ascii("what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  ],
  [
    "3",
    repeat(0xaa, 20),
    repeat(0xdd, 50),
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
  ],
  [
    "4",
    Array.from({ length: 25 }, (_, i) => i + 1),
    repeat(0xcd, 50),
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  ],
  [
    "6",
    repeat(0xaa, 131),
    ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  ],
  [
    "7",
    repeat(0xaa, 131),
    ascii(
      "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
    ),
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  ],
];

describe("HMAC-SHA256 (RFC 2104) against RFC 4231", () => {
  test.each(RFC_4231)("gateway (node:crypto), test case %s", (_case, key, data, expected) => {
    expect(hmacSha256Hex(latin1(key), latin1(data))).toBe(expected);
  });

  test.each(RFC_4231)(
    "EA construction on plain SHA-256 (fake-auth, BridgeAuth.mqh), test case %s",
    (_case, key, data, expected) => {
      expect(authHex(authHmac(new Uint8Array(key), new Uint8Array(data)))).toBe(expected);
    },
  );

  test("the EA's start-up self-test passes on a correct SHA-256", () => {
    expect(authSelfTest()).toBe(true);
  });

  test("both sides use the same labels", () => {
    expect(AUTH_GW_LABEL).toBe(GATEWAY_PROOF_LABEL);
    expect(AUTH_EA_LABEL).toBe(EA_PROOF_LABEL);
  });
});

/** EA-LINK.md §6.1's worked example: inputs derived so a reader can recompute them. */
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const EXAMPLE = {
  secret: sha256("EA-LINK.md worked example secret"),
  eaNonce: sha256("EA-LINK.md worked example ea_nonce"),
  gwNonce: sha256("EA-LINK.md worked example gw_nonce"),
};

describe("the worked example in docs/EA-LINK.md", () => {
  const doc = readFileSync(join(import.meta.dir, "..", "..", "..", "docs", "EA-LINK.md"), "utf8");

  test("every value in the document is what both implementations compute", () => {
    const { secret, eaNonce, gwNonce } = EXAMPLE;
    const gw = gatewayProof(secret, eaNonce, gwNonce);
    const ea = eaProof(secret, eaNonce, gwNonce);
    expect(authProof(secret, AUTH_GW_LABEL, eaNonce, gwNonce)).toBe(gw);
    expect(authProof(secret, AUTH_EA_LABEL, eaNonce, gwNonce)).toBe(ea);
    for (const value of [secret, eaNonce, gwNonce, gw, ea]) expect(doc).toContain(value);
    expect(doc).toContain(`${GATEWAY_PROOF_LABEL}|${eaNonce}|${gwNonce}`);
  });
});

const NONCE_A = "a".repeat(64);
const GW_NONCE = "0123456789abcdef".repeat(4);
const fixedRandom = () => new Uint8Array(Buffer.from(GW_NONCE, "hex"));

const helloFrom = (proof: string, change: Record<string, unknown> = {}) => ({
  type: "HELLO",
  proto: 2,
  ea_proof: proof,
  login: 5012345,
  server: "MetaQuotes-Demo",
  company: "MetaQuotes Ltd.",
  currency: "USD",
  account_trade_mode: "DEMO",
  margin_mode: "HEDGING",
  terminal_build: 4755,
  ea_version: "2.0.0",
  magic: 570100,
  max_lots: 1,
  deviation: 10,
  chart_symbol: "EURUSD",
  dedup_entries: 0,
  terminal_connected: true,
  terminal_trade_allowed: true,
  ea_trade_allowed: true,
  account_trade_allowed: true,
  account_trade_expert: true,
  server_time: 1767607200000,
  gmt_offset_s: 7200,
  ...change,
});

/** A handshake past AUTH; returns it and the CHALLENGE the gateway sent. */
function challenged(expectedLogin?: number) {
  const handshake = new GatewayHandshake({ secret: SECRET, expectedLogin, random: fixedRandom });
  const step = handshake.step({ type: "AUTH", proto: 2, ea_nonce: NONCE_A });
  if (step.kind !== "reply") throw new Error(`expected CHALLENGE, got ${step.kind}`);
  return { handshake, challenge: step.frame };
}

describe("AUTH (§6.1)", () => {
  test.each([
    [
      "an EA of protocol 1 (its first frame is a HELLO with a token)",
      { type: "HELLO", proto: 1, token: "x" },
      "PROTO_UNSUPPORTED",
    ],
    ["no proto", { type: "AUTH", ea_nonce: NONCE_A }, "PROTO_UNSUPPORTED"],
    ["another frame type", { type: "HELLO", proto: 2, ea_nonce: NONCE_A }, "BAD_AUTH"],
    ["a short nonce", { type: "AUTH", proto: 2, ea_nonce: "ab" }, "BAD_AUTH"],
    ["an upper-case nonce", { type: "AUTH", proto: 2, ea_nonce: "A".repeat(64) }, "BAD_AUTH"],
  ])("%s is refused with %s", (_name, frame, reason) => {
    const verdict = checkAuth(frame);
    expect(verdict.ok ? "accepted" : verdict.reason).toBe(reason);
  });

  test("the gateway proves itself first: its CHALLENGE carries a proof the EA can check", () => {
    const { challenge } = challenged();
    expect(challenge).toEqual({
      type: "CHALLENGE",
      gw_nonce: GW_NONCE,
      gw_proof: authProof(SECRET, AUTH_GW_LABEL, NONCE_A, GW_NONCE),
    });
    // Nothing in it is the secret, and a different secret gives a proof that does not check
    expect(JSON.stringify(challenge)).not.toContain(SECRET);
    const other = `${SECRET.slice(0, -1)}0`;
    expect(authProof(other, AUTH_GW_LABEL, NONCE_A, GW_NONCE)).not.toBe(challenge["gw_proof"]);
  });
});

describe("HELLO (§6.2)", () => {
  const proof = authProof(SECRET, AUTH_EA_LABEL, NONCE_A, GW_NONCE);

  test("a HELLO with the EA's proof is accepted", () => {
    const { handshake } = challenged();
    const step = handshake.step(helloFrom(proof));
    expect(step.kind === "accepted" && step.hello.login).toBe(5012345);
    expect(handshake.stage).toBe("DONE");
  });

  test("the proof is judged before anything else: a bad one names nothing else", () => {
    const { handshake } = challenged();
    const step = handshake.step(helloFrom("f".repeat(64), { proto: 9, login: "x" }));
    expect(step).toMatchObject({ kind: "refuse", reason: "BAD_PROOF" });
  });

  test.each([
    ["no proof", undefined],
    ["the gateway's own proof reflected back", "gateway"],
    ["a proof over another gateway nonce (a replayed HELLO)", "replay"],
    ["a proof under another secret", "secret"],
  ])("%s is BAD_PROOF", (_name, kind) => {
    const { handshake, challenge } = challenged();
    const presented =
      kind === "gateway"
        ? challenge["gw_proof"]
        : kind === "replay"
          ? authProof(SECRET, AUTH_EA_LABEL, NONCE_A, "b".repeat(64))
          : kind === "secret"
            ? authProof(`${SECRET}x`, AUTH_EA_LABEL, NONCE_A, GW_NONCE)
            : undefined;
    const step = handshake.step(helloFrom(presented as string));
    expect(step).toMatchObject({ kind: "refuse", reason: "BAD_PROOF" });
  });

  test("login 0 (terminal not logged in, trade mode would read DEMO) is NOT_LOGGED_IN", () => {
    const { handshake } = challenged();
    expect(handshake.step(helloFrom(proof, { login: 0 }))).toMatchObject({
      kind: "refuse",
      reason: "NOT_LOGGED_IN",
    });
  });

  test.each([
    ["proto 1", { proto: 1 }, "PROTO_UNSUPPORTED"],
    ["a string login", { login: "5012345" }, "BAD_HELLO"],
    ["an unknown account kind", { account_trade_mode: "LIVE" }, "BAD_HELLO"],
    ["an impossible offset", { gmt_offset_s: 90_000 }, "BAD_HELLO"],
  ])("after a good proof, %s is refused with %s", (_name, change, reason) => {
    const { handshake } = challenged();
    expect(handshake.step(helloFrom(proof, change))).toMatchObject({ kind: "refuse", reason });
  });

  test("another login than the expected one is WRONG_ACCOUNT", () => {
    const { handshake } = challenged(42);
    expect(handshake.step(helloFrom(proof))).toMatchObject({
      kind: "refuse",
      reason: "WRONG_ACCOUNT",
    });
  });

  test("a frame after the handshake ended is refused", () => {
    const { handshake } = challenged();
    handshake.step(helloFrom(proof));
    expect(handshake.step(helloFrom(proof)).kind).toBe("refuse");
  });
});

describe("proof comparison and the EA's nonces", () => {
  test("proofMatches takes 64 lowercase hex characters and nothing else", () => {
    const good = "0".repeat(64);
    expect(proofMatches(good, good)).toBe(true);
    expect(proofMatches("0".repeat(63), good)).toBe(false);
    expect(proofMatches(12, good)).toBe(false);
    expect(proofMatches(good.toUpperCase().replace(/0/g, "A"), "a".repeat(64))).toBe(false);
  });

  test("the EA's nonces never repeat and depend on the secret (no CSPRNG in MQL5)", () => {
    const inputs = { timeLocalS: 1_767_607_200, tickCountMs: 1000, microseconds: 5, rand: 7 };
    const one = new NonceSource();
    const first = one.next(SECRET, inputs);
    const second = one.next(SECRET, inputs);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(new NonceSource().next(`${SECRET}x`, inputs)).not.toBe(first);
  });

  test("the EA takes only a 32–256 character printable secret, as secret_file does", () => {
    expect(authSecretValid(SECRET)).toBe(true);
    expect(authSecretValid("x".repeat(31))).toBe(false);
    expect(authSecretValid(`${"x".repeat(40)} y`)).toBe(false);
    expect(authSecretValid("x".repeat(257))).toBe(false);
  });
});
