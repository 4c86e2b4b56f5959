/**
 * One answer to "is this loopback?" and one way to read host:port, for the configs, the local
 * API and the transport: canonical spellings only, the others refused with what to write.
 */
import { describe, expect, test } from "bun:test";
import { AgentError } from "../errors.ts";
import { CASE_VARIANTS, NON_CANONICAL_HOSTS, withPort } from "../testing/host-spellings.ts";
import { checkHost, formatHost, isLoopbackHost, parseHostPort, parseListen } from "./address.ts";
import { checkEndpoint, formatEndpoint, parseEndpoint } from "./endpoint.ts";

describe("checkHost", () => {
  test.each([
    ["127.0.0.1", "ipv4", true],
    ["127.255.3.4", "ipv4", true],
    ["localhost", "name", true],
    ["::1", "ipv6", true],
    ["0.0.0.0", "ipv4", false],
    ["::", "ipv6", false],
    ["192.0.2.10", "ipv4", false],
    ["fe80::1", "ipv6", false],
    ["gateway.example", "name", false],
    ["127.evil.example", "name", false],
    ["localhost.example", "name", false],
    ["128.0.0.1", "ipv4", false],
  ] as const)("%s is a canonical %s host, loopback %p", (host, kind, loopback) => {
    expect(checkHost(host)).toEqual({ ok: true, value: { host, kind, loopback } });
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  test.each(CASE_VARIANTS)("%s is read as %s", (written, canonical) => {
    const checked = checkHost(written);
    expect(checked.ok && checked.value.host).toBe(canonical);
    expect(isLoopbackHost(written)).toBe(canonical === "localhost");
  });

  test.each(NON_CANONICAL_HOSTS)("%s is refused: write %s", (written, canonical) => {
    const checked = checkHost(written);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toEndWith(`write ${canonical}`);
    expect(isLoopbackHost(written)).toBe(false);
  });

  test.each([
    "",
    "256.0.0.1",
    "1.2.3.4.5",
    "09.1.1.1",
    "a b",
    "host_name",
    "ex@mple",
    "[::1]",
    "x".repeat(254),
  ])("%p is not a host", (written) => {
    expect(checkHost(written).ok).toBe(false);
    expect(isLoopbackHost(written)).toBe(false);
  });
});

describe("parseHostPort and parseListen", () => {
  test.each([
    ["127.0.0.1:8765", "127.0.0.1", 8765, true],
    ["localhost:0", "localhost", 0, true],
    ["[::1]:8765", "::1", 8765, true],
    ["0.0.0.0:65535", "0.0.0.0", 65_535, false],
    ["[::]:80", "::", 80, false],
  ])("reads %s", (text, host, port, loopback) => {
    expect(parseListen(text)).toEqual({
      host: {
        host,
        kind: host.includes(":") ? "ipv6" : /^\d/.test(host) ? "ipv4" : "name",
        loopback,
      },
      port,
    });
  });

  test.each([
    ["8765", "expected host:port"],
    [":8765", "expected host:port"],
    ["localhost:", "the port must be"],
    ["localhost:http", "the port must be"],
    ["localhost:65536", "the port must be"],
    ["host:-1", "the port must be"],
    ["::1:8765", "an IPv6 host needs brackets: [::1]:8765"],
    ["[127.0.0.1]:8765", "only an IPv6 host goes in brackets"],
    ["[::1:8765", "unbalanced brackets"],
    ["*:8765", "has characters that are not allowed"],
    ["localhost:*", "the port must be"],
  ])("refuses %s", (text, reason) => {
    const parsed = parseHostPort(text);
    expect(!parsed.ok && parsed.reason).toContain(reason);
    expect(() => parseListen(text, "api.listen")).toThrow(AgentError);
    expect(() => parseListen(text, "api.listen")).toThrow(
      `api.listen ${JSON.stringify(text)} is invalid`,
    );
  });

  test.each(NON_CANONICAL_HOSTS)("refuses %s as a listen host: write %s", (written, canonical) => {
    const parsed = parseHostPort(withPort(written, 8765));
    expect(!parsed.ok && parsed.reason).toEndWith(`write ${canonical}`);
  });

  test("wildcards only where asked for", () => {
    expect(parseHostPort("*:*", { allowWildcard: true })).toEqual({
      ok: true,
      value: { host: { host: "0.0.0.0", kind: "ipv4", loopback: false }, port: 0 },
    });
    expect(parseHostPort("*:5700").ok).toBe(false);
  });

  test("formatHost brackets IPv6 only", () => {
    expect(formatHost("::1")).toBe("[::1]");
    expect(formatHost("127.0.0.1")).toBe("127.0.0.1");
  });
});

describe("transport endpoints", () => {
  test.each([
    ["tcp://127.0.0.1:5700", "connect", "127.0.0.1", 5700],
    ["tcp://[::1]:5700", "connect", "::1", 5700],
    ["tcp://gateway.example:5700", "connect", "gateway.example", 5700],
    ["tcp://*:5700", "bind", "0.0.0.0", 5700],
    ["tcp://127.0.0.1:*", "bind", "127.0.0.1", 0],
  ] as const)("reads %s for %s", (text, purpose, host, port) => {
    expect(parseEndpoint(text, purpose)).toEqual({ host, port });
    expect(parseEndpoint(formatEndpoint({ host, port }), "bind")).toEqual({ host, port });
  });

  test.each([
    ["tcp://*:5700", "connect"],
    ["tcp://127.0.0.1:0", "connect"],
    ["tcp://127.0.0.1:*", "connect"],
    ["ipc:///tmp/x", "bind"],
    ["tcp://::1:5700", "connect"],
    [`tcp://${"a".repeat(300)}:1`, "connect"],
  ] as const)("refuses %s for %s", (text, purpose) => {
    expect(checkEndpoint(text, purpose).ok).toBe(false);
    expect(() => parseEndpoint(text, purpose)).toThrow(AgentError);
  });

  test.each(NON_CANONICAL_HOSTS)("refuses %s in an endpoint: write %s", (written, canonical) => {
    for (const purpose of ["bind", "connect"] as const) {
      const checked = checkEndpoint(`tcp://${withPort(written, 5700)}`, purpose);
      expect(!checked.ok && checked.reason).toEndWith(`write ${canonical}`);
    }
  });
});
