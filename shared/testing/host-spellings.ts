/**
 * Test-only: other spellings of loopback addresses and names, with the canonical form each must
 * be written as. Every layer that reads a host (config, local API, transport) refuses all of
 * them the same way (shared/net/address.ts); the tests of each layer run this one table.
 */
export const NON_CANONICAL_HOSTS: readonly (readonly [written: string, canonical: string])[] = [
  ["127.1", "127.0.0.1"],
  ["127.0.1", "127.0.0.1"],
  ["0x7f000001", "127.0.0.1"],
  ["0x7f.0.0.1", "127.0.0.1"],
  ["2130706433", "127.0.0.1"],
  ["0177.0.0.1", "127.0.0.1"],
  ["127.000.000.001", "127.0.0.1"],
  ["127.0.0.1.", "127.0.0.1"],
  ["localhost.", "localhost"],
  ["0:0:0:0:0:0:0:1", "::1"],
  ["0::1", "::1"],
  ["::0001", "::1"],
  ["::ffff:127.0.0.1", "127.0.0.1"],
  ["::ffff:7f00:1", "127.0.0.1"],
  ["::FFFF:7F00:1", "127.0.0.1"],
];

/** Letter case is normalised, not refused: these are read as the canonical host. */
export const CASE_VARIANTS: readonly (readonly [written: string, canonical: string])[] = [
  ["LOCALHOST", "localhost"],
  ["LocalHost", "localhost"],
  ["Gateway.Example", "gateway.example"],
  ["FE80::1", "fe80::1"],
];

/** As a host:port, with IPv6 in brackets. */
export function withPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
