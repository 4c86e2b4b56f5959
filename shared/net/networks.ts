/**
 * Client networks for the server's pre-authentication rules: CIDR blocks for the optional
 * allow-list (`transport.allowed_networks`), and the group an address counts against for the
 * per-address limits. Pure.
 *
 * An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack listener reports for an IPv4
 * peer) is the IPv4 address. IPv6 peers are grouped by their /64: one host usually owns a whole
 * /64, and counting each of its 2^64 addresses apart would make the per-address limits nothing.
 */
import type { Checked } from "./address.ts";

export interface Network {
  /** As configured, for messages. */
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * `10.0.0.0/8`, `192.168.1.20` (one address), `fd00::/8`, `::1`. The bits past the prefix
 * must be zero, so what is written is what is meant.
 */
export function parseNetwork(text: string): Checked<Network> {
  const shown = JSON.stringify(text.slice(0, 60));
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseAddress(addressText);
  if (bytes === undefined) return refuse(`${shown} is not an IPv4 or IPv6 address or network`);
  const max = bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max)
      return refuse(`the prefix length of ${shown} must be 0 to ${max}`);
    prefix = Number(prefixText);
  }
  for (let bit = prefix; bit < max; bit++) {
    if (((bytes[bit >> 3] as number) >> (7 - (bit & 7))) & 1)
      return refuse(
        `${shown} has bits set past its /${prefix} prefix: write ${formatNetwork(bytes, prefix)}`,
      );
  }
  return { ok: true, value: { text, bytes, prefix } };
}

/** A predicate for a remote address: inside one of `networks`. */
export function networkMatcher(networks: readonly Network[]): (address: string) => boolean {
  return (address) => {
    const bytes = parseAddress(address);
    if (bytes === undefined) return false;
    return networks.some((network) => contains(network, bytes));
  };
}

/** What a remote address counts against for the per-address limits (IPv6: its /64). */
export function addressGroup(address: string): string {
  const bytes = parseAddress(address);
  if (bytes === undefined || bytes.length === 4) return bytes === undefined ? address : ipv4(bytes);
  return `${formatNetwork(bytes.subarray(0, 8), 64)}`;
}

function contains(network: Network, bytes: Uint8Array): boolean {
  if (network.bytes.length !== bytes.length) return false;
  for (let bit = 0; bit < network.prefix; bit++) {
    const mask = 1 << (7 - (bit & 7));
    if (((network.bytes[bit >> 3] as number) & mask) !== ((bytes[bit >> 3] as number) & mask))
      return false;
  }
  return true;
}

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; undefined when not an address. */
export function parseAddress(text: string): Uint8Array | undefined {
  if (text.includes(":")) {
    const bytes = parseIpv6(text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text);
    if (bytes === undefined) return undefined;
    const mapped =
      bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
    return mapped ? bytes.slice(12) : bytes;
  }
  return parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    bytes[i] = Number(part);
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        out.push(
          ((v4[0] as number) << 8) | (v4[1] as number),
          ((v4[2] as number) << 8) | (v4[3] as number),
        );
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(Number.parseInt(part, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 0xff;
  });
  return bytes;
}

function ipv4(bytes: Uint8Array): string {
  return Array.from(bytes).join(".");
}

function formatNetwork(bytes: Uint8Array, prefix: number): string {
  const masked = new Uint8Array(bytes.length === 4 ? 4 : 16);
  masked.set(bytes.subarray(0, masked.length));
  for (let bit = prefix; bit < masked.length * 8; bit++)
    masked[bit >> 3] = (masked[bit >> 3] as number) & ~(1 << (7 - (bit & 7)));
  if (masked.length === 4) return `${ipv4(masked)}/${prefix}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2)
    words.push((((masked[i] as number) << 8) | (masked[i + 1] as number)).toString(16));
  return `${words.join(":")}/${prefix}`;
}
