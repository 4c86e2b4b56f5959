import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../../shared/curve/box.ts";
import { z85Encode } from "../../shared/curve/z85.ts";
import { writeCertificate } from "../../shared/keys/curve-keys.ts";
import { silentLogger } from "../../shared/log.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { ClientKeys, type ClientKeysChange } from "./client-keys.ts";

let dir: string;
let clients: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "client-keys-"));
  clients = join(dir, "clients");
  mkdirSync(clients);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A client certificate in the folder; returns its Z85 public key. */
function authorize(name: string): string {
  const pair = generateKeyPair();
  const { publicPath } = writeCertificate(join(dir, "made"), name, pair, { name });
  copyFileSync(publicPath, join(clients, `${name}.key`));
  return z85Encode(pair.publicKey);
}

function keys(clock: TestClock, changes: ClientKeysChange[] = []) {
  mkdirSync(join(dir, "made"), { recursive: true });
  return new ClientKeys({
    dir: clients,
    inline: [],
    clock,
    logger: silentLogger,
    rescanMs: 5000,
    watch: false,
    onChange: (change) => changes.push(change),
  });
}

describe("authorized client keys (issue 12 §6)", () => {
  test("a removed key file is noticed by the periodic re-scan, without any watch event", () => {
    mkdirSync(join(dir, "made"), { recursive: true });
    const one = authorize("inf-1");
    const two = authorize("inf-2");
    const clock = new TestClock();
    const changes: ClientKeysChange[] = [];
    const current = keys(clock, changes);
    // Only the re-scan runs: no fs.watch here
    current.start();
    expect([...current.current]).toEqual([
      [one, "inf-1"],
      [two, "inf-2"],
    ]);
    rmSync(join(clients, "inf-2.key"));
    clock.advance(5000);
    expect([...current.current]).toEqual([[one, "inf-1"]]);
    expect(changes).toEqual([{ added: [], removed: ["inf-2"], problems: [], clients: 1 }]);
    current.stop();
  });

  test("a file that does not parse is a config error at start, and authorizes nobody on a re-read", () => {
    mkdirSync(join(dir, "made"), { recursive: true });
    authorize("inf-1");
    writeFileSync(join(clients, "broken.key"), "not a certificate");
    expect(() => keys(new TestClock())).toThrow(/broken\.key/);
    rmSync(join(clients, "broken.key"));
    const current = keys(new TestClock());
    writeFileSync(join(clients, "broken.key"), "not a certificate");
    const change = current.reload("test");
    expect(change.problems).toHaveLength(1);
    expect([...current.current.values()]).toEqual(["inf-1"]);
  });

  test("a client name that could not be a journal scope is refused with the fix", () => {
    mkdirSync(join(dir, "made"), { recursive: true });
    const pair = generateKeyPair();
    const { publicPath } = writeCertificate(join(dir, "made"), "odd", pair, { name: "@operator" });
    copyFileSync(publicPath, join(clients, "odd.key"));
    expect(() => keys(new TestClock())).toThrow(/names its client "@operator".*rename the file/);
  });
});
