import { describe, expect, test } from "bun:test";
import { Registry } from "./registry.ts";

describe("metrics registry", () => {
  test("renders counters, gauges and histograms in the exposition format", () => {
    const registry = new Registry();
    registry.counter("x_total", "Things").inc({ kind: "a" }, 2);
    registry.gauge("x_level", "Level").set(Number.POSITIVE_INFINITY);
    registry.histogram("x_seconds", "Time", [0.1, 1]).observe(0.5);
    expect(registry.render()).toBe(`# HELP x_total Things
# TYPE x_total counter
x_total{kind="a"} 2
# HELP x_level Level
# TYPE x_level gauge
x_level +Inf
# HELP x_seconds Time
# TYPE x_seconds histogram
x_seconds_bucket{le="0.1"} 0
x_seconds_bucket{le="1"} 1
x_seconds_bucket{le="+Inf"} 1
x_seconds_sum 0.5
x_seconds_count 1
`);
  });

  test("collected metrics are read at scrape time; a reader that throws costs only its lines", () => {
    const registry = new Registry();
    let clients = 1;
    registry.collect("clients", "Clients", "gauge", () => clients);
    registry.collect("by_reason_total", "Refusals", "counter", () => [
      [{ reason: 'a"b\\c\nd' }, 3],
    ]);
    registry.collect("broken", "Throws", "gauge", () => {
      throw new Error("owner gone");
    });
    clients = 4;
    const text = registry.render();
    expect(text).toContain("\nclients 4\n");
    expect(text).toContain('by_reason_total{reason="a\\"b\\\\c\\nd"} 3');
    expect(text).toContain("# TYPE broken gauge\n");
    expect(text).not.toMatch(/^broken /m);
  });

  test("a name registered twice, or not a metric name, is a bug caught at start", () => {
    const registry = new Registry();
    registry.counter("a_total", "A");
    expect(() => registry.gauge("a_total", "again")).toThrow("registered twice");
    expect(() => registry.gauge("a-b", "dash")).toThrow("invalid name");
  });

  test("label sets per metric are capped, so hostile label values cannot grow memory", () => {
    const registry = new Registry();
    const counter = registry.counter("c_total", "C");
    for (let i = 0; i < 1500; i++) counter.inc({ id: String(i) });
    expect(
      registry
        .render()
        .split("\n")
        .filter((line) => line.startsWith("c_total{")).length,
    ).toBe(1000);
  });

  test("build info names the version and runtime", () => {
    const registry = new Registry();
    registry.buildInfo("agent_x", "1.2.3+abc");
    expect(registry.render()).toContain(
      `agent_x_build_info{version="1.2.3+abc",runtime="bun ${Bun.version}"} 1`,
    );
  });

  test("a histogram's snapshot is what the exposition shows, per label set", () => {
    const histogram = new Registry().histogram("h_seconds", "Time", [0.1, 1]);
    histogram.observe(0.05, { gateway: "a" });
    histogram.observe(0.5, { gateway: "a" });
    histogram.observe(5, { gateway: "a" });

    expect(histogram.snapshot({ gateway: "a" })).toEqual({
      bounds: [0.1, 1],
      counts: [1, 2],
      count: 3,
      sum: 5.55,
    });
    expect(histogram.snapshot({ gateway: "b" })).toEqual({
      bounds: [0.1, 1],
      counts: [0, 0],
      count: 0,
      sum: 0,
    });
  });
});
