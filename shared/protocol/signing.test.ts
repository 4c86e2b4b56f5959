import { beforeEach, describe, expect, test } from "bun:test";
import { AgentError } from "../errors.ts";
import { TestClock } from "../testing/test-clock.ts";
import { encodeRequest } from "./codec.ts";
import {
  createSigner,
  generateSigningKeyPair,
  SignatureVerifier,
  type SignatureVerifierOptions,
  type Signer,
  signingPublicKey,
} from "./signing.ts";
import {
  FIXTURE_GATEWAY,
  FIXTURE_KEY_ID,
  makeClose,
  makeModify,
  makeOpen,
} from "./testing/fixtures.ts";
import type { SignedRequest } from "./types.ts";

// RFC 8032 §7.1 test 1: a fixed key pair and the signature of the empty message.
const RFC_SECRET = Buffer.from(
  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  "hex",
);
const RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC_SIGNATURE =
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

describe("keys and signer", () => {
  test("reproduces the RFC 8032 test vector", () => {
    const signer = createSigner({ keyId: "rfc", secretKey: RFC_SECRET });

    expect(Buffer.from(signer.publicKey).toString("hex")).toBe(RFC_PUBLIC);
    expect(Buffer.from(signer.sign(new Uint8Array())).toString("hex")).toBe(RFC_SIGNATURE);
  });

  test("generates raw 32-byte keys that belong together", () => {
    const pair = generateSigningKeyPair();

    expect(pair.publicKey).toHaveLength(32);
    expect(pair.secretKey).toHaveLength(32);
    expect(signingPublicKey(pair.secretKey)).toEqual(pair.publicKey);
  });

  test("signs with 64 bytes", () => {
    const signer = createSigner({ keyId: "k", secretKey: generateSigningKeyPair().secretKey });

    expect(signer.sign(encodeRequest(makeOpen()))).toHaveLength(64);
  });

  test.each([
    [
      "a 31-byte secret",
      { keyId: "k", secretKey: new Uint8Array(31) },
      "secret key must be 32 bytes, was 31",
    ],
    ["a 64-byte secret", { keyId: "k", secretKey: new Uint8Array(64) }, "was 64"],
    [
      "a key id with a space",
      { keyId: "a b", secretKey: new Uint8Array(32) },
      "key id must contain only",
    ],
  ])("refuses %s", (_name, options, message) => {
    expect(() => createSigner(options)).toThrow(AgentError);
    expect(() => createSigner(options)).toThrow(message);
  });
});

interface Fixture {
  clock: TestClock;
  signer: Signer;
  verifier: SignatureVerifier;
}

function setUp(overrides: Partial<SignatureVerifierOptions> = {}): Fixture {
  const clock = new TestClock();
  const pair = generateSigningKeyPair();
  const signer = createSigner({ keyId: FIXTURE_KEY_ID, secretKey: pair.secretKey });
  const verifier = new SignatureVerifier({
    gatewayName: FIXTURE_GATEWAY,
    trustedKeys: new Map([[FIXTURE_KEY_ID, pair.publicKey]]),
    clock,
    ...overrides,
  });
  return { clock, signer, verifier };
}

/** The request at the fixture clock's time, its bytes and its signature. */
function signed(
  fixture: Fixture,
  request: SignedRequest = makeOpen({ ts: fixture.clock.now() }),
): [Uint8Array, Uint8Array, SignedRequest] {
  const bytes = encodeRequest(request);
  return [bytes, fixture.signer.sign(bytes), request];
}

describe("SignatureVerifier", () => {
  let fixture: Fixture;
  beforeEach(() => {
    fixture = setUp();
  });

  test.each([
    ["OPEN", makeOpen()],
    ["CLOSE", makeClose()],
    ["MODIFY", makeModify()],
  ])("accepts a fresh, correctly signed %s", (_name, request) => {
    const [bytes, signature] = signed(fixture, { ...request, ts: fixture.clock.now() });

    expect(fixture.verifier.verify(bytes, signature, request)).toEqual({ ok: true });
  });

  test("refuses a missing signature frame", () => {
    const [bytes, , request] = signed(fixture);

    expect(fixture.verifier.verify(bytes, undefined, request)).toEqual({
      ok: false,
      code: "MISSING_SIGNATURE",
      message: "OPEN needs a second frame with the 64-byte Ed25519 signature",
    });
  });

  test.each([0, 63, 65, 128])("refuses a signature of %d bytes", (length) => {
    const [bytes, , request] = signed(fixture);

    expect(fixture.verifier.verify(bytes, new Uint8Array(length), request)).toEqual({
      ok: false,
      code: "BAD_SIGNATURE",
      message: `signature must be 64 bytes, was ${length}`,
    });
  });

  test("refuses every single-byte change to the request bytes", () => {
    const [bytes, signature, request] = signed(fixture);
    const codes = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      const tampered = new Uint8Array(bytes);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      const result = fixture.verifier.verify(tampered, signature, request);
      codes.add(result.ok ? "OK" : result.code);
    }

    expect([...codes]).toEqual(["BAD_SIGNATURE"]);
    expect(fixture.verifier.verify(bytes, signature, request)).toEqual({ ok: true });
  });

  test("refuses every single-byte change to the signature", () => {
    const [bytes, signature, request] = signed(fixture);
    const codes = new Set<string>();
    for (let i = 0; i < signature.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = new Uint8Array(signature);
        tampered[i] = (tampered[i] ?? 0) ^ mask;
        const result = fixture.verifier.verify(bytes, tampered, request);
        codes.add(result.ok ? "OK" : result.code);
      }
    }

    expect([...codes]).toEqual(["BAD_SIGNATURE"]);
    expect(fixture.verifier.verify(bytes, signature, request)).toEqual({ ok: true });
  });

  test("refuses a signature made with another key under a trusted key id", () => {
    const [bytes, , request] = signed(fixture);
    const impostor = createSigner({
      keyId: FIXTURE_KEY_ID,
      secretKey: generateSigningKeyPair().secretKey,
    });

    expect(fixture.verifier.verify(bytes, impostor.sign(bytes), request)).toMatchObject({
      ok: false,
      code: "BAD_SIGNATURE",
    });
  });

  test("refuses an unknown key id", () => {
    const [bytes, signature, request] = signed(
      fixture,
      makeOpen({ key_id: "inf-9", ts: fixture.clock.now() }),
    );

    expect(fixture.verifier.verify(bytes, signature, request)).toEqual({
      ok: false,
      code: "UNKNOWN_KEY",
      message: 'key_id "inf-9" is not a trusted signing key',
    });
  });

  test("refuses a request for another gateway", () => {
    const [bytes, signature, request] = signed(
      fixture,
      makeOpen({ gateway: "gtw-2", ts: fixture.clock.now() }),
    );

    expect(fixture.verifier.verify(bytes, signature, request)).toEqual({
      ok: false,
      code: "WRONG_GATEWAY",
      message: 'request is for gateway "gtw-2", this is "gtw-1"',
    });
  });

  test("accepts a request exactly TTL + skew old and refuses it 1 ms later", () => {
    const [bytes, signature, request] = signed(fixture);
    fixture.clock.advance(2500);
    const atLimit = fixture.verifier.verify(bytes, signature, request);
    const [bytes2, signature2, request2] = signed(
      fixture,
      makeOpen({ id: "other", ts: fixture.clock.now() - 2501 }),
    );

    expect(atLimit).toEqual({ ok: true });
    expect(fixture.verifier.verify(bytes2, signature2, request2)).toEqual({
      ok: false,
      code: "EXPIRED",
      message: "request is 2501 ms old, limit is 2500 ms (ttl 2000 + skew 500)",
    });
  });

  test("uses the configured TTL and skew", () => {
    fixture = setUp({ ttlMs: 100, skewMs: 0 });
    const [bytes, signature, request] = signed(fixture);
    fixture.clock.advance(101);

    expect(fixture.verifier.verify(bytes, signature, request)).toMatchObject({
      code: "EXPIRED",
      message: "request is 101 ms old, limit is 100 ms (ttl 100 + skew 0)",
    });
  });

  test("accepts ts up to the skew ahead and refuses it further in the future", () => {
    const ahead = makeOpen({ id: "ahead", ts: fixture.clock.now() + 500 });
    const tooFar = makeOpen({ id: "too-far", ts: fixture.clock.now() + 501 });
    const [bytes, signature] = signed(fixture, ahead);
    const [bytes2, signature2] = signed(fixture, tooFar);

    expect(fixture.verifier.verify(bytes, signature, ahead)).toEqual({ ok: true });
    expect(fixture.verifier.verify(bytes2, signature2, tooFar)).toEqual({
      ok: false,
      code: "EXPIRED",
      message: "request ts is 501 ms in the future, limit is 500 ms (clock skew)",
    });
  });

  test("refuses a replay within the window, and an expired replay as EXPIRED", () => {
    const [bytes, signature, request] = signed(fixture);
    const first = fixture.verifier.verify(bytes, signature, request);
    fixture.clock.advance(2500);
    const replay = fixture.verifier.verify(bytes, signature, request);
    fixture.clock.advance(1);
    const late = fixture.verifier.verify(bytes, signature, request);

    expect(first).toEqual({ ok: true });
    expect(replay).toEqual({
      ok: false,
      code: "REPLAYED",
      message: `request id "${request.id}" was already accepted within the last 2500 ms`,
    });
    expect(late).toMatchObject({ ok: false, code: "EXPIRED" });
  });

  test("does not record ids of refused requests, so they cannot poison the cache", () => {
    const [bytes, signature, request] = signed(fixture);
    const forged = fixture.verifier.verify(bytes, new Uint8Array(64), request);

    expect(forged).toMatchObject({ code: "BAD_SIGNATURE" });
    expect(fixture.verifier.replayEntries).toBe(0);
    expect(fixture.verifier.verify(bytes, signature, request)).toEqual({ ok: true });
  });

  test("forgets ids once their window has passed", () => {
    for (let i = 0; i < 10; i++) {
      const [bytes, signature, request] = signed(
        fixture,
        makeOpen({ id: `r${i}`, ts: fixture.clock.now() }),
      );
      fixture.verifier.verify(bytes, signature, request);
      fixture.clock.advance(1000);
    }
    const remembered = fixture.verifier.replayEntries;

    expect(remembered).toBe(3);
  });

  test("refuses with RATE_LIMITED when the replay cache is full, and recovers", () => {
    fixture = setUp({ maxReplayEntries: 2 });
    const results = ["a", "b", "c"].map((id) => {
      const [bytes, signature, request] = signed(
        fixture,
        makeOpen({ id, ts: fixture.clock.now() }),
      );
      return fixture.verifier.verify(bytes, signature, request);
    });
    fixture.clock.advance(2501);
    const [bytes, signature, request] = signed(
      fixture,
      makeOpen({ id: "c", ts: fixture.clock.now() }),
    );

    expect(results.map((result) => (result.ok ? "OK" : result.code))).toEqual([
      "OK",
      "OK",
      "RATE_LIMITED",
    ]);
    expect(fixture.verifier.verify(bytes, signature, request)).toEqual({ ok: true });
  });

  test("checks cheap things before the signature: a forged request names its real fault", () => {
    const request = makeOpen({ gateway: "gtw-2", ts: fixture.clock.now() });

    expect(
      fixture.verifier.verify(encodeRequest(request), new Uint8Array(64), request),
    ).toMatchObject({
      code: "WRONG_GATEWAY",
    });
  });
});

describe("SignatureVerifier configuration", () => {
  test.each([
    [
      "a 31-byte trusted key",
      { trustedKeys: new Map([["k", new Uint8Array(31)]]) },
      "public key k must be 32 bytes, was 31",
    ],
    ["a zero TTL", { ttlMs: 0 }, "ttlMs must be > 0, was 0"],
    ["a negative skew", { skewMs: -1 }, "skewMs must be ≥ 0, was -1"],
    ["an empty replay cache", { maxReplayEntries: 0 }, "maxReplayEntries must be ≥ 1, was 0"],
  ])("refuses %s", (_name, overrides, message) => {
    expect(() => setUp(overrides)).toThrow(AgentError);
    expect(() => setUp(overrides)).toThrow(message);
  });
});
