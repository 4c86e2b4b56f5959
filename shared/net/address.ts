/**
 * Hosts and `host:port` as the configs, the local API and the transport accept them, and the one
 * answer to "is this loopback?". Pure: nothing is resolved.
 *
 * A host must be written in its canonical form, the one the WHATWG URL parser serialises: a
 * dotted-quad IPv4 address, a compressed IPv6 address (RFC 5952), or a name without a trailing
 * dot; letter case does not matter and is normalised to lower case. Other spellings of an address (`127.1`, `0x7f000001`, `2130706433`,
 * `0177.0.0.1`, `127.0.0.1.`, `localhost.`, `::ffff:127.0.0.1`, `0:0:0:0:0:0:0:1`) are refused
 * with the canonical form to write instead: resolvers and URL parsers disagree about them, and a
 * check that reads one as loopback while the socket binds another is how a guard is bypassed.
 *
 * Loopback: 127.0.0.0/8, `::1` and the name `localhost`, in canonical form only.
 */
import { AgentError, FaultCode } from "../errors.ts";

export type HostKind = "ipv4" | "ipv6" | "name";

export interface Host {
  /** Canonical text, without brackets. */
  readonly host: string;
  readonly kind: HostKind;
  /** Never leaves the machine. */
  readonly loopback: boolean;
}

export interface HostPort {
  readonly host: Host;
  readonly port: number;
}

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

const MAX_HOST_LENGTH = 253;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** A host as written (IPv6 without brackets); refused unless canonical. */
export function checkHost(text: string): Checked<Host> {
  const shown = JSON.stringify(text.slice(0, 80));
  if (text === "") return refuse("the host is empty");
  if (text.length > MAX_HOST_LENGTH) return refuse(`host ${shown}… is too long`);
  // Before the URL parser sees it: "@", "/", "%" and the like would be read as URL syntax
  if (!/^[A-Za-z0-9.:-]+$/.test(text))
    return refuse(`host ${shown} has characters that are not allowed`);
  const ipv6 = text.includes(":");
  let canonical: string;
  try {
    canonical = new URL(`http://${ipv6 ? `[${text}]` : text}/`).hostname;
  } catch {
    return refuse(`${shown} is not a host name or address`);
  }
  if (ipv6) canonical = canonical.slice(1, -1);
  const mapped = MAPPED_IPV4.exec(canonical);
  if (mapped !== null) {
    const word = (hex: string) => Number.parseInt(hex, 16);
    const [high, low] = [word(mapped[1] as string), word(mapped[2] as string)];
    const ipv4 = [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
    return refuse(`host ${shown} is an IPv4-mapped address: write ${ipv4}`);
  }
  if (canonical.endsWith(".")) canonical = canonical.slice(0, -1);
  // Letter case is not a spelling: names and IPv6 hex digits compare case-insensitively
  if (canonical !== text.toLowerCase())
    return refuse(`host ${shown} is not written canonically: write ${canonical}`);
  const kind: HostKind = ipv6 ? "ipv6" : IPV4.test(canonical) ? "ipv4" : "name";
  const loopback =
    kind === "ipv4"
      ? canonical.startsWith("127.")
      : kind === "ipv6"
        ? canonical === "::1"
        : canonical === "localhost";
  return { ok: true, value: { host: canonical, kind, loopback } };
}

/** True only for a canonical loopback host (see the module comment). */
export function isLoopbackHost(host: string): boolean {
  const checked = checkHost(host);
  return checked.ok && checked.value.loopback;
}

/**
 * `host:port`, with an IPv6 host in brackets (`[::1]:8765`; without them `::1:8765` would be an
 * address of its own). `allowWildcard` accepts `*` for the host (every interface) and the port
 * (any free one), as ZeroMQ bind endpoints do; `*` hosts become 0.0.0.0, `*` ports 0.
 */
export function parseHostPort(
  text: string,
  options: { readonly allowWildcard?: boolean } = {},
): Checked<HostPort> {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return refuse("expected host:port");
  let hostText = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (hostText.startsWith("[") !== hostText.endsWith("]"))
    return refuse(`unbalanced brackets in ${JSON.stringify(hostText)}`);
  const bracketed = hostText.startsWith("[");
  if (bracketed) hostText = hostText.slice(1, -1);
  else if (hostText.includes(":"))
    return refuse(`an IPv6 host needs brackets: [${hostText}]:${portText}`);
  let port: number;
  if (portText === "*" && options.allowWildcard === true) port = 0;
  else if (/^\d{1,5}$/.test(portText) && Number(portText) <= 65_535) port = Number(portText);
  else return refuse(`the port must be a number from 0 to 65535, was ${JSON.stringify(portText)}`);
  if (hostText === "*" && options.allowWildcard === true && !bracketed)
    return { ok: true, value: { host: { host: "0.0.0.0", kind: "ipv4", loopback: false }, port } };
  if (bracketed && !hostText.includes(":"))
    return refuse(`only an IPv6 host goes in brackets, was [${hostText}]`);
  const host = checkHost(hostText);
  return host.ok ? { ok: true, value: { host: host.value, port } } : host;
}

/** `host` as it goes into a URL or an endpoint: IPv6 in brackets. */
export function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** `api.listen` and the like: `host:port` (no wildcards); throws ENDPOINT_INVALID naming it. */
export function parseListen(text: string, what = "listen"): HostPort {
  const parsed = parseHostPort(text);
  if (!parsed.ok)
    throw new AgentError(
      FaultCode.ENDPOINT_INVALID,
      `${what} ${JSON.stringify(text.slice(0, 80))} is invalid: ${parsed.reason}`,
    );
  return parsed.value;
}
