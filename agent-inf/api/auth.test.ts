/**
 * Who may call the local API: the token files as the agent reads them, the two roles, and a
 * request's credential compared against both tokens.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentError, ConfigError } from "../../shared/errors.ts";
import { readTokenFile } from "../../shared/http-access.ts";
import { Authenticator, allows } from "./auth.ts";

const STRATEGY = "strategy-token-0123";
const OPERATOR = "operator-token-4567";

const request = (authorization?: string) =>
  new Request("http://127.0.0.1/v1/health", {
    headers: authorization === undefined ? {} : { authorization },
  });

describe("token files", () => {
  test("trimmed; empty, several words, missing or readable by others refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "inf-token-"));
    const file = (name: string, text: string, mode = 0o600) => {
      const path = join(dir, name);
      writeFileSync(path, text, { mode });
      return path;
    };
    try {
      expect(readTokenFile(file("ok", "  s3cret-token\n"), "api.token_file")).toBe("s3cret-token");
      expect(() => readTokenFile(file("empty", "\n\n"), "api.token_file")).toThrow(ConfigError);
      expect(() => readTokenFile(file("words", "a b"), "api.token_file")).toThrow(/one word/);
      expect(() => readTokenFile(join(dir, "missing"), "api.token_file")).toThrow(
        /cannot read api.token_file/,
      );
      expect(() => readTokenFile(join(dir, "missing"), "api.operator_token_file")).toThrow(
        /cannot read api.operator_token_file/,
      );
      const open = file("open", "token", 0o640);
      expect(() => readTokenFile(open, "api.token_file")).toThrow(AgentError);
      expect(() => readTokenFile(open, "api.token_file")).toThrow(`chmod 600 ${open}`);
      expect(readTokenFile(open, "api.token_file", "win32")).toBe("token");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("roles", () => {
  const auth = new Authenticator({
    kind: "token",
    strategyToken: STRATEGY,
    operatorToken: OPERATOR,
  });

  test.each([
    ["the strategy token", `Bearer ${STRATEGY}`, "strategy"],
    ["the operator token", `Bearer ${OPERATOR}`, "operator"],
    ["any case of the scheme", `bEaReR ${OPERATOR}`, "operator"],
    ["no header", undefined, undefined],
    ["a wrong token", "Bearer nope", undefined],
    ["a prefix of a token", `Bearer ${STRATEGY.slice(0, -1)}`, undefined],
    ["a token with more", `Bearer ${OPERATOR}x`, undefined],
    ["Basic", `Basic ${STRATEGY}`, undefined],
    ["no scheme", STRATEGY, undefined],
    ["two tokens", `Bearer ${STRATEGY} ${OPERATOR}`, undefined],
  ])("%s", (_name, header, role) => {
    expect(auth.authenticate(request(header))?.role).toBe(role as never);
  });

  test("the operator may do everything, the strategy only strategy actions", () => {
    expect([
      allows("operator", "operator"),
      allows("operator", "strategy"),
      allows("strategy", "strategy"),
      allows("strategy", "operator"),
    ]).toEqual([true, true, true, false]);
  });

  test("auth none: every caller is the operator", () => {
    expect(new Authenticator({ kind: "none" }).authenticate(request())).toEqual({
      role: "operator",
      via: "none",
    });
  });

  test("the same token for both roles, or a token of several words, is refused", () => {
    const make = (strategyToken: string, operatorToken: string) => () =>
      new Authenticator({ kind: "token", strategyToken, operatorToken });
    expect(make("same", "same")).toThrow(/must differ/);
    expect(make("a b", "c")).toThrow(/one word/);
    expect(make("", "c")).toThrow(/one word/);
  });

  test("a credential source for later (the dashboard's cookie) plugs in beside the header", () => {
    const cookie = {
      via: "cookie" as const,
      read: (req: Request) => /session=(\S+)/.exec(req.headers.get("cookie") ?? "")?.[1],
    };
    const withCookie = new Authenticator(
      { kind: "token", strategyToken: STRATEGY, operatorToken: OPERATOR },
      [cookie],
    );
    const viaCookie = new Request("http://127.0.0.1/", {
      headers: { cookie: `session=${STRATEGY}` },
    });
    expect(withCookie.authenticate(viaCookie)?.role).toBe("strategy");
  });
});
