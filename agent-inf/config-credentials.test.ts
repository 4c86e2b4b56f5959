import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadInferenceConfig } from "./config.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

// `agent-inf service install` hands key files over with LoadCredential= (shared/service/systemd.ts)
describe("agent-inf config under systemd credentials", () => {
  test("key and token paths point into $CREDENTIALS_DIRECTORY where a credential exists", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlb-credentials-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const credentials = join(dir, "credentials");
    mkdirSync(credentials);
    for (const file of [
      "inf-1.key_secret",
      "inf-1.sign_secret",
      "agent-gtw.key",
      "operator.token",
    ]) {
      writeFileSync(join(credentials, file), "");
    }
    const configPath = join(dir, "agent-inf.yaml");
    writeFileSync(
      configPath,
      stringify({
        agent: { name: "inf-1" },
        keys: { client_secret: "keys/inf-1.key_secret", signing_secret: "keys/inf-1.sign_secret" },
        gateways: [
          {
            name: "gtw-1",
            endpoint: "tcp://127.0.0.1:5700",
            server_key_file: "keys/agent-gtw.key",
          },
        ],
        risk: { allowed_symbols: ["EURUSD"], max_lots: 1 },
        api: { token_file: "keys/api.token", operator_token_file: "keys/operator.token" },
      }),
    );
    const plain = loadInferenceConfig(configPath, {});
    expect(plain.keys.client_secret).toBe(join(dir, "keys", "inf-1.key_secret"));

    const config = loadInferenceConfig(configPath, { CREDENTIALS_DIRECTORY: credentials });
    expect(config.keys).toEqual({
      client_secret: join(credentials, "inf-1.key_secret"),
      signing_secret: join(credentials, "inf-1.sign_secret"),
    });
    expect(config.gateways[0]?.server_key_file).toBe(join(credentials, "agent-gtw.key"));
    expect(config.api.operator_token_file).toBe(join(credentials, "operator.token"));
    // No credential of that name: the configured path stays
    expect(config.api.token_file).toBe(join(dir, "keys", "api.token"));
    expect(config.state_dir).toBe(plain.state_dir);
  });
});
