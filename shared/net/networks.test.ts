import { describe, expect, test } from "bun:test";
import { addressGroup, networkMatcher, parseNetwork } from "./networks.ts";

const matcher = (...texts: string[]) =>
  networkMatcher(
    texts.map((text) => {
      const parsed = parseNetwork(text);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.value;
    }),
  );

describe("client networks", () => {
  test("IPv4 and IPv6 blocks match the addresses inside them, IPv4-mapped ones as IPv4", () => {
    const allowed = matcher("10.0.0.0/8", "192.168.1.20", "fd00::/8", "::1");
    for (const inside of ["10.1.2.3", "192.168.1.20", "::ffff:10.9.9.9", "fd12::5", "::1"])
      expect([inside, allowed(inside)]).toEqual([inside, true]);
    for (const outside of ["11.0.0.1", "192.168.1.21", "fe80::1", "::2", "localhost", ""])
      expect([outside, allowed(outside)]).toEqual([outside, false]);
    expect(matcher("0.0.0.0/0")("203.0.113.9")).toBe(true);
  });

  test("a block with bits past its prefix, a bad prefix or no address is refused with the fix", () => {
    expect(parseNetwork("10.1.2.3/8")).toEqual({
      ok: false,
      reason: '"10.1.2.3/8" has bits set past its /8 prefix: write 10.0.0.0/8',
    });
    expect(parseNetwork("10.0.0.0/33")).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/0 to 32/),
    });
    expect(parseNetwork("::/129")).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/0 to 128/),
    });
    for (const bad of [
      "10.0.0",
      "010.0.0.1",
      "1.2.3.4.5",
      "a::b::c",
      "example.com",
      "1:2:3:4:5:6:7:8:9",
    ])
      expect(parseNetwork(bad).ok).toBe(false);
  });

  test("IPv6 peers share a group per /64, IPv4 peers one per address", () => {
    expect(addressGroup("2001:db8:1:2::5")).toBe(addressGroup("2001:db8:1:2:ffff::9"));
    expect(addressGroup("2001:db8:1:2::5")).not.toBe(addressGroup("2001:db8:1:3::5"));
    expect(addressGroup("::ffff:127.0.0.2")).toBe("127.0.0.2");
    expect(addressGroup("127.0.0.2")).not.toBe(addressGroup("127.0.0.3"));
  });
});
