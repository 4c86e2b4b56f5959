/**
 * Signing keys bound to the CURVE clients that may use them (issue 12 §4): the default (the client
 * named like the key id), an explicit list, and the config error an upgraded config meets.
 */
import { describe, expect, test } from "bun:test";
import { z85Encode } from "../../shared/curve/z85.ts";
import { generateSigningKeyPair } from "../../shared/protocol/index.ts";
import { type GatewayConfig, gatewayConfigSchema } from "../config.ts";
import { loadSigningKeys } from "./signing-keys.ts";

function config(signingKeys: object[]): GatewayConfig {
  return gatewayConfigSchema.parse({
    gateway: { name: "gtw-1" },
    keys: {
      server_secret: "keys/agent-gtw.key_secret",
      authorized_clients_dir: "keys/clients",
      signing_keys: signingKeys,
    },
    limits: { symbols: ["EURUSD"], max_volume: 1, max_open_positions: 5 },
  });
}

const key = () => z85Encode(generateSigningKeyPair().publicKey);

describe("signing keys bound to clients", () => {
  test("by default a key is bound to the client named like its key id", () => {
    const signing = loadSigningKeys(
      config([{ key_id: "inf-1", public_key: key() }]),
      new Set(["inf-1", "inf-2"]),
    );
    expect(signing.allowed("inf-1", "inf-1")).toBe(true);
    expect(signing.allowed("inf-1", "inf-2")).toBe(false);
    // Unknown ids are the verifier's to refuse (UNKNOWN_KEY "not a trusted signing key")
    expect(signing.allowed("nobody", "inf-2")).toBe(true);
  });

  test("clients: lists who may use it", () => {
    const signing = loadSigningKeys(
      config([{ key_id: "desk", public_key: key(), clients: ["inf-1", "inf-2"] }]),
      new Set(["inf-1", "inf-2", "inf-3"]),
    );
    expect(["inf-1", "inf-2", "inf-3"].map((client) => signing.allowed("desk", client))).toEqual([
      true,
      true,
      false,
    ]);
  });

  test("an upgraded config whose key ids are not client names gets an error saying how to fix it", () => {
    expect(() =>
      loadSigningKeys(config([{ key_id: "strategy", public_key: key() }]), new Set(["inf-1"])),
    ).toThrow(
      /keys\.signing_keys\[0\] \(key_id strategy\) may be used by no client.*authorized: inf-1\)\. Add clients: \[<client name>\] to that entry/,
    );
    expect(() =>
      loadSigningKeys(
        config([{ key_id: "strategy", public_key: key(), clients: ["inf-9"] }]),
        new Set(["inf-1"]),
      ),
    ).toThrow(/names clients inf-9, none of which is authorized/);
  });
});
