import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { parseConfigText } from "../shared/config/load.ts";
import { ConfigError } from "../shared/errors.ts";
import { NON_CANONICAL_HOSTS, withPort } from "../shared/testing/host-spellings.ts";
import {
  GATEWAY_ENV_OVERRIDES,
  gatewayConfigSchema,
  loadGatewayConfig,
  resolvePaths,
} from "./config.ts";

const EXAMPLE = join(import.meta.dir, "..", "config", "gtw.example.yaml");

/** Every dotted key path in a YAML mapping (including commented-out keys are not counted). */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    return [path, ...keyPaths(child, path)];
  });
}

/** The issues parsing `text` raises (fails the test when it parses). */
function issuesOf(text: string) {
  let caught: unknown;
  try {
    parseConfigText(text, "gtw.yaml", gatewayConfigSchema);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return (caught as ConfigError).issues;
}

describe("gateway config", () => {
  test("the example validates", () => {
    const config = loadGatewayConfig(EXAMPLE, {});
    expect(config.gateway.name).toBe("gtw-1");
    expect(config.limits.symbols).toContain("EURUSD");
    expect(config.keys.server_secret.startsWith("/")).toBe(true);
  });

  test("the example lists every key the schema knows (with its default)", () => {
    const example = parseDocument(readFileSync(EXAMPLE, "utf8")).toJS() as Record<string, unknown>;
    const minimal = {
      gateway: { name: "g" },
      keys: {
        server_secret: "s",
        authorized_clients_dir: "c",
        signing_keys: [{ key_id: "k", file: "f" }],
      },
      limits: { symbols: ["EURUSD"], max_volume: 1, max_open_positions: 1 },
    };
    const withDefaults = gatewayConfigSchema.parse(minimal);
    const documented = new Set(keyPaths(example));
    const schemaKeys = keyPaths(withDefaults).filter(
      (path) => !path.startsWith("keys.signing_keys"),
    );
    expect(schemaKeys.filter((path) => !documented.has(path))).toEqual([]);
  });

  test("refuses unknown keys and bad values with file, key and line", () => {
    const text = readFileSync(EXAMPLE, "utf8").replace(
      "max_volume: 5",
      "max_volume: -5\n  max_volumes: 1",
    );
    const issues = issuesOf(text);
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      "limits.max_volume",
      "limits.max_volumes",
    ]);
    expect(
      issues.every((issue) => issue.file === "gtw.yaml" && typeof issue.line === "number"),
    ).toBe(true);
  });

  test("the terminal's old token_file is refused with its new name; the heartbeat stays in the EA's range", () => {
    const text = readFileSync(EXAMPLE, "utf8")
      .replace("secret_file: keys/terminal.secret", "token_file: keys/terminal.token")
      .replace("heartbeat_ms: 1000", "heartbeat_ms: 30000");
    const issues = issuesOf(text);
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      "backend.terminal.heartbeat_ms",
      "backend.terminal.token_file",
    ]);
    expect(issues.find((i) => i.path.endsWith("token_file"))?.message).toContain(
      "token_file was renamed secret_file",
    );
  });

  test("the sim's volatility is one multiplier or per symbol, within bounds, of sim symbols", () => {
    const example = readFileSync(EXAMPLE, "utf8");
    const withSetting = (setting: string) =>
      example.replace("volatility: 1", `volatility: ${setting}`);
    const config = parseConfigText(
      withSetting("{ default: 5, EURUSD: 20 }"),
      "gtw.yaml",
      gatewayConfigSchema,
    );
    expect(config.backend.sim.volatility).toEqual({ default: 5, EURUSD: 20 });
    expect(issuesOf(withSetting("{ EURUSX: 20 }"))).toEqual([
      expect.objectContaining({
        path: "backend.sim.volatility",
        message: expect.stringContaining("volatility names EURUSX, which is not a sim symbol"),
      }),
    ]);
    expect(issuesOf(withSetting("500"))).toEqual([
      expect.objectContaining({
        path: "backend.sim.volatility",
        message: expect.stringContaining("from 0.1 to 100"),
      }),
    ]);
  });

  test.each(NON_CANONICAL_HOSTS)("the endpoint refuses %s (write %s)", (written, canonical) => {
    const text = readFileSync(EXAMPLE, "utf8").replace(
      "endpoint: tcp://0.0.0.0:5700",
      `endpoint: "tcp://${withPort(written, 5700)}"`,
    );
    expect(issuesOf(text)).toEqual([
      expect.objectContaining({
        path: "endpoint",
        message: expect.stringMatching(new RegExp(`write ${canonical}$`)),
      }),
    ]);
  });

  test("a signing key needs exactly one of file or public_key, and some client must be authorized", () => {
    const text = readFileSync(EXAMPLE, "utf8")
      .replace("      file: keys/inf-1.sign\n", "")
      .replace("  authorized_clients_dir: keys/clients\n", "");
    let caught: unknown;
    try {
      parseConfigText(text, "gtw.yaml", gatewayConfigSchema);
    } catch (error) {
      caught = error;
    }
    const messages = (caught as ConfigError).issues.map(
      (issue) => `${issue.path}: ${issue.message}`,
    );
    expect(messages).toContainEqual(
      expect.stringContaining("give exactly one of file or public_key"),
    );
    expect(messages).toContainEqual(expect.stringContaining("no client is authorized"));
  });

  test("documented env overrides apply and are validated", () => {
    const config = loadGatewayConfig(EXAMPLE, {
      AGENT_GTW_ENDPOINT: "tcp://127.0.0.1:6000",
      AGENT_LOG_LEVEL: "debug",
    });
    expect(config.endpoint).toBe("tcp://127.0.0.1:6000");
    expect(config.log.level).toBe("debug");
    expect(() => loadGatewayConfig(EXAMPLE, { AGENT_GTW_BACKEND: "metatrader" })).toThrow(
      ConfigError,
    );
    expect(GATEWAY_ENV_OVERRIDES.map((override) => override.env)).toEqual([
      "AGENT_GTW_ENDPOINT",
      "AGENT_GTW_BACKEND",
      "AGENT_GTW_TERMINAL_PORT",
      "AGENT_LOG_LEVEL",
    ]);
  });

  test("relative paths resolve against the config file's folder", () => {
    const parsed = parseConfigText(readFileSync(EXAMPLE, "utf8"), "x.yaml", gatewayConfigSchema);
    const resolved = resolvePaths(parsed, "/srv/gtw");
    expect(resolved.keys.server_secret).toBe("/srv/gtw/keys/agent-gtw.key_secret");
    expect(resolved.journal.path).toBe("/srv/gtw/state/orders.journal");
    expect(resolved.keys.signing_keys[0]?.file).toBe("/srv/gtw/keys/inf-1.sign");
  });
});
