/**
 * Config fields whose rules live elsewhere in shared/: the schema refines with the same check
 * the runtime uses (address.ts, endpoint.ts), so a config that loads is one the agent can use.
 */
import { z } from "zod";
import { DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_SIZE_MB, LOG_LEVELS } from "../log.ts";
import {
  type Checked,
  checkEndpoint,
  checkHost,
  parseHostPort,
  parseNetwork,
} from "../net/index.ts";

export const positiveInt = z.number().int().positive();

/** A 32-byte key in Z85 (RFC 32). */
export const z85Key = z
  .string()
  .regex(/^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/, "must be a 40-character Z85 key");

/** An agent's, gateway's or client's name: safe in file names, logs and signed orders. */
export const name = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1–64 characters of letters, digits, '.', '_' or '-'");

function refinedBy<T>(check: (text: string) => Checked<T>) {
  return z.string().superRefine((text, context) => {
    const checked = check(text);
    if (!checked.ok) context.addIssue({ code: "custom", message: checked.reason });
  });
}

/** `tcp://host:port` to connect to (a gateway's endpoint). */
export const connectEndpoint = () => refinedBy((text) => checkEndpoint(text, "connect"));

/** `tcp://host:port` to bind (`*` for every interface or any port). */
export const bindEndpoint = () => refinedBy((text) => checkEndpoint(text, "bind"));

/** `host:port` to listen on (IPv6 in brackets), canonical host spelling. */
export const listenAddress = () => refinedBy((text) => parseHostPort(text));

/** A CIDR block (`10.0.0.0/8`, `fd00::/8`) or one address, with no bits past the prefix. */
export const network = () => refinedBy((text) => parseNetwork(text));

/** An IP address (not a name: a name's addresses can change under an allow-list), canonical. */
export const ipAddress = () =>
  refinedBy((text): Checked<string> => {
    const checked = checkHost(text);
    if (!checked.ok) return checked;
    return checked.value.kind === "name"
      ? { ok: false, reason: `${JSON.stringify(text)} is a name; give an IP address` }
      : { ok: true, value: checked.value.host };
  });

/** Both agents' `log` section: level, an optional file, and its rotation by size. */
export const logSection = z
  .object({
    level: z.enum(LOG_LEVELS).default("info"),
    /** Also append every line to this file. */
    file: z.string().min(1).optional(),
    /** Rotate the file when it passes this size. */
    max_size_mb: z.number().positive().max(10_240).default(DEFAULT_LOG_MAX_SIZE_MB),
    /** Rotated files kept (`file.1` newest … `file.N`); 0 keeps none. */
    keep: z.number().int().min(0).max(100).default(DEFAULT_LOG_KEEP),
  })
  .strict()
  .prefault({});
