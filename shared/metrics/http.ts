/**
 * A Prometheus scrape endpoint of its own (agent-gtw's `metrics.listen`; agent-inf serves
 * /metrics on its local API instead): GET /metrics and nothing else. On loopback anyone on the
 * host may scrape, as long as the Host header names this host (a web page must not read it
 * through DNS rebinding); off loopback the config requires a bearer token, an address
 * allow-list, or both, and every request must pass each one that is set.
 */
import { AgentError, describeError, FaultCode } from "../errors.ts";
import {
  addressAllowed,
  bearerMatches,
  parseHostHeader,
  requestUrl,
  tokenDigest,
} from "../http-access.ts";
import type { Logger } from "../log.ts";
import { formatHost, parseListen } from "../net/address.ts";
import { EXPOSITION_CONTENT_TYPE, type Registry } from "./registry.ts";

export interface MetricsEndpointOptions {
  /** host:port; port 0 picks a free one (tests). */
  readonly listen: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Bearer token a scrape must carry. */
  readonly token?: string | undefined;
  /** Canonical addresses allowed to scrape; empty: any (with the token, or on loopback). */
  readonly allow?: readonly string[];
  /** The config key named in errors. */
  readonly what?: string;
}

export interface MetricsEndpoint {
  /** http://host:port/metrics */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** What a listen address needs before it may serve metrics: null when it is fine as it is. */
export function metricsAccessProblem(
  listen: string,
  hasToken: boolean,
  allow: readonly string[],
): string | null {
  const parsed = parseListen(listen, "metrics.listen");
  if (parsed.host.loopback || hasToken || allow.length > 0) return null;
  return `metrics listen on ${parsed.host.host}, which is not loopback: set token_file, allow, or both (never expose metrics without auth)`;
}

export function startMetricsEndpoint(options: MetricsEndpointOptions): MetricsEndpoint {
  const what = options.what ?? "metrics.listen";
  const listen = parseListen(options.listen, what);
  const allow = options.allow ?? [];
  const problem = metricsAccessProblem(options.listen, options.token !== undefined, allow);
  if (problem !== null) throw new AgentError(FaultCode.CONFIG_INVALID, problem);
  const digest = options.token === undefined ? undefined : tokenDigest(options.token);
  const loopback = listen.host.loopback;
  const text = (status: number, body: string, headers: Record<string, string> = {}) =>
    new Response(body, {
      status,
      headers: { "content-type": "text/plain; charset=utf-8", ...headers },
    });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: listen.host.host,
      port: listen.port,
      development: false,
      maxRequestBodySize: 1024,
      fetch(request, bunServer) {
        // Bun builds request.url from the Host header: without a readable one it is no URL, so
        // the Host is judged before anything reads the URL (a 400 or 403, never a 500)
        const host = request.headers.get("host");
        if (host === null || host === "")
          return text(400, "the Host header is missing (HTTP/1.1 requires it)\n");
        const parsed = parseHostHeader(host);
        if (loopback && !(parsed.ok && parsed.value.host.loopback))
          return text(403, "host header must name this host\n");
        if (!parsed.ok) return text(400, `the Host header ${parsed.reason}\n`);
        if (allow.length > 0 && !addressAllowed(bunServer.requestIP(request)?.address, allow))
          return text(403, "this address may not scrape metrics\n");
        if (digest !== undefined && !bearerMatches(request.headers.get("authorization"), digest))
          return text(401, "missing or wrong bearer token\n", {
            "www-authenticate": 'Bearer realm="metrics"',
          });
        const path = requestUrl(request)?.pathname;
        if (path === undefined) return text(400, "the request target is not a valid path\n");
        if (path !== "/metrics") return text(404, "only /metrics is served here\n");
        if (request.method !== "GET" && request.method !== "HEAD")
          return text(405, "GET only\n", { allow: "GET, HEAD" });
        return new Response(options.registry.render(), {
          headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" },
        });
      },
      error(error) {
        options.logger.error("Metrics request failed", { error: describeError(error) });
        return text(500, "internal error\n");
      },
    });
  } catch (error) {
    throw new AgentError(
      FaultCode.ENDPOINT_INVALID,
      `${what} ${options.listen}: cannot listen (${describeError(error)}); choose another port, or set ${what} to null to turn metrics off`,
      { cause: error },
    );
  }
  const port = server.port as number;
  const url = `http://${formatHost(listen.host.host)}:${port}/metrics`;
  options.logger.info("Metrics endpoint listening", {
    url,
    auth:
      [digest === undefined ? "" : "bearer", allow.length === 0 ? "" : "allow-list"]
        .filter((part) => part !== "")
        .join("+") || "loopback",
  });
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    stop() {
      stopping ??= server.stop(true);
      return stopping;
    },
  };
}
