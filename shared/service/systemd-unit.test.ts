import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quoteExecArgument, renderUnit, type UnitOptions } from "./systemd-unit.ts";

const BASE: UnitOptions = {
  name: "agent-inf",
  execPath: "/usr/local/bin/agent-inf",
  configPath: "/etc/agent-inf/agent-inf.yaml",
  user: "dynamic",
  credentials: [
    { id: "inf-1.key_secret", path: "/etc/agent-inf/keys/inf-1.key_secret" },
    { id: "inf-1.sign_secret", path: "/etc/agent-inf/keys/inf-1.sign_secret" },
  ],
  extraWritePaths: [],
  mdwe: false,
  watchdogSec: 20,
};

/** The [Service] directives as "Key=Value" lines, comments dropped. */
function directives(unit: string): string[] {
  return unit.split("\n").filter((line) => /^[A-Za-z]+=/.test(line));
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe("renderUnit", () => {
  test("the default unit: notify with watchdog, DynamicUser, credentials, JIT kept", () => {
    const lines = directives(renderUnit(BASE));
    expect(lines).toContain("Type=notify");
    expect(lines).toContain("NotifyAccess=main");
    expect(lines).toContain(
      "ExecStart=/usr/local/bin/agent-inf run --config /etc/agent-inf/agent-inf.yaml",
    );
    expect(lines).toContain("Restart=on-failure");
    expect(lines).toContain("WatchdogSec=20s");
    expect(lines).toContain("DynamicUser=yes");
    expect(lines).toContain("StateDirectory=agent-inf");
    expect(lines).toContain("LoadCredential=inf-1.key_secret:/etc/agent-inf/keys/inf-1.key_secret");
    expect(lines).toContain(
      "LoadCredential=inf-1.sign_secret:/etc/agent-inf/keys/inf-1.sign_secret",
    );
    expect(lines).toContain("MemoryDenyWriteExecute=no");
    expect(lines).toContain("RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX");
    expect(lines).toContain("SystemCallFilter=@system-service");
    expect(lines).toContain("WantedBy=multi-user.target");
    for (const hardening of [
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "NoNewPrivileges=yes",
      "CapabilityBoundingSet=",
    ]) {
      expect(lines).toContain(hardening);
    }
    expect(lines.some((line) => line.startsWith("User="))).toBe(false);
  });

  test("the MDWE variant forbids W+X memory and lets systemd-notify (a child) notify", () => {
    const lines = directives(renderUnit({ ...BASE, mdwe: true }));
    expect(lines).toContain("MemoryDenyWriteExecute=yes");
    expect(lines).toContain("NotifyAccess=all");
  });

  test("a dedicated user gets User/Group and ReadWritePaths for folders it writes", () => {
    const lines = directives(
      renderUnit({ ...BASE, user: "agentinf", extraWritePaths: ["/srv/agent-inf/state"] }),
    );
    expect(lines).toContain("User=agentinf");
    expect(lines).toContain("Group=agentinf");
    expect(lines).toContain("ReadWritePaths=-/srv/agent-inf/state");
    expect(lines).not.toContain("DynamicUser=yes");
  });

  test("specifiers, variables and spaces in paths are escaped", () => {
    const unit = renderUnit({
      ...BASE,
      execPath: "/opt/agent inf/agent-inf",
      configPath: "/etc/agent-inf/100%.yaml",
      credentials: [{ id: "k", path: "/etc/agent-inf/keys/50%" }],
    });
    expect(unit).toContain(
      'ExecStart="/opt/agent inf/agent-inf" run --config /etc/agent-inf/100%%.yaml',
    );
    expect(unit).toContain("LoadCredential=k:/etc/agent-inf/keys/50%%");
  });

  test.each([
    ["/usr/bin/agent", "/usr/bin/agent"],
    ["a b", '"a b"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["$HOME", "$$HOME"],
    ["back\\slash", '"back\\\\slash"'],
  ])("quoteExecArgument(%p) is %p", (word, quoted) => {
    expect(quoteExecArgument(word)).toBe(quoted);
  });

  // The real parser: systemd-analyze verify checks syntax and that ExecStart is executable
  test.skipIf(!Bun.which("systemd-analyze"))("systemd-analyze verify accepts both variants", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlb-unit-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const mdwe of [false, true]) {
      const path = join(dir, "agent-inf.service");
      writeFileSync(path, renderUnit({ ...BASE, mdwe, execPath: "/usr/bin/true" }));
      const result = Bun.spawnSync(["systemd-analyze", "verify", path], {
        stdout: "pipe",
        stderr: "pipe",
        timeout: 30_000,
      });
      expect({ exitCode: result.exitCode, stderr: result.stderr.toString() }).toEqual({
        exitCode: 0,
        stderr: "",
      });
    }
  });
});
