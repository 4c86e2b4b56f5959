import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../shared/cli.ts";
import { buildArguments, selectTargets, sodiumPrebuild, TARGETS, versionFrom } from "./build.ts";

const names = (only: string | undefined) => selectTargets(only).map((target) => target.name);

describe("selectTargets", () => {
  test("everything by default, in a fixed order", () => {
    expect(names(undefined)).toEqual([
      "agent-inf",
      "agent-inf-linux-arm64",
      "agent-gtw.exe",
      "agent-gtw",
    ]);
  });

  test.each([
    ["linux", ["agent-inf", "agent-inf-linux-arm64", "agent-gtw"]],
    ["windows", ["agent-gtw.exe"]],
    ["arm64", ["agent-inf-linux-arm64"]],
    ["agent-gtw.exe,agent-inf", ["agent-inf", "agent-gtw.exe"]],
    // An exact output name wins over anything broader
    ["agent-gtw", ["agent-gtw"]],
    [" x64 , windows ", ["agent-inf", "agent-gtw.exe", "agent-gtw"]],
    ["all", ["agent-inf", "agent-inf-linux-arm64", "agent-gtw.exe", "agent-gtw"]],
  ])("--only %p", (only, expected) => {
    expect(names(only)).toEqual(expected);
  });

  test("an unknown or empty selection is a usage error listing the choices", () => {
    expect(() => selectTargets("macos")).toThrow(UsageError);
    expect(() => selectTargets("macos")).toThrow(/agent-gtw\.exe.*linux, windows/);
    expect(() => selectTargets(" , ")).toThrow(/at least one/);
  });
});

describe("buildArguments", () => {
  test("the deploy.md §1.2 flags, the version define and the target", () => {
    const windows = TARGETS.find((target) => target.name === "agent-gtw.exe");
    if (windows === undefined) throw new Error("no windows target");
    const args = buildArguments(windows, "1.2.3+abc", "/out/agent-gtw.exe");
    expect(args.slice(0, 3)).toEqual(["build", "--compile", "--target=bun-windows-x64"]);
    for (const flag of [
      "--minify",
      "--sourcemap",
      "--bytecode",
      "--format=esm",
      "--no-compile-autoload-dotenv",
      "--no-compile-autoload-bunfig",
    ]) {
      expect(args).toContain(flag);
    }
    expect(args).not.toContain("--windows-hide-console");
    expect(args[args.indexOf("--define") + 1]).toBe('globalThis.AGENT_VERSION="1.2.3+abc"');
    // Exactly this target's libsodium gets embedded (shared/sodium/loader.ts)
    expect(args[args.lastIndexOf("--define") + 1]).toBe(
      'globalThis.MLB_SODIUM_PREBUILD="win32-x64"',
    );
    expect(args.at(-3)).toMatch(/agent-gtw[\\/]main\.ts$/);
    expect(args.slice(-2)).toEqual(["--outfile", "/out/agent-gtw.exe"]);
  });

  test("no bytecode for arm64, which this x64 host cannot check", () => {
    const arm = TARGETS.find((target) => target.arch === "arm64");
    if (arm === undefined) throw new Error("no arm64 target");
    const args = buildArguments(arm, "1.0.0", "/out/x");
    expect(args).toContain("--target=bun-linux-arm64");
    expect(args).not.toContain("--bytecode");
  });
});

describe("sodiumPrebuild", () => {
  test("sodium-native's prebuild folder for every target, each shipped in the package", () => {
    for (const target of TARGETS) {
      const folder = sodiumPrebuild(target);
      expect(folder).toBe(
        { linux: "linux", windows: "win32" }[target.os] +
          (target.arch === "x64" ? "-x64" : "-arm64"),
      );
      expect(
        existsSync(
          join(
            import.meta.dir,
            "..",
            "node_modules",
            "sodium-native",
            "prebuilds",
            folder,
            "sodium-native.node",
          ),
        ),
      ).toBe(true);
    }
  });
});

describe("versionFrom", () => {
  test("package version plus the commit as build metadata", () => {
    expect(versionFrom("0.1.0", "a5e921a", false)).toBe("0.1.0+a5e921a");
    expect(versionFrom("0.1.0", "a5e921a", true)).toBe("0.1.0+a5e921a.dirty");
    expect(versionFrom("0.1.0", undefined, true)).toBe("0.1.0");
  });
});
