// End-to-end harness: a real Flowscope server with the production Next.js build (run `npm run build`
// first; `npm test` does) and Debian's headless Chromium driven by playwright-core (which gives every
// launch a fresh temporary profile).
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/server";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const SCREENSHOTS = path.resolve("test-results");

export interface E2E {
  server: TestServer;
  browser: Browser;
  page: Page;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startE2E(opts: TestServerOptions = {}): Promise<E2E> {
  if (!fs.existsSync(".next/BUILD_ID")) throw new Error("no production build: run `npm run build` before the end-to-end tests");
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  const server = await startTestServer({ ui: true, ...opts });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    server,
    browser,
    page,
    async screenshot(name: string) {
      const file = path.join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      return file;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
      if (errors.length) throw new Error(`page errors during the test: ${errors.join("; ")}`);
    },
  };
}
