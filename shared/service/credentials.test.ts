import { describe, expect, test } from "bun:test";
import { credentialId, resolveCredentialPath } from "./credentials.ts";

describe("resolveCredentialPath", () => {
  const present = new Set(["/run/credentials/agent-inf.service/inf-1.key_secret"]);
  const exists = (path: string) => present.has(path);

  test("reads the systemd credential of the same file name when there is one", () => {
    const env = { CREDENTIALS_DIRECTORY: "/run/credentials/agent-inf.service" };
    expect(resolveCredentialPath("/etc/agent-inf/keys/inf-1.key_secret", env, exists)).toBe(
      "/run/credentials/agent-inf.service/inf-1.key_secret",
    );
  });

  test("keeps the configured path outside systemd or when no such credential was loaded", () => {
    expect(resolveCredentialPath("/etc/agent-inf/keys/inf-1.key_secret", {}, exists)).toBe(
      "/etc/agent-inf/keys/inf-1.key_secret",
    );
    const env = { CREDENTIALS_DIRECTORY: "/run/credentials/agent-inf.service" };
    expect(resolveCredentialPath("/etc/agent-inf/keys/api.token", env, exists)).toBe(
      "/etc/agent-inf/keys/api.token",
    );
  });

  test("the credential id is the base name, also for Windows-style paths", () => {
    expect(credentialId("/etc/agent-inf/keys/inf-1.sign_secret")).toBe("inf-1.sign_secret");
    expect(credentialId("C:\\keys\\agent-gtw.key")).toBe("agent-gtw.key");
  });
});
