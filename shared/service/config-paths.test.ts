import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readServicePaths, servicePathsFrom } from "./config-paths.ts";

const EXAMPLES = join(import.meta.dir, "..", "..", "config");

describe("readServicePaths", () => {
  test("agent-inf's example: both secrets, both API tokens, the gateway's public key, state; relative to the config", () => {
    const paths = readServicePaths("agent-inf", join(EXAMPLES, "inf.example.yaml"), "linux");
    expect(paths).toEqual({
      secretFiles: [
        join(EXAMPLES, "keys/inf-1.key_secret"),
        join(EXAMPLES, "keys/inf-1.sign_secret"),
        join(EXAMPLES, "keys/api.token"),
        join(EXAMPLES, "keys/operator.token"),
      ],
      readPaths: [join(EXAMPLES, "keys/agent-gtw.key")],
      writeDirs: [join(EXAMPLES, "state")],
      logFile: undefined,
    });
  });

  test("agent-gtw's example: the server secret, client keys, and every folder it writes", () => {
    const paths = readServicePaths("agent-gtw", join(EXAMPLES, "gtw.example.yaml"), "linux");
    expect(paths).toEqual({
      secretFiles: [join(EXAMPLES, "keys/agent-gtw.key_secret")],
      readPaths: [join(EXAMPLES, "keys/clients"), join(EXAMPLES, "keys/inf-1.sign")],
      writeDirs: [join(EXAMPLES, "state"), join(EXAMPLES, "state/sim")],
      logFile: undefined,
    });
  });
});

describe("servicePathsFrom", () => {
  test("Windows paths resolve against the config's folder; the EA link secret only with that backend", () => {
    const document = {
      keys: {
        server_secret: "keys\\agent-gtw.key_secret",
        signing_keys: [{ key_id: "a", public_key: "x" }],
      },
      backend: { type: "terminal" },
      journal: { path: "D:\\journal\\orders.journal" },
      log: { file: "logs\\agent-gtw.log" },
    };
    const paths = servicePathsFrom(
      "agent-gtw",
      document,
      "C:\\ProgramData\\agent-gtw\\agent-gtw.yaml",
      "win32",
    );
    expect(paths).toEqual({
      secretFiles: [
        "C:\\ProgramData\\agent-gtw\\keys\\agent-gtw.key_secret",
        "C:\\ProgramData\\agent-gtw\\keys\\terminal.secret",
      ],
      readPaths: [],
      writeDirs: [
        "C:\\ProgramData\\agent-gtw\\state",
        "D:\\journal",
        "C:\\ProgramData\\agent-gtw\\logs",
      ],
      logFile: "C:\\ProgramData\\agent-gtw\\logs\\agent-gtw.log",
    });
  });

  test("agent-inf: the API tokens are secrets, every gateway's key file is read, absolute paths stay", () => {
    const document = {
      keys: {
        client_secret: "/etc/agent-inf/keys/inf-1.key_secret",
        signing_secret: "keys/inf-1.sign_secret",
      },
      gateways: [
        { name: "a", server_key_file: "keys/a.key" },
        { name: "b", server_key: "inline" },
      ],
      api: { token_file: "keys/api.token", operator_token_file: "keys/operator.token" },
      state_dir: "/var/lib/agent-inf",
      log: { file: "/var/log/agent-inf/agent-inf.log" },
    };
    const paths = servicePathsFrom("agent-inf", document, "/etc/agent-inf/agent-inf.yaml", "linux");
    expect(paths).toEqual({
      secretFiles: [
        "/etc/agent-inf/keys/inf-1.key_secret",
        "/etc/agent-inf/keys/inf-1.sign_secret",
        "/etc/agent-inf/keys/api.token",
        "/etc/agent-inf/keys/operator.token",
      ],
      readPaths: ["/etc/agent-inf/keys/a.key"],
      writeDirs: ["/var/lib/agent-inf", "/var/log/agent-inf"],
      logFile: "/var/log/agent-inf/agent-inf.log",
    });
  });

  test("an empty or odd document yields only the defaults", () => {
    expect(servicePathsFrom("agent-inf", null, "/etc/x/agent-inf.yaml", "linux")).toEqual({
      secretFiles: [],
      readPaths: [],
      writeDirs: ["/etc/x/state"],
      logFile: undefined,
    });
  });
});
