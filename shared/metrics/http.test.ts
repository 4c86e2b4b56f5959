/**
 * The metrics endpoint's access rules, against a real listener on loopback: the Host header on
 * loopback, the bearer token, the address allow-list, and the config rule that keeps metrics
 * from being exposed off loopback without either.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { silentLogger } from "../log.ts";
import { RawClient } from "../testing/raw-tcp.ts";
import { type MetricsEndpoint, metricsAccessProblem, startMetricsEndpoint } from "./http.ts";
import { Registry } from "./registry.ts";

let endpoint: MetricsEndpoint | undefined;
const rawClients: RawClient[] = [];
afterEach(async () => {
  for (const client of rawClients.splice(0)) client.destroy();
  await endpoint?.stop();
  endpoint = undefined;
});

/** One request as bytes (fetch always sends a Host of its own); the answer's status line. */
async function rawStatus(port: number, request: string): Promise<string> {
  const client = await RawClient.connect(port);
  rawClients.push(client);
  client.write(new TextEncoder().encode(request));
  const text = await eventually(() => {
    const seen = new TextDecoder().decode(client.bytes);
    return seen.includes("\r\n\r\n") ? seen : undefined;
  });
  return text.slice(0, text.indexOf("\r\n"));
}

function serve(options: { token?: string; allow?: string[] } = {}) {
  const registry = new Registry();
  registry.counter("probe_total", "Probe").inc();
  endpoint = startMetricsEndpoint({
    listen: "127.0.0.1:0",
    registry,
    logger: silentLogger,
    ...options,
  });
  return endpoint;
}

describe("metrics endpoint", () => {
  test("serves GET /metrics with the exposition content type, and nothing else", async () => {
    const { url, port } = serve();
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("version=0.0.4");
    expect(await response.text()).toContain("probe_total 1");
    expect((await fetch(`http://127.0.0.1:${port}/v1/health`)).status).toBe(404);
    expect((await fetch(url, { method: "POST", body: "x" })).status).toBe(405);
  });

  test("on loopback, a Host header naming another host is refused (DNS rebinding)", async () => {
    const { url } = serve();
    const response = await fetch(url, { headers: { host: "attacker.example:80" } });
    expect(response.status).toBe(403);
  });

  test.each([
    // Bun builds request.url from the Host: without one it was no URL, and the scrape a 500
    ["missing (HTTP/1.0)", "GET /metrics HTTP/1.0\r\n\r\n", 400],
    ["empty", "GET /metrics HTTP/1.1\r\nHost: \r\n\r\n", 400],
    ["[::1]evil", "GET /metrics HTTP/1.1\r\nHost: [::1]evil\r\n\r\n", 403],
    ["port 99999", "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n", 403],
    ["%00", "GET /metrics HTTP/1.1\r\nHost: %00\r\n\r\n", 403],
    ["127.0.0.1:1:2", "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:1:2\r\n\r\n", 403],
    ["twice", "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", 403],
  ])("a Host header %s is a 4xx, never a 500", async (_name, head, status) => {
    const { port } = serve();
    const line = await rawStatus(port, head.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
    expect(line).toStartWith(`HTTP/1.1 ${status} `);
  });

  test("a Host naming this host by a loopback name is served, raw as from fetch", async () => {
    const { port } = serve();
    for (const host of ["localhost", `127.0.0.1:${port}`, "[::1]"])
      expect(
        await rawStatus(
          port,
          `GET /metrics HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        ),
      ).toBe("HTTP/1.1 200 OK");
  });

  test("with a token, a scrape without it or with another is refused", async () => {
    const { url } = serve({ token: "s3cret-token" });
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: "Bearer s3cret-token" } });
    expect(ok.status).toBe(200);
  });

  test("with an allow-list, only listed addresses may scrape", async () => {
    const { url } = serve({ allow: ["127.0.0.2"] });
    expect((await fetch(url)).status).toBe(403);
    await endpoint?.stop();
    const listed = serve({ allow: ["127.0.0.1"] });
    expect((await fetch(listed.url)).status).toBe(200);
  });

  test("off loopback, metrics need a token or an allow-list", () => {
    expect(metricsAccessProblem("127.0.0.1:9701", false, [])).toBeNull();
    expect(metricsAccessProblem("0.0.0.0:9701", false, [])).toContain("not loopback");
    expect(metricsAccessProblem("0.0.0.0:9701", true, [])).toBeNull();
    expect(metricsAccessProblem("[::]:9701", false, ["10.8.0.5"])).toBeNull();
    expect(() =>
      startMetricsEndpoint({ listen: "0.0.0.0:0", registry: new Registry(), logger: silentLogger }),
    ).toThrow("never expose metrics without auth");
  });

  test("a port in use is an error that says what to do", () => {
    // Another program on the port (a second Bun.serve in this process would share it)
    const other = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      expect(() =>
        startMetricsEndpoint({
          listen: `127.0.0.1:${other.port}`,
          registry: new Registry(),
          logger: silentLogger,
        }),
      ).toThrow("choose another port, or set metrics.listen to null");
    } finally {
      other.stop(true);
    }
  });
});
