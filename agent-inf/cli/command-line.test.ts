/**
 * agent-inf's argument parsing: every command to the request it makes, and every malformed
 * command line to a UsageError (exit 2) before anything is read or sent.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ExitCode, reportError, UsageError } from "../../shared/cli.ts";
import { ConfigError } from "../../shared/errors.ts";
import { generateInferenceKeys } from "../../shared/keys/keygen.ts";
import { parseCli, runInferenceCli } from "./command-line.ts";
import { COMMAND_NAMES, HELP } from "./commands.ts";

const REASON = (what: string) => `${what} from the agent-inf command line`;

describe("parseCli: commands", () => {
  test.each([
    [[], { kind: "run", name: "run", json: false }],
    [["--config", "x.yaml"], { kind: "run", config: "x.yaml" }],
    [["run", "-c", "x.yaml", "--log-level", "DEBUG"], { kind: "run", logLevel: "debug" }],
    [["ping"], { kind: "ping", count: 10, intervalMs: 0 }],
    [
      ["ping", "-n", "100000", "--interval-ms", "5", "--gateway", "g-1", "--json"],
      { kind: "ping", count: 100_000, intervalMs: 5, gateway: "g-1", json: true },
    ],
    [["ping", "--warmup", "1000"], { kind: "ping", count: 10, intervalMs: 0, warmup: 1000 }],
  ])("%j", (args, expected) => {
    const command = parseCli(args);
    expect(command).toMatchObject(expected);
    if (!("logLevel" in expected)) expect(command).not.toHaveProperty("logLevel");
  });

  test.each([
    [
      [
        "open",
        "buy",
        "EURUSD",
        "0.1",
        "--sl",
        "1.05",
        "--tp",
        "1.2",
        "--deviation",
        "10",
        "--magic",
        "42",
        "--comment",
        "by hand",
        "--client-order-id",
        "abc-1",
        "--gateway",
        "g1",
      ],
      "order-result",
      "POST",
      "/v1/orders",
      {
        gateway: "g1",
        client_order_id: "abc-1",
        symbol: "EURUSD",
        side: "BUY",
        volume: 0.1,
        sl: 1.05,
        tp: 1.2,
        deviation: 10,
        magic: 42,
        comment: "by hand",
      },
    ],
    [
      ["open", "SELL", "XAUUSD", ".5"],
      "order-result",
      "POST",
      "/v1/orders",
      { symbol: "XAUUSD", side: "SELL", volume: 0.5 },
    ],
    [["close", "123"], "order-result", "POST", "/v1/positions/123/close", {}],
    [
      ["close", "123", "--volume", "0.05", "--client-order-id", "x_1"],
      "order-result",
      "POST",
      "/v1/positions/123/close",
      { volume: 0.05, client_order_id: "x_1" },
    ],
    [
      ["modify", "7", "--sl", "none", "--tp", "1.3"],
      "order-result",
      "POST",
      "/v1/positions/7/modify",
      { sl: null, tp: 1.3 },
    ],
    [
      ["modify", "7", "--tp", "NONE"],
      "order-result",
      "POST",
      "/v1/positions/7/modify",
      { tp: null },
    ],
    [["order", "ABC"], "order-record", "GET", "/v1/orders/ABC", undefined],
    [["order", "ABC", "-g", "g2"], "order-record", "GET", "/v1/orders/ABC?gateway=g2", undefined],
    [["account"], "account", "GET", "/v1/account", undefined],
    [
      ["positions", "--symbol", "EURUSD", "--gateway", "g"],
      "positions",
      "GET",
      "/v1/positions?gateway=g&symbol=EURUSD",
      undefined,
    ],
    [["symbol", "US500#"], "symbol", "GET", "/v1/symbols/US500%23", undefined],
    [["status"], "health", "GET", "/v1/health", undefined],
    [
      ["halt"],
      "control",
      "POST",
      "/v1/trading-state",
      { state: "HALTED", reason: REASON("trading state HALTED") },
    ],
    [
      ["resume", "--reason", "news over"],
      "control",
      "POST",
      "/v1/trading-state",
      { state: "ACTIVE", reason: "news over" },
    ],
    [
      ["resume", "--override-risk", "--reason", "checked the day by hand"],
      "control",
      "POST",
      "/v1/trading-state",
      { state: "ACTIVE", override_risk: true, reason: "checked the day by hand" },
    ],
    [
      ["reduce", "-g", "g1"],
      "control",
      "POST",
      "/v1/trading-state",
      { state: "REDUCING", reason: REASON("trading state REDUCING"), gateway: "g1" },
    ],
    [
      ["breaker", "reset"],
      "control",
      "POST",
      "/v1/breaker",
      { action: "reset", reason: REASON("breaker reset") },
    ],
    [
      ["breaker", "engage", "--reason", "kill switch"],
      "control",
      "POST",
      "/v1/breaker",
      { action: "engage", reason: "kill switch" },
    ],
  ])("%j", (args, view, method, path, body) => {
    const command = parseCli(args);
    expect(command).toMatchObject({ kind: "api", name: args[0], view, json: false });
    const call = (command as { call: unknown }).call;
    expect(call).toEqual(body === undefined ? { method, path } : { method, path, body });
  });

  test("--json and --config reach every data command", () => {
    expect(parseCli(["positions", "--json", "-c", "a.yaml"])).toMatchObject({
      json: true,
      config: "a.yaml",
    });
  });

  test("--version, --help, help COMMAND, and COMMAND --help for every command", () => {
    expect(parseCli(["--version"])).toEqual({ kind: "version" });
    expect(parseCli(["-h"])).toEqual({ kind: "help", text: HELP });
    for (const name of COMMAND_NAMES) {
      expect(HELP).toContain(`\n  ${name}`);
      for (const args of [
        [name, "--help"],
        ["help", name],
      ]) {
        const command = parseCli(args);
        expect(command.kind).toBe("help");
        expect((command as { text: string }).text).toStartWith(`Usage: agent-inf ${name}`);
      }
    }
  });
});

describe("parseCli: usage errors", () => {
  const long = (n: number) => "x".repeat(n);
  test.each([
    [["frobnicate"], /unknown command "frobnicate"/],
    [["help", "nope"], /unknown command "nope"/],
    [["help", "toString"], /unknown command "toString"/],
    [["toString"], /unknown command/],
    [["run", "extra"], /run takes no arguments/],
    [["run", "--log-level", "loud"], /--log-level must be/],
    [["run", "--json"], /unknown option --json/],
    [["open"], /open needs BUY\|SELL SYMBOL VOLUME/],
    [["open", "BUY", "EURUSD"], /open needs/],
    [["open", "BUY", "EURUSD", "1", "2"], /open needs/],
    [["open", "HOLD", "EURUSD", "1"], /side must be BUY or SELL/],
    [["open", "BUY", "EUR/USD", "1"], /SYMBOL must be/],
    [["open", "BUY", "EURUSD", "0"], /VOLUME must be a positive number/],
    [["open", "BUY", "EURUSD", "1e3"], /VOLUME must be a positive number/],
    [["open", "BUY", "EURUSD", "0x10"], /VOLUME must be a positive number/],
    [["open", "BUY", "EURUSD", ""], /VOLUME must be a positive number/],
    [["open", "BUY", "EURUSD", "-1"], /-1 is a negative number/],
    [["open", "BUY", "EURUSD", "1", "--sl", "abc"], /--sl must be a positive number/],
    [["open", "BUY", "EURUSD", "1", "--sl", "none"], /--sl must be a positive number/],
    [["open", "BUY", "EURUSD", "1", "--tp", "0"], /--tp must be/],
    [["open", "BUY", "EURUSD", "1", "--deviation", "1.5"], /--deviation must be a whole number/],
    [["open", "BUY", "EURUSD", "1", "--deviation", "100001"], /--deviation must be/],
    [["open", "BUY", "EURUSD", "1", "--magic", "9007199254740993"], /--magic must be/],
    [["open", "BUY", "EURUSD", "1", "--comment", long(32)], /--comment must be at most 31/],
    [["open", "BUY", "EURUSD", "1", "--client-order-id", "bad id"], /client order id/],
    [["open", "BUY", "EURUSD", "1", "--client-order-id", long(25)], /client order id/],
    [["open", "BUY", "EURUSD", "1", "--gateway", "a b"], /gateway name/],
    [["open", "BUY", "EURUSD", "1", "--sl"], /argument missing/],
    [["open", "BUY", "EURUSD", "1", "--stop", "1"], /unknown option --stop/],
    [["close"], /close needs TICKET/],
    [["close", "0"], /TICKET must be a whole number from 1/],
    [["close", "12.5"], /TICKET must be a whole number/],
    [["close", "1", "2"], /close needs TICKET/],
    [["close", "1", "--volume", "0"], /--volume must be a positive number/],
    [["close", "1", "--sl", "1"], /unknown option --sl/],
    [["modify", "1"], /modify needs --sl and\/or --tp/],
    [["modify", "1", "--sl", "nil"], /--sl must be a positive price or none/],
    [["modify", "x", "--sl", "1"], /TICKET must be/],
    [["order"], /order needs CLIENT_ORDER_ID/],
    [["order", "a/b"], /client order id/],
    [["account", "extra"], /account takes no arguments/],
    [["account", "--symbol", "EURUSD"], /unknown option --symbol/],
    [["positions", "--symbol"], /argument missing/],
    [["positions", "--symbol", "EUR USD"], /SYMBOL must be/],
    [["symbol"], /symbol needs SYMBOL/],
    [["symbol", "A", "B"], /symbol needs SYMBOL/],
    [["status", "--gateway", "g"], /unknown option --gateway/],
    [["status", "now"], /status takes no arguments/],
    [["halt", "now"], /halt takes no arguments/],
    [["resume", "--override-risk"], /--override-risk needs --reason/],
    [["halt", "--override-risk", "--reason", "x"], /override-risk/],
    [["halt", "--reason", " "], /--reason must be 1–200 characters/],
    [["resume", "--reason", long(201)], /--reason must be 1–200 characters/],
    [["breaker"], /breaker needs engage or reset/],
    [["breaker", "open"], /breaker needs engage or reset/],
    [["breaker", "reset", "now"], /breaker needs engage or reset/],
    [["ping", "--count", "0"], /--count must be a whole number from 1 to 100000/],
    [["ping", "-n", "100001"], /--count must be/],
    [["ping", "--count", "ten"], /--count must be/],
    [["ping", "--interval-ms", "60001"], /--interval-ms must be/],
    [["ping", "--warmup", "ten"], /--warmup must be/],
    [["ping", "host"], /ping takes no arguments/],
    [["ping", "--bogus"], /unknown option --bogus/],
  ])("%j", (args, message) => {
    expect(() => parseCli(args)).toThrow(UsageError);
    expect(() => parseCli(args)).toThrow(message);
  });

  test("a usage error is one line on stderr and exit code 2", async () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) =>
      written.push(chunk) > 0) as typeof process.stderr.write;
    let code: number;
    try {
      code = await runInferenceCli(["open", "BUY"]).catch((error) =>
        reportError("agent-inf", error),
      );
    } finally {
      process.stderr.write = original;
    }
    expect(code).toBe(ExitCode.USAGE);
    expect(written).toEqual([
      "agent-inf: open needs BUY|SELL SYMBOL VOLUME (see agent-inf --help)\n",
    ]);
  });
});

describe("run: refuses to start on a bad API token file (exit 3)", () => {
  test.each([
    ["empty", "  \n", 0o600, /api.token_file is empty/],
    ["readable by others", "secret-token\n", 0o644, /accessible by group or others/],
    ["two words", "two words\n", 0o600, /one word/],
  ])("%s", async (_name, content, mode, message) => {
    const dir = mkdtempSync(join(tmpdir(), "inf-cli-"));
    try {
      const keys = generateInferenceKeys(join(dir, "keys"), "inf-1");
      writeFileSync(join(dir, "api.token"), content, { mode });
      writeFileSync(join(dir, "operator.token"), "operator-token\n", { mode: 0o600 });
      const config = {
        agent: { name: "inf-1" },
        keys: { client_secret: keys.curveSecretPath, signing_secret: keys.signSecretPath },
        gateways: [{ name: "g", endpoint: "tcp://127.0.0.1:9", server_key: "0".repeat(40) }],
        risk: { allowed_symbols: ["EURUSD"], max_lots: 1 },
        api: {
          listen: "127.0.0.1:0",
          token_file: "api.token",
          operator_token_file: "operator.token",
        },
        state_dir: "state",
        log: { level: "silent" },
      };
      writeFileSync(join(dir, "agent-inf.yaml"), stringify(config));
      const run = runInferenceCli(["run", "--config", join(dir, "agent-inf.yaml")]);
      await expect(run).rejects.toThrow(message);
      const error = await run.catch((caught: unknown) => caught);
      if (/empty|one word/.test(String(message))) expect(error).toBeInstanceOf(ConfigError);
      const stderr = process.stderr.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        expect(reportError("agent-inf", error)).toBe(ExitCode.CONFIG);
      } finally {
        process.stderr.write = stderr;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
