/**
 * `pip install ./clients/python` as a user runs it on a fresh Debian machine, with no network:
 * a new venv from Debian's /usr/bin/python3, pip's own defaults (build isolation on), no pip
 * config, and an index that refuses connections, so any download attempt fails the install. The
 * build backend in the package folder needs nothing, which is what this proves; then the
 * installed package imports from the venv, ships py.typed, runs, and uninstalls cleanly.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PACKAGE_DIR, PYTHON } from "./support.ts";

const INSTALL_TIMEOUT_MS = 120_000;
let dir: string;
let venv: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mt5bridge-pip-"));
  venv = join(dir, "venv");
  expect((await run([PYTHON, "-m", "venv", "--system-site-packages", venv])).code).toBe(0);
}, 60_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A command with pip's defaults, no network, nothing from the developer's environment. */
async function run(command: readonly string[], cwd = tmpdir()) {
  const child = Bun.spawn([...command], {
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PATH: "/usr/bin:/bin",
      HOME: dir,
      PIP_CONFIG_FILE: "/dev/null",
      // Nothing listens on port 9: a download attempt fails at once instead of hanging
      PIP_INDEX_URL: "http://127.0.0.1:9/simple",
      PIP_RETRIES: "0",
      PIP_NO_CACHE_DIR: "1",
      PIP_DISABLE_PIP_VERSION_CHECK: "1",
      PYTHONDONTWRITEBYTECODE: "1",
    },
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), INSTALL_TIMEOUT_MS);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { code, out: `${stdout}\n${stderr}` };
  } finally {
    clearTimeout(timer);
  }
}

const version = /__version__ = "([^"]+)"/.exec(
  readFileSync(join(PACKAGE_DIR, "src", "mt5bridge", "_version.py"), "utf8"),
)?.[1];

const CHECK = [
  "import os, mt5bridge as mt5",
  "here = os.path.dirname(mt5.__file__)",
  "print(here)",
  "print(mt5.__version__, os.path.exists(os.path.join(here, 'py.typed')))",
  "print(mt5.initialize(url='http://127.0.0.1:9'), mt5.last_error()[0])",
].join("\n");

test("pip install ./clients/python: default build isolation, no network", async () => {
  const install = await run([join(venv, "bin", "pip"), "install", PACKAGE_DIR]);
  expect({ code: install.code, out: install.out }).toMatchObject({ code: 0 });
  expect(install.out).toContain(`Successfully installed mt5bridge-${version}`);

  const check = await run([join(venv, "bin", "python"), "-c", CHECK]);
  const [where, about, call] = check.out.trim().split("\n");
  expect(check.code).toBe(0);
  expect(where).toStartWith(join(venv, "lib"));
  expect(about).toBe(`${version} True`);
  // The dead agent is reported MetaTrader5's way: False and RES_E_INTERNAL_FAIL_CONNECT
  expect(call).toBe("False -10004");
  expect((await run([join(venv, "bin", "python"), "-m", "mt5bridge", "--help"])).code).toBe(0);

  const removed = await run([join(venv, "bin", "pip"), "uninstall", "-y", "mt5bridge"]);
  expect(removed.code).toBe(0);
  expect(existsSync(where as string)).toBe(false);
}, 240_000);

test("also without build isolation, editable, and from the sdist", async () => {
  const pip = join(venv, "bin", "pip");
  const plain = await run([pip, "install", "--no-build-isolation", PACKAGE_DIR]);
  expect(plain.code).toBe(0);
  expect((await run([pip, "uninstall", "-y", "mt5bridge"])).code).toBe(0);

  const editable = await run([pip, "install", "-e", PACKAGE_DIR]);
  expect(editable.code).toBe(0);
  const where = await run([
    join(venv, "bin", "python"),
    "-c",
    "import mt5bridge; print(mt5bridge.__file__)",
  ]);
  expect(where.out.trim()).toBe(join(PACKAGE_DIR, "src", "mt5bridge", "__init__.py"));
  expect((await run([pip, "uninstall", "-y", "mt5bridge"])).code).toBe(0);

  const sdist = await run(
    [
      PYTHON,
      "-c",
      `import sys; sys.path.insert(0, "build_backend"); import mt5bridge_build as b; print(b.build_sdist(sys.argv[1]))`,
      dir,
    ],
    PACKAGE_DIR,
  );
  expect(sdist.code).toBe(0);
  const archive = join(dir, sdist.out.trim());
  expect(archive).toEndWith(`mt5bridge-${version}.tar.gz`);
  const fromSdist = await run([pip, "install", archive]);
  expect(fromSdist.code).toBe(0);
  expect(fromSdist.out).toContain(`Successfully installed mt5bridge-${version}`);
}, 240_000);
