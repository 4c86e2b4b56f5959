import { describe, expect, test } from "bun:test";
import { Registry } from "../../shared/metrics/registry.ts";
import { orderHops } from "./order-hops.ts";
import { between, parseHistograms } from "./scrape.ts";

/** Both agents' registries as the benchmark scrapes them. */
function agents() {
  const inference = new Registry();
  const gateway = new Registry();
  return {
    inference,
    gateway,
    http: inference.histogram("agent_inf_http_request_seconds", "h"),
    requests: inference.histogram("agent_inf_gateway_request_seconds", "g"),
    stages: gateway.histogram("agent_gtw_order_stage_seconds", "s"),
    scrape: () => ({
      inference: parseHistograms(inference.render()),
      gateway: parseHistograms(gateway.render()),
    }),
  };
}

describe("the benchmark's per-hop breakdown", () => {
  test("parses sums and counts per label set from the exposition format", () => {
    const { http, inference } = agents();
    http.observe(0.002, { route: "/v1/orders", method: "POST" });
    http.observe(0.004, { route: "/v1/orders", method: "POST" });
    http.observe(1, { route: "/v1/health", method: "GET" });
    const series = parseHistograms(inference.render());
    expect(series).toContainEqual({
      name: "agent_inf_http_request_seconds",
      labels: { route: "/v1/orders", method: "POST" },
      sum: 0.006,
      count: 2,
    });
    expect(
      between([], series, "agent_inf_http_request_seconds", (l) => l["method"] === "GET"),
    ).toEqual({ sum: 1, count: 1 });
  });

  test("the hops of two orders add up to what the strategy saw, reads and PINGs counted apart", () => {
    const a = agents();
    // Something before the phase must not count
    a.http.observe(5, { route: "/v1/orders", method: "POST" });
    const before = a.scrape();
    for (const action of ["OPEN", "CLOSE"]) {
      const route = action === "OPEN" ? "/v1/orders" : "/v1/positions/{ticket}/close";
      a.http.observe(0.0015, { route, method: "POST" });
      a.requests.observe(0.001, { gateway: "g", action });
      a.stages.observe(0.0001, { stage: "verify" });
      a.stages.observe(0.0003, { stage: "journal" });
      a.stages.observe(0.0004, { stage: "backend" });
    }
    a.requests.observe(0.0005, { gateway: "g", action: "GET_ACCOUNT" });
    a.requests.observe(0.0002, { gateway: "g", action: "PING" });
    const after = a.scrape();
    const hops = orderHops({
      orders: 2,
      clientMeanMs: 2,
      inference: { before: before.inference, after: after.inference },
      gateway: { before: before.gateway, after: after.gateway },
    });
    expect(hops.httpMs).toBeCloseTo(0.5, 9);
    expect(hops.inferenceMs).toBeCloseTo(0.5, 9);
    expect(hops.wireMs).toBeCloseTo(0.2, 9);
    expect(hops.gateway.verifyMs).toBeCloseTo(0.1, 9);
    expect(hops.gateway.journalMs).toBeCloseTo(0.3, 9);
    expect(hops.gateway.backendMs).toBeCloseTo(0.4, 9);
    const { verifyMs, journalMs, backendMs } = hops.gateway;
    expect(
      hops.httpMs + hops.inferenceMs + hops.wireMs + verifyMs + journalMs + backendMs,
    ).toBeCloseTo(2, 9);
    expect(hops.requestsPerOrder).toEqual({ CLOSE: 0.5, GET_ACCOUNT: 0.5, OPEN: 0.5 });
    expect(hops.readMeanMs).toBeCloseTo(0.5, 9);
  });
});
