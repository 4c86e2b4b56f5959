/**
 * Config fields whose rules live elsewhere in shared/: the schema refines with the same check
 * the runtime uses (address.ts, endpoint.ts), so a config that loads is one the agent can use.
 */
import { z } from "zod";
import { type Checked, checkEndpoint, parseHostPort } from "../net/index.ts";

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
