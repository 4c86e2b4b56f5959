import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { parseConfigText } from "../shared/config/load.ts";
import { ConfigError } from "../shared/errors.ts";
import { NON_CANONICAL_HOSTS, withPort } from "../shared/testing/host-spellings.ts";
import { inferenceConfigSchema, loadInferenceConfig, toRiskLimits } from "./config.ts";
import { riskLimitIssues } from "./risk/types.ts";

const EXAMPLE = join(import.meta.dir, "..", "config", "inf.example.yaml");

function keyPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    return [path, ...keyPaths(child, path)];
  });
}

function issuesOf(text: string) {
  try {
    parseConfigText(text, "inf.yaml", inferenceConfigSchema);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
}

const example = () => readFileSync(EXAMPLE, "utf8");

describe("inference config", () => {
  test("the example validates and maps onto valid risk limits", () => {
    const config = loadInferenceConfig(EXAMPLE, {});
    expect(config.gateways[0]?.name).toBe("gtw-1");
    expect(riskLimitIssues(toRiskLimits(config.risk))).toEqual([]);
    expect(config.keys.client_secret.startsWith("/")).toBe(true);
  });

  test("the example lists every key the schema knows", () => {
    const documented = new Set(keyPaths(parseDocument(example()).toJS()));
    const minimal = inferenceConfigSchema.parse({
      agent: { name: "a" },
      keys: { client_secret: "c", signing_secret: "s" },
      gateways: [{ name: "g", endpoint: "tcp://127.0.0.1:1", server_key_file: "k" }],
      risk: { allowed_symbols: ["EURUSD"], max_lots: 1 },
      api: { token_file: "t", operator_token_file: "o" },
    });
    const missing = keyPaths(minimal).filter(
      (path) => !path.startsWith("gateways") && !documented.has(path),
    );
    expect(missing).toEqual([]);
  });

  test.each(NON_CANONICAL_HOSTS)(
    "api.listen and a gateway endpoint refuse %s (write %s)",
    (written, canonical) => {
      const text = example()
        .replace("listen: 127.0.0.1:8765", `listen: "${withPort(written, 8765)}"`)
        .replace("endpoint: tcp://192.0.2.10:5700", `endpoint: "tcp://${withPort(written, 5700)}"`);
      const issues = issuesOf(text);
      expect(issues).toContainEqual(
        expect.stringMatching(new RegExp(`^api\\.listen: .*write ${canonical}$`)),
      );
      expect(issues).toContainEqual(
        expect.stringMatching(new RegExp(`^gateways\\.0\\.endpoint: .*write ${canonical}$`)),
      );
      // Refused, not taken for loopback: no auth rule is applied to it
      expect(issues.filter((issue) => issue.startsWith("api.auth"))).toEqual([]);
    },
  );

  test("a host that only starts like loopback is not loopback", () => {
    const noAuth = example()
      .replace("auth: token", "auth: none")
      .replace(/\n {2}(operator_)?token_file: .*/g, "");
    expect(issuesOf(noAuth)).toEqual([]);
    expect(
      issuesOf(noAuth.replace("listen: 127.0.0.1:8765", "listen: 127.evil.example:8765")),
    ).toEqual([
      "api.auth: auth: none is allowed on loopback only, and the API listens on 127.evil.example: use auth: token",
    ]);
  });

  test("tokens by default: both files named, and not the same file", () => {
    const without = (key: string) => example().replace(new RegExp(`\\n  ${key}: .*`), "");
    expect(issuesOf(without("token_file"))).toEqual([
      expect.stringMatching(/^api\.token_file: required with auth: token .*--add api-token/),
    ]);
    expect(issuesOf(without("operator_token_file"))).toEqual([
      expect.stringMatching(
        /^api\.operator_token_file: required with auth: token .*--add operator-token/,
      ),
    ]);
    expect(issuesOf(example().replace("keys/operator.token", "./keys/../keys/api.token"))).toEqual([
      expect.stringMatching(/^api\.operator_token_file: must be another file/),
    ]);
    // auth: none takes no token files, and only on loopback
    expect(issuesOf(example().replace("auth: token", "auth: none"))).toEqual([
      "api.token_file: auth: none uses no token: remove this key, or use auth: token",
      "api.operator_token_file: auth: none uses no token: remove this key, or use auth: token",
    ]);
    expect(issuesOf(example().replace("listen: 127.0.0.1:8765", "listen: 0.0.0.0:8765"))).toEqual(
      [],
    );
  });

  test("several gateways need exactly one default and unique names", () => {
    const two = example().replace(
      "gateways:\n",
      "gateways:\n  - name: gtw-1\n    endpoint: tcp://192.0.2.11:5700\n    server_key_file: k\n",
    );
    const issues = issuesOf(two);
    expect(issues).toContainEqual("gateways: gateway names must be unique");
    expect(issuesOf(two.replace("default: true", "default: false"))).toContainEqual(
      "gateways: with several gateways, mark exactly one default: true",
    );
  });

  test("risk limits are validated with their dotted path, and the time zone must exist", () => {
    const issues = issuesOf(
      example()
        .replace("fraction: 0.25", "fraction: 0")
        .replace("time_zone: UTC", "time_zone: Mars/Olympus"),
    );
    expect(issues).toContainEqual(expect.stringContaining("risk.kelly.fraction"));
    expect(issues).toContainEqual("risk.time_zone: unknown IANA time zone Mars/Olympus");
  });

  test("a heartbeat timeout longer than the interval is refused", () => {
    expect(issuesOf(example().replace("# timeout_ms: 5000", "timeout_ms: 9000"))).toContainEqual(
      "heartbeat.timeout_ms: must not exceed interval_ms",
    );
  });
});
