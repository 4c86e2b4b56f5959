import { describe, expect, test } from "bun:test";
import { failureCause } from "./failure-cause.ts";

const endpoint = "tcp://gtw.example:5700";

describe("connection failure causes", () => {
  test.each([
    [{ type: "connect_failed", code: "ECONNREFUSED", reason: "Failed to connect" }, "port_refused"],
    [{ type: "connect_failed", code: "ENOTFOUND", reason: "getaddrinfo" }, "name_not_resolved"],
    [{ type: "connect_failed", code: "EAI_AGAIN", reason: "getaddrinfo" }, "name_not_resolved"],
    [{ type: "connect_failed", code: "ETIMEDOUT", reason: "connect timed out" }, "no_answer"],
    [
      { type: "handshake_failed", code: "ERROR_RECEIVED", reason: 'ERROR "400"' },
      "client_key_not_authorized",
    ],
    [{ type: "handshake_failed", code: "CLOSED", reason: "closed" }, "wrong_server_key"],
    [{ type: "handshake_failed", code: "TIMEOUT", reason: "timeout" }, "wrong_server_key"],
    [{ type: "handshake_failed", code: "CRYPTOGRAPHIC", reason: "box" }, "handshake_failed"],
  ] as const)("%o is %s", (failure, cause) => {
    const found = failureCause(failure, endpoint);
    expect(found.cause).toBe(cause);
    expect(found.hint.length).toBeGreaterThan(20);
  });

  test("the hints say what to do", () => {
    const name = failureCause({ type: "connect_failed", code: "ENOTFOUND", reason: "" }, endpoint);
    expect(name.hint).toContain("does not resolve");
    const key = failureCause(
      { type: "handshake_failed", code: "ERROR_RECEIVED", reason: "" },
      endpoint,
    );
    expect(key.hint).toContain("keys/clients/");
  });
});
