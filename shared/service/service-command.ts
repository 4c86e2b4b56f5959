/**
 * The command line both `service` commands share (systemd on Linux, the SCM on Windows): the
 * flags every platform takes, one action, a service name checked against the platform's rule,
 * and the refusal to touch a service manager the host does not have. One home, so the two
 * platforms cannot drift in what they accept or how they say no.
 */
import { ExitCode, type OptionSpec, parseCommandLine, UsageError } from "../cli.ts";

export const SERVICE_ACTIONS = ["install", "uninstall", "status"] as const;

export interface ServiceCommandSpec {
  readonly program: string;
  readonly help: string;
  /** Flags of this platform only (beside --config, --name, --dry-run, --help). */
  readonly flags: OptionSpec;
  readonly defaultName: string;
  /** What a valid name looks like, and what the platform calls it ("unit", "service"). */
  readonly nameRule: RegExp;
  readonly nameKind: string;
  /** The platform whose service manager this command drives. */
  readonly platform: NodeJS.Platform;
  /** Why the action cannot run on another platform, and what to do instead. */
  readonly elsewhere: (action: string) => string;
  /** Injected runner (tests): the platform check is skipped, nothing real is touched. */
  readonly injected: boolean;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

export interface ServiceCommandLine {
  readonly action: string;
  readonly name: string;
  readonly dryRun: boolean;
  /** A string flag's value (--config, --user, --account …). */
  readonly text: (flag: string) => string | undefined;
  /** Whether a boolean flag was given (--mdwe, --no-start …). */
  readonly given: (flag: string) => boolean;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const COMMON_FLAGS = {
  config: { type: "string", short: "c" },
  name: { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

/**
 * Parses and checks the command line. A number means the command is already answered (help
 * printed, or the wrong platform said) and is its exit code; a bad line throws UsageError.
 */
export function parseServiceCommand(
  args: readonly string[],
  spec: ServiceCommandSpec,
): ServiceCommandLine | number {
  const { values, positionals } = parseCommandLine(args, { ...COMMON_FLAGS, ...spec.flags });
  const out = spec.stdout ?? ((text: string) => process.stdout.write(text));
  const err = spec.stderr ?? ((text: string) => process.stderr.write(text));
  if (values.help === true) {
    out(spec.help);
    return ExitCode.OK;
  }
  const [action, ...extra] = positionals;
  if (action === undefined || extra.length > 0) {
    throw new UsageError(`service needs one of ${SERVICE_ACTIONS.join(", ")}`);
  }
  const flags = values as Readonly<Record<string, unknown>>;
  const text = (flag: string): string | undefined =>
    typeof flags[flag] === "string" ? (flags[flag] as string) : undefined;
  const name = text("name") ?? spec.defaultName;
  if (!spec.nameRule.test(name)) {
    throw new UsageError(`--name is not a valid ${spec.nameKind} name: ${name}`);
  }
  const dryRun = values["dry-run"] === true;
  if (!spec.injected && !dryRun && process.platform !== spec.platform) {
    err(`${spec.program}: ${spec.elsewhere(action)}\n`);
    return ExitCode.USAGE;
  }
  return { action, name, dryRun, text, given: (flag) => flags[flag] === true, out, err };
}
