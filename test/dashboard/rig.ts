/**
 * Test-only: what the browser suites under test/dashboard share. The real agents as processes
 * (agent-gtw on the simulated MT5, agent-inf with tokens), Debian's Chromium, a page that
 * records console errors, refused requests and every URL it asks for, the login, and waits on
 * what the page shows. Every wait is bounded; `cleanups` undoes what a test started.
 */
import type { Page } from "playwright-core";
import {
  type RunningAgent,
  type RunningGateway,
  startGateway,
} from "../../scripts/harness/agents.ts";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import {
  type InferenceSetup,
  PERMISSIVE_RISK,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";
import { type Browser, launchBrowser } from "./browser.ts";

// The page's globals as far as the checks use them: they run in Chromium, and these suites are
// type-checked without the DOM library. (Functions, not strings: the dashboard's CSP forbids eval.)
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
};

export const TEST_TIMEOUT_MS = 90_000;
export const WAIT_MS = 15_000;
export const GATEWAY = "gtw-test";

export interface Rig {
  readonly gtw: RunningGateway;
  readonly inf: RunningAgent;
  readonly setup: InferenceSetup & { token: string; operatorToken: string };
  readonly browser: Browser;
}

/**
 * Chromium, then the gateway and agent-inf (heartbeat and equity poll every 300 ms) with `risk`
 * over permissive limits. Chromium first: without it the test fails at once, naming the fix.
 */
export async function startRig(
  cleanups: Array<() => Promise<unknown> | unknown>,
  risk: Record<string, unknown> = {},
): Promise<Rig> {
  const browser = await launchBrowser();
  cleanups.push(() => browser.close());
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.push(() => gtw.kill());
  const setup = writeInferenceConfig(deployment, gtw.endpoint, {
    heartbeatMs: 300,
    risk: { ...PERMISSIVE_RISK, max_lots: 5, ...risk },
  }) as Rig["setup"];
  const inf = await startInference(setup);
  cleanups.push(() => inf.kill());
  return { gtw, inf, setup, browser };
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors (a CSP violation is one) and uncaught exceptions. */
  readonly errors: string[];
  /** Every URL the page requested. */
  readonly urls: string[];
  /** Every request as method, path with query, and when (performance.now() in this process). */
  readonly requests: { readonly what: string; readonly at: number }[];
  /** `status path` of every answer ≥ 400. */
  readonly refused: string[];
}

export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const urls: string[] = [];
  const refused: string[] = [];
  const requests: { what: string; at: number }[] = [];
  page.on("console", (message) => {
    // Refused requests are checked through `refused`; everything else is a failure
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
      errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("request", (request) => {
    urls.push(request.url());
    const url = new URL(request.url());
    requests.push({
      what: `${request.method()} ${url.pathname}${url.search}`,
      at: performance.now(),
    });
  });
  page.on("response", (response) => {
    if (response.status() < 400) return;
    const url = new URL(response.url());
    // An agent without the pending-orders route: the page falls back to the stream, once
    if (response.status() === 404 && url.pathname === "/dashboard/v1/pending") return;
    refused.push(`${response.status()} ${url.pathname}`);
  });
  return { page, errors, urls, refused, requests };
}

/** Open the dashboard logged out: it sends the browser to its login page; log in with `token`. */
export async function login(page: Page, apiUrl: string, token: string): Promise<void> {
  await page.goto(`${apiUrl}/dashboard/`);
  await page.waitForURL(`${apiUrl}/dashboard/login`);
  await page.fill("#token", token);
  await page.click("#login");
  await page.waitForURL(`${apiUrl}/dashboard/`);
}

/** A gateway tile's badge (`link`, `mt5`, `trading-state`, `breaker`, `heartbeat`). */
export const tileBadge = (gateway: string, field: string) =>
  `.lane[data-gateway="${gateway}"] [data-field="${field}"]`;

/** Wait until `selector`'s text is `text` (the page redraws from polls and events). */
export async function expectText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([selector, text]) => document.querySelector(selector)?.textContent?.trim() === text,
    [selector, text] as const,
    { timeout: WAIT_MS },
  );
}

/** Wait until `selector`'s text matches `pattern` (source and flags: the check runs in the page). */
export async function expectMatch(page: Page, selector: string, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    ([selector, source, flags]) =>
      new RegExp(source, flags).test(document.querySelector(selector)?.textContent ?? ""),
    [selector, pattern.source, pattern.flags] as const,
    { timeout: WAIT_MS },
  );
}

/**
 * The shortest time between two requests for the same GET under /dashboard/v1 (the stream
 * excepted: it is one long request, reopened only after a drop), with the two requests' names.
 */
export function fastestRepeat(requests: WatchedPage["requests"]): { ms: number; what: string } {
  const last = new Map<string, number>();
  let fastest = { ms: Number.POSITIVE_INFINITY, what: "" };
  for (const { what, at } of requests) {
    if (!what.startsWith("GET /dashboard/v1/") || what.startsWith("GET /dashboard/v1/stream"))
      continue;
    const previous = last.get(what);
    if (previous !== undefined && at - previous < fastest.ms) fastest = { ms: at - previous, what };
    last.set(what, at);
  }
  return fastest;
}
