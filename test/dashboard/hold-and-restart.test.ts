/**
 * The dashboard in Chromium against the real agents, past the happy path (issue 19,
 * docs/DASHBOARD.md §2–§3): a loss limit's hold shown with its reason and lifted from the page
 * only with the override ticked; and an agent-inf restart, after which the equity curve still
 * starts where it did (the state file) while every session is gone (memory only) and the open
 * page goes back to the login by itself.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { bearer, startInference } from "../../scripts/harness/inference.ts";
import {
  expectMatch,
  expectText,
  GATEWAY,
  login,
  startRig,
  TEST_TIMEOUT_MS,
  tileBadge,
  WAIT_MS,
  watchedPage,
} from "./rig.ts";

declare const document: {
  querySelector(selector: string): {
    textContent: string | null;
    getAttribute(name: string): string | null;
  } | null;
};

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const json = (token: string) => ({ "content-type": "application/json", ...bearer(token) });

type Point = [number, number];

async function equityCurve(apiUrl: string, token: string): Promise<Point[]> {
  const response = await fetch(`${apiUrl}/v1/equity`, { headers: json(token) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { curve: Point[] }).curve;
}

describe("dashboard in Chromium: holds and restarts", () => {
  test(
    "a daily loss limit's hold: shown with its reason, resume refused until the override is ticked",
    async () => {
      // 1 lot costs its spread at once (about 8 USD on the simulated EURUSD): over a 2 USD limit
      const { inf, setup, browser } = await startRig(cleanups, {
        daily_loss_limit: { money: 2, percent: null },
      });
      const { page, errors, refused } = await watchedPage(browser);
      await login(page, setup.apiUrl, setup.operatorToken);
      await expectText(page, tileBadge(GATEWAY, "trading-state"), "ACTIVE");

      const order = await fetch(`${setup.apiUrl}/v1/orders`, {
        method: "POST",
        headers: json(setup.token),
        body: JSON.stringify({
          client_order_id: "hold-1",
          symbol: "EURUSD",
          side: "BUY",
          volume: 1,
        }),
      });
      expect(((await order.json()) as { outcome: string }).outcome).toBe("FILLED");

      // The equity poll trips the limit: REDUCING, the reason on the tile, the meter full
      await expectText(page, tileBadge(GATEWAY, "trading-state"), "REDUCING");
      await expectMatch(
        page,
        `.lane[data-gateway="${GATEWAY}"] dl`,
        /Trading stateREDUCING: DAILY_LOSS_LIMIT: .*daily_loss=/,
      );
      await expectMatch(
        page,
        "#account-figures",
        /Daily loss used[\d,.]+ = [\d.]+ % of the limit \(2\.00\)/,
      );
      await page.waitForFunction(
        () =>
          document.querySelector('meter[data-field="daily-loss"]')?.getAttribute("value") === "1",
        undefined,
        { timeout: WAIT_MS },
      );
      await browser.screenshot(page, "hold-reducing");

      // Resume without the override: the agent refuses (409 RISK_HOLD), the dialog says so and
      // stays open, nothing changes
      await page.click('#controls button[data-action="resume"]');
      expect(await page.isVisible("#override-row")).toBe(true);
      await page.fill("#confirm-reason", "browser test: plain resume");
      await page.click("#confirm-ok");
      await expectMatch(page, "#confirm-error", /daily loss.*Tick "Override a loss limit's hold"/i);
      expect(await page.isVisible("#confirm")).toBe(true);
      await browser.screenshot(page, "hold-resume-refused");
      expect(inf.log()).not.toContain("RISK_OVERRIDE");
      await expectText(page, tileBadge(GATEWAY, "trading-state"), "REDUCING");

      // Ticked: the agent takes it (the dialog closes) and logs the override with the reason;
      // the limit is still breached, so the next equity reading sets REDUCING again (API.md §7)
      await page.check("#confirm-override");
      await page.fill("#confirm-reason", "browser test: override");
      await page.click("#confirm-ok");
      await page.waitForSelector("#confirm", { state: "hidden", timeout: WAIT_MS });
      const deadline = performance.now() + WAIT_MS;
      while (!inf.log().includes("RISK_OVERRIDE") && performance.now() < deadline)
        await Bun.sleep(50);
      expect(inf.log()).toContain("RISK_OVERRIDE");
      expect(inf.log()).toContain("browser test: override");

      expect(errors).toEqual([]);
      expect(refused).toEqual(["409 /dashboard/v1/trading-state"]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "an agent-inf restart keeps the equity curve, ends every session and sends the page to the login",
    async () => {
      const { inf, setup, browser } = await startRig(cleanups);
      const { page, errors } = await watchedPage(browser);
      await login(page, setup.apiUrl, setup.operatorToken);
      const [cookie] = await browser.context.cookies(`${setup.apiUrl}/dashboard/`);
      // A flat curve has no height, so Playwright calls it hidden: attached is what counts
      await page.waitForSelector("#equity-chart svg path.curve", {
        state: "attached",
        timeout: WAIT_MS,
      });
      let before = await equityCurve(setup.apiUrl, setup.token);
      const deadline = performance.now() + WAIT_MS;
      while (before.length < 3 && performance.now() < deadline) {
        await Bun.sleep(100);
        before = await equityCurve(setup.apiUrl, setup.token);
      }
      expect(before.length).toBeGreaterThanOrEqual(3);

      expect(await inf.stop()).toBe(0);
      const again = await startInference(setup);
      cleanups.push(() => again.kill());

      // The curve read from the state file: the old points first, in order, then new readings
      const after = await equityCurve(setup.apiUrl, setup.token);
      expect(after.slice(0, before.length)).toEqual(before);
      // Sessions lived in the old process: the cookie opens nothing, the page goes to the login
      const replayed = await fetch(`${setup.apiUrl}/dashboard/session`, {
        headers: { cookie: `agent_inf_session=${cookie?.value}` },
      });
      expect(replayed.status).toBe(401);
      // The page's own redirect may replace a navigation still loading (net::ERR_ABORTED, which
      // waitForURL reports as a failure): what counts is where the page ends up
      await eventually(() => page.url() === `${setup.apiUrl}/dashboard/login`, {
        timeoutMs: WAIT_MS,
        message: "the page back at the login",
      });
      await page.waitForLoadState("load");

      // Logged in again, the chart starts at the first reading of the first run
      await page.fill("#token", setup.operatorToken);
      await page.click("#login");
      await page.waitForURL(`${setup.apiUrl}/dashboard/`);
      const first = before[0] as Point;
      const since = await page.evaluate(
        (time) => new Date(time).toLocaleString("en-GB", { hour12: false }),
        first[0],
      );
      await page.waitForFunction(
        (since) =>
          document
            .querySelector("#equity-chart svg")
            ?.getAttribute("aria-label")
            ?.includes(`, ${since} to `) === true,
        since,
        { timeout: WAIT_MS },
      );
      await browser.screenshot(page, "restart-equity-curve");
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
