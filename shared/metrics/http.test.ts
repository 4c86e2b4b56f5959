/**
 * The metrics endpoint's access rules, against a real listener on loopback: the Host header on
 * loopback, the bearer token, the address allow-list, and the config rule that keeps metrics
 * from being exposed off loopback without either.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { silentLogger } from "../log.ts";
import { type MetricsEndpoint, metricsAccessProblem, startMetricsEndpoint } from "./http.ts";
import { Registry } from "./registry.ts";

let endpoint: MetricsEndpoint | undefined;
afterEach(async () => {
  await endpoint?.stop();
  endpoint = undefined;
});

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

  test("a request with no Host header (HTTP/1.0) or an odd one is a 4xx, never a 500", async () => {
    const { port } = serve();
    const raw = async (request: string): Promise<string> => {
      const { promise, resolve } = Promise.withResolvers<string>();
      let answer = "";
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          data(_socket, chunk) {
            answer += chunk.toString();
          },
          close() {
            resolve(answer);
          },
          error() {
            resolve(answer);
          },
        },
      });
      socket.write(request);
      // Bounded: the server answers and closes (Connection: close), or this gives up
      const timer = setTimeout(() => socket.end(), 3000);
      const text = await promise;
      clearTimeout(timer);
      return text;
    };
    for (const request of [
      "GET /metrics HTTP/1.0\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: [::1]evil\r\nConnection: close\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:1:2\r\nConnection: close\r\n\r\n",
    ]) {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(await raw(request))?.[1]);
      expect({ request, status: status >= 400 && status < 500 }).toEqual({ request, status: true });
    }
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
