/**
 * Test-only: Debian's Chromium (scripts/setup.sh installs it), driven headless with
 * playwright-core. Playwright never downloads a browser here: it runs /usr/bin/chromium, in a
 * fresh profile folder per launch, with everything that would reach the network switched off.
 * Screenshots go to test/dashboard/artifacts/ (git-ignored), kept after the run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = join(import.meta.dir, "artifacts");

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  /** A PNG of `page` (whole, or what the window shows) under test/dashboard/artifacts/. */
  screenshot(page: Page, name: string, fullPage?: boolean): Promise<string>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium) for the browser tests`,
    );
  // A fresh --user-data-dir each time: no cookie or cache survives from another run
  const profile = mkdtempSync(join(tmpdir(), "dashboard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    timeout: 30_000,
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    newPage: () => context.newPage(),
    async screenshot(page, name, fullPage = true) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage });
      return path;
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
