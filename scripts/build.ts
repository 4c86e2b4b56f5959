/**
 * Build both agents as single-file executables into dist/ (deploy.md §1):
 *
 *   bun run build                          every target below
 *   bun run build -- --only linux          only the Linux targets (comma-separated; see TOKENS)
 *   bun run build -- --only agent-inf,agent-gtw.exe --version 1.2.3
 *
 *   dist/agent-inf               linux-x64    the inference agent
 *   dist/agent-inf-linux-arm64   linux-arm64  the same for ARM servers
 *   dist/agent-gtw.exe           windows-x64  the gateway, next to MetaTrader 5
 *   dist/agent-gtw               linux-x64    the gateway beside a terminal under Wine; tests
 *
 * Flags (deploy.md §1.2): --minify; --sourcemap embeds the map so stack traces name our files
 * (the .map file it also writes holds all our sources and is deleted); --bytecode --format=esm
 * (bytecode alone defaults to CJS, which breaks main.ts's top-level await; measured here: `agent-gtw
 * --version` 18 ms instead of 43 ms, +2.7 MB); no .env/bunfig.toml autoload, since a service must
 * not pick up files from its working directory; the version via --define.
 *
 * No --windows-hide-console: agent-gtw.exe is also the operator's CLI (keygen, status, state,
 * service install), and a GUI-subsystem exe detaches from the console so its output is lost. A
 * service has no visible console either way; it logs to log.file (docs/DEPLOY.md).
 */
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative, resolve } from "node:path";
import { ExitCode, parseCommandLine, printedHelp, reportError, UsageError } from "../shared/cli.ts";

const ROOT = resolve(import.meta.dir, "..");

export interface BuildTarget {
  /** The output file name in dist/, also a selector for --only. */
  readonly name: string;
  readonly agent: "agent-inf" | "agent-gtw";
  readonly os: "linux" | "windows";
  readonly arch: "x64" | "arm64";
}

export const TARGETS: readonly BuildTarget[] = [
  { name: "agent-inf", agent: "agent-inf", os: "linux", arch: "x64" },
  { name: "agent-inf-linux-arm64", agent: "agent-inf", os: "linux", arch: "arm64" },
  { name: "agent-gtw.exe", agent: "agent-gtw", os: "windows", arch: "x64" },
  { name: "agent-gtw", agent: "agent-gtw", os: "linux", arch: "x64" },
];

/** Group selectors for --only besides the exact output names. */
const TOKENS = ["linux", "windows", "x64", "arm64", "all"] as const;

/**
 * The targets an --only list selects: each comma-separated token is an output name (exact), or
 * linux / windows / x64 / arm64 / all; the union, in TARGETS order.
 */
export function selectTargets(only: string | undefined): BuildTarget[] {
  if (only === undefined) return [...TARGETS];
  const tokens = only
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "");
  if (tokens.length === 0) throw new UsageError("--only needs at least one target");
  const chosen = new Set<BuildTarget>();
  for (const token of tokens) {
    const exact = TARGETS.filter((target) => target.name === token);
    const group = TARGETS.filter(
      (target) => token === "all" || target.os === token || target.arch === token,
    );
    const matched = exact.length > 0 ? exact : group;
    if (matched.length === 0) {
      throw new UsageError(
        `--only: unknown target ${JSON.stringify(token)}; use ${[...TARGETS.map((target) => target.name), ...TOKENS].join(", ")}`,
      );
    }
    for (const target of matched) chosen.add(target);
  }
  return TARGETS.filter((target) => chosen.has(target));
}

export function bunTarget(target: BuildTarget): string {
  return `bun-${target.os}-${target.arch}`;
}

/**
 * The sodium-native prebuild folder for a target (`process.platform`-`process.arch` there). The
 * build defines it so that shared/sodium/loader.ts embeds that one library and no other
 * (docs/TRANSPORT.md, crypto backend).
 */
export function sodiumPrebuild(target: BuildTarget): string {
  return `${target.os === "windows" ? "win32" : target.os}-${target.arch}`;
}

/**
 * The `bun build` argument list for one target (after the bun executable). `entry` replaces the
 * agent's main.ts (the Wine smoke test builds a preview entry with the same flags).
 */
export function buildArguments(
  target: BuildTarget,
  version: string,
  outfile: string,
  entry: string = join(ROOT, target.agent, "main.ts"),
): string[] {
  return [
    "build",
    "--compile",
    `--target=${bunTarget(target)}`,
    "--minify",
    "--sourcemap",
    // JSC bytecode is produced by this (x64) host; for arm64 it could not be checked here, and
    // without it the agent only starts some milliseconds slower
    ...(target.arch === "x64" ? ["--bytecode", "--format=esm"] : []),
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "--define",
    `globalThis.AGENT_VERSION=${JSON.stringify(version)}`,
    "--define",
    `globalThis.MLB_SODIUM_PREBUILD=${JSON.stringify(sodiumPrebuild(target))}`,
    entry,
    "--outfile",
    outfile,
  ];
}

/** package.json's version plus the git commit as semver build metadata: 0.1.0+abc1234(.dirty). */
export function versionFrom(
  packageVersion: string,
  sha: string | undefined,
  dirty: boolean,
): string {
  if (sha === undefined || sha === "") return packageVersion;
  return `${packageVersion}+${sha}${dirty ? ".dirty" : ""}`;
}

/** The version the build stamps in: package.json's plus the git commit. */
export async function projectVersion(): Promise<string> {
  const packageJson = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
  return gitVersion(packageJson.version);
}

function gitVersion(packageVersion: string): string {
  const git = (args: string[]) => {
    const result = Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
    return result.exitCode === 0 ? result.stdout.toString().trim() : undefined;
  };
  const sha = git(["rev-parse", "--short=7", "HEAD"]);
  const dirty = (git(["status", "--porcelain", "--untracked-files=no"]) ?? "") !== "";
  return versionFrom(packageVersion, sha, dirty);
}

/** Compile one executable; returns its size. Throws with bun's output when the build fails. */
export async function compileExecutable(
  target: BuildTarget,
  version: string,
  outfile: string,
  entry?: string,
): Promise<number> {
  const argv = [process.execPath, ...buildArguments(target, version, outfile, entry)];
  const child = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  // The map next to the binary contains every source file; the binary embeds what it needs
  rmSync(`${outfile}.map`, { force: true });
  if (exitCode !== 0 || !existsSync(outfile)) {
    throw new Error(
      `build: ${target.name} (${bunTarget(target)}) failed with exit ${exitCode}:\n${(stderr || stdout).trim()}`,
    );
  }
  return statSync(outfile).size;
}

/**
 * For a binary this host can run: `--version` prints the version, and a config file next to the
 * executable is the one it loads (locateConfig, deploy.md §1.3). The second check runs a hard
 * link of the binary in a scratch folder beside an invalid config and expects the config error
 * to name that file (process.execPath resolves symlinks, so a link must be a hard one).
 */
async function verify(target: BuildTarget, version: string, outdir: string): Promise<void> {
  const binary = join(outdir, target.name);
  const run = (path: string, args: string[]) => {
    const result = Bun.spawnSync([path, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 30_000,
      env: { ...process.env, AGENT_GTW_CONFIG: "", AGENT_INF_CONFIG: "" },
    });
    return {
      exitCode: result.exitCode,
      stdout: result.stdout.toString(),
      stderr: result.stderr.toString(),
    };
  };
  const printed = run(binary, ["--version"]);
  if (printed.exitCode !== 0 || printed.stdout.trim() !== version) {
    throw new Error(
      `build: ${target.name} --version printed ${JSON.stringify(printed.stdout.trim())} (exit ${printed.exitCode}), expected ${version}`,
    );
  }
  const scratch = mkdtempSync(join(outdir, ".verify-"));
  try {
    const linked = join(scratch, target.name);
    linkSync(binary, linked);
    const config = join(scratch, `${target.agent}.yaml`);
    writeFileSync(
      config,
      "# written by scripts/build.ts to check config discovery\nnot_a_key: true\n",
    );
    const result = run(linked, ["run"]);
    if (result.exitCode !== ExitCode.CONFIG || !result.stderr.includes(config)) {
      throw new Error(
        `build: ${target.name} did not load the config next to it (${config}); exit ${result.exitCode}: ${result.stderr.trim().slice(0, 500)}`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** How this host runs a binary of `target`, or undefined when it cannot (Windows: Wine smoke test). */
export function probeRunner(target: BuildTarget): string[] | undefined {
  if (process.platform !== "linux" || target.os !== "linux") return undefined;
  if (target.arch === process.arch) return [];
  // An arm64 binary on this x64 host: qemu-user with Debian's arm64 cross libraries
  // (apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross)
  const qemu = Bun.which("qemu-aarch64-static") ?? Bun.which("qemu-aarch64");
  const sysroot = "/usr/aarch64-linux-gnu";
  if (target.arch === "arm64" && qemu !== null && existsSync(join(sysroot, "lib"))) {
    return [qemu, "-L", sysroot];
  }
  return undefined;
}

/**
 * scripts/crypto-probe.ts compiled like the agents for `target` and run where this host can: the
 * embedded libsodium must be the backend chosen (and pass NaCl's known answer), and the tweetnacl
 * fallback must work in the same binary. Returns what it found, or why it did not run.
 */
async function probeCrypto(target: BuildTarget, version: string, outdir: string): Promise<string> {
  const runner = probeRunner(target);
  if (runner === undefined) return "crypto probe not run on this host";
  const scratch = mkdtempSync(join(outdir, ".probe-"));
  try {
    const binary = join(scratch, "crypto-probe");
    await compileExecutable(target, version, binary, join(ROOT, "scripts", "crypto-probe.ts"));
    const found: string[] = [];
    for (const backend of ["sodium-native", "tweetnacl"] as const) {
      const result = Bun.spawnSync([...runner, binary, "--expect", backend], {
        stdout: "pipe",
        stderr: "pipe",
        timeout: 60_000,
        env: { ...process.env, AGENT_CRYPTO_BACKEND: backend === "tweetnacl" ? backend : "" },
      });
      if (result.exitCode !== 0) {
        throw new Error(
          `build: ${target.name}: crypto probe expecting ${backend} exited with ${result.exitCode}: ${(result.stdout.toString() + result.stderr.toString()).trim().slice(0, 500)}`,
        );
      }
      found.push(backend);
    }
    return `crypto ${found.join(" + fallback ")}${runner.length > 0 ? " (qemu)" : ""}`;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const USAGE = `Usage: bun run build [-- --only NAMES] [--outdir DIR] [--version VERSION] [--no-verify]

Compiles both agents into single-file executables (default dist/): agent-inf (linux-x64),
agent-inf-linux-arm64, agent-gtw.exe (windows-x64) and agent-gtw (linux-x64), and checks the
Linux ones run (--version, config found next to the executable).

  --only NAMES      comma-separated targets (${TARGETS.map((target) => target.name).join(", ")})
  --outdir DIR      where the executables go (default dist)
  --version TEXT    the version to embed (default: package.json's, with the git commit)
  --no-verify       skip running the built Linux executables
`;

async function main(args: readonly string[]): Promise<number> {
  if (printedHelp(args, USAGE)) return ExitCode.OK;
  const { values, positionals } = parseCommandLine(args, {
    only: { type: "string" },
    outdir: { type: "string" },
    version: { type: "string" },
    "no-verify": { type: "boolean" },
  });
  if (positionals.length > 0)
    throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
  const targets = selectTargets(values.only);
  const outdir = resolve(values.outdir ?? join(ROOT, "dist"));
  const version = values.version ?? (await projectVersion());
  mkdirSync(outdir, { recursive: true });

  process.stdout.write(`build: version ${version} -> ${relative(process.cwd(), outdir) || "."}\n`);
  const started = performance.now();
  const probed = new Set<string>();
  for (const target of targets) {
    const began = performance.now();
    const size = await compileExecutable(target, version, join(outdir, target.name));
    const runnable =
      target.os === "linux" && target.arch === process.arch && process.platform === "linux";
    const checking = values["no-verify"] !== true;
    if (runnable && checking) await verify(target, version, outdir);
    // One probe per platform: agent-inf and agent-gtw embed the same library
    let probe = "";
    if (checking && !probed.has(bunTarget(target))) {
      probed.add(bunTarget(target));
      probe = `  ${await probeCrypto(target, version, outdir)}`;
    }
    process.stdout.write(
      `  ${target.name.padEnd(24)} ${bunTarget(target).padEnd(18)} ${(size / 1024 / 1024).toFixed(1).padStart(6)} MiB  ${Math.round(performance.now() - began)} ms${runnable && checking ? "  verified" : ""}${probe}\n`,
    );
  }
  process.stdout.write(
    `build: ${targets.length} executable(s) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return ExitCode.OK;
}

if (import.meta.main) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    process.exitCode = reportError("build", error);
  }
}
