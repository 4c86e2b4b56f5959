/**
 * Crypto probe: which secretbox backend this process installs as the agents do
 * (shared/sodium/install.ts) and whether it reproduces NaCl's known answer through box.ts's own seal and open. scripts/build.ts compiles it
 * with the agents' exact build flags for each target and runs it where it can (Linux x64 here,
 * Linux arm64 under qemu-user when installed); the Wine smoke test runs the Windows one.
 *
 *   bun scripts/crypto-probe.ts [--expect sodium-native|tweetnacl]
 *
 * Prints one JSON line: secretbox, detail, platform, arch, known_answer. Exit 0 when the known
 * answer matched (and the backend is the expected one, if --expect was given), 1 otherwise.
 * AGENT_CRYPTO_BACKEND applies as in the agents.
 */
import { ExitCode, parseCommandLine, reportError, UsageError } from "../shared/cli.ts";
import { cryptoBackend, open, seal } from "../shared/curve/box.ts";
import { SECRETBOX_BACKEND_NAMES } from "../shared/curve/box-backend.ts";
import { NACL_SECRETBOX } from "../shared/curve/box-vectors.ts";
import { installCryptoBackend } from "../shared/sodium/install.ts";

const HELP = `Usage: crypto-probe [--expect ${SECRETBOX_BACKEND_NAMES.join("|")}]

Reports the secretbox backend this build chose and checks it on NaCl's known answer.`;

function main(args: readonly string[]): number {
  const { values, positionals } = parseCommandLine(args, {
    expect: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return ExitCode.OK;
  }
  if (positionals.length > 0)
    throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
  const expected = values.expect;
  if (
    expected !== undefined &&
    !(SECRETBOX_BACKEND_NAMES as readonly string[]).includes(expected)
  ) {
    throw new UsageError(`--expect must be ${SECRETBOX_BACKEND_NAMES.join(" or ")}`);
  }
  installCryptoBackend();
  const { key, nonce, message, box } = NACL_SECRETBOX;
  const sealed = seal(message, nonce, key);
  const opened = open(box, nonce, key);
  const knownAnswer =
    Buffer.from(sealed).equals(Buffer.from(box)) &&
    opened !== null &&
    Buffer.from(opened).equals(Buffer.from(message));
  const backend = cryptoBackend();
  process.stdout.write(
    `${JSON.stringify({ ...backend, platform: process.platform, arch: process.arch, known_answer: knownAnswer })}\n`,
  );
  return knownAnswer && (expected === undefined || expected === backend.secretbox)
    ? ExitCode.OK
    : ExitCode.FAILURE;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.exitCode = reportError("crypto-probe", error);
  }
}
