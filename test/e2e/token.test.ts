// A server started with FLOWSCOPE_TOKEN, as when it listens beyond loopback: the UI takes the token
// from `?token=` (and drops it from the address bar) or asks for it, then sends it with every request,
// the WebSocket upgrade and the exports, and never puts it in a URL the user sees or in localStorage.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import type { Page } from "playwright-core";
import path from "node:path";
import { SCREENSHOTS, startE2E } from "./harness";
import { rowCount } from "./ui-helpers";

const TOKEN = "s3cret-e2e-Token";

/** Waits until the table's total has grown past `before` and its top row is another flow: live rows. */
async function liveRowsArrive(page: Page): Promise<void> {
  const rows = page.locator('[data-testid="flow-row"]');
  const before = await rowCount(page);
  const top = await rows.first().getAttribute("data-id");
  await page.waitForFunction(
    ([n, id]) => {
      const total = Number(/^[\d,]+/.exec(document.querySelector('[data-testid="row-count"]')?.textContent?.trim() ?? "")?.[0]?.replace(/,/g, "") ?? 0);
      return total > (n as number) && document.querySelector('[data-testid="flow-row"]')?.getAttribute("data-id") !== id;
    },
    [before, top] as const,
    { timeout: 30_000 },
  );
}

/** Everything the server sends to a WebSocket upgrade of `where` until it closes the connection (fails after 5 s). */
function rawUpgrade(base: string, where: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${where} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    });
    let got = "";
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`no answer to an upgrade of ${where} within 5 s: ${JSON.stringify(got)}`));
    });
    socket.on("data", (d) => (got += d.toString("latin1")));
    socket.on("end", () => resolve(got));
    socket.on("error", reject);
  });
}

async function storedTokens(page: Page): Promise<{ session: string; local: string }> {
  return page.evaluate(() => ({ session: JSON.stringify({ ...sessionStorage }), local: JSON.stringify({ ...localStorage }) }));
}

test("with FLOWSCOPE_TOKEN the UI takes ?token= or asks for it, and streams and exports with it", async () => {
  const e2e = await startE2E({ rate: 20, env: { FLOWSCOPE_TOKEN: TOKEN } });
  try {
    const { page, server, browser } = e2e;
    assert.equal((await fetch(`${server.url}/api/namespaces`)).status, 401, "the API wants the token");
    // the stream is the only WebSocket: an upgrade anywhere else is answered and closed at once, token or not
    for (const where of ["/x", "/api/stream/", "/_next/webpack-hmr"]) {
      const answer = await rawUpgrade(server.url, where);
      assert.match(answer, /^HTTP\/1\.1 404 Not Found\r\n/, where);
    }

    // 1. Opened with ?token=: rows, the token gone from the address bar, sent as a header.
    const urlsWithToken: string[] = [];
    const apiWithoutHeader: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes(TOKEN)) urlsWithToken.push(r.url());
      if (new URL(r.url()).pathname.startsWith("/api/") && r.headers()["authorization"] !== `Bearer ${TOKEN}`) apiWithoutHeader.push(r.url());
    });
    const sockets: string[] = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    const opened = `${server.url}/?verdict=FORWARDED&token=${TOKEN}`;
    await page.goto(opened);
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => !location.search.includes("token"), undefined, { timeout: 10_000 });
    assert.equal(new URL(page.url()).search, "?verdict=FORWARDED", "the token left the address bar, the view stayed");
    await liveRowsArrive(page);
    // The router writes the URL again (selecting a row): the token stays out of it.
    await page.locator('[data-testid="flow-row"]').first().click();
    await page.waitForFunction(() => location.search.includes("flow="), undefined, { timeout: 10_000 });
    assert.ok(!page.url().includes(TOKEN), `no token in ${page.url()}`);
    const stored = await storedTokens(page);
    assert.ok(stored.session.includes(TOKEN), "kept in sessionStorage");
    assert.ok(!stored.local.includes(TOKEN), "never in localStorage");
    await page.locator('[data-testid="forget-token"]').waitFor();

    // 3. NDJSON export (fetched with the header, saved from a Blob) and the evidence bundle.
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="export-button"]').click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator('[data-testid="export-ndjson"]').click()]);
    assert.match(download.url(), /^blob:/, "a Blob, not a URL carrying the token");
    const lines = fs.readFileSync(await download.path(), "utf8").split("\n").filter((l) => l.trim());
    assert.ok(lines.length > 0, "the export has flows");
    for (const [i, line] of lines.entries()) {
      const rec = JSON.parse(line) as { flow?: { verdict?: string } };
      assert.equal(rec.flow?.verdict, "FORWARDED", `line ${i + 1}: a flow matching the view's filter`);
    }
    await page.locator('[data-testid="export-button"]').click();
    const [bundle] = await Promise.all([page.waitForEvent("download"), page.locator('[data-testid="export-bundle"]').click()]);
    const gz = fs.readFileSync(await bundle.path());
    assert.ok(gz.length > 100 && gz[0] === 0x1f && gz[1] === 0x8b, "the bundle is a gzip file");
    assert.equal(bundle.suggestedFilename().endsWith(".tar.gz"), true);

    assert.deepEqual(urlsWithToken, [opened], "only the URL the user opened carried the token");
    assert.deepEqual(apiWithoutHeader, [], "every API request carried the header");
    assert.ok(sockets.length > 0 && sockets.every((u) => new URL(u).searchParams.get("token") === TOKEN), `the stream's upgrade carries ?token=: ${sockets}`);

    // A reload keeps the token for the tab.
    await page.reload();
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });

    // 2. A fresh browser context without the token: the prompt, a wrong token refused, the right one
    // brings rows and live flows over the WebSocket.
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const fresh = await context.newPage();
    const errors: string[] = [];
    fresh.on("pageerror", (e) => errors.push(e.message));
    const freshSockets: { url: string; frames: number }[] = [];
    fresh.on("websocket", (ws) => {
      const s = { url: ws.url(), frames: 0 };
      freshSockets.push(s);
      ws.on("framereceived", () => s.frames++);
    });
    await fresh.goto(server.url + "/");
    const prompt = fresh.locator('[data-testid="token-prompt"]');
    await prompt.waitFor({ timeout: 30_000 });
    assert.match(await prompt.innerText(), /missing or wrong token/);
    await fresh.locator('[data-testid="token-input"]').fill("not-the-token");
    await fresh.locator('[data-testid="token-submit"]').click();
    const err = fresh.locator('[data-testid="token-error"]');
    await err.waitFor({ timeout: 10_000 });
    assert.match(await err.innerText(), /missing or wrong token/);
    assert.equal(await prompt.isVisible(), true, "still asking");
    await fresh.screenshot({ path: path.join(SCREENSHOTS, "token-prompt.png") });
    assert.ok(!(await storedTokens(fresh)).session.includes("not-the-token"), "a refused token is not kept");
    await fresh.locator('[data-testid="token-input"]').fill(TOKEN);
    await fresh.locator('[data-testid="token-submit"]').click();
    await fresh.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    assert.equal(await prompt.count(), 0, "the prompt is gone");
    await liveRowsArrive(fresh);
    await fresh.waitForFunction(() => document.querySelector('[data-testid="stream-status"]')?.getAttribute("data-state") === "live", undefined, { timeout: 10_000 });
    const live = freshSockets.filter((s) => s.frames > 0);
    assert.ok(live.length > 0 && live.every((s) => new URL(s.url).searchParams.get("token") === TOKEN), "flows came over the WebSocket opened with the token");
    assert.ok(!fresh.url().includes(TOKEN));
    assert.ok(!(await storedTokens(fresh)).local.includes(TOKEN), "never in localStorage");

    // Forget token: the page asks again.
    await fresh.locator('[data-testid="forget-token"]').click();
    await prompt.waitFor({ timeout: 30_000 });
    assert.ok(!(await storedTokens(fresh)).session.includes(TOKEN), "forgotten");
    await context.close();
    assert.deepEqual(errors, [], "no page errors in the second context");
  } finally {
    await e2e.close();
  }
});

test("without FLOWSCOPE_TOKEN nothing asks for a token", async () => {
  const e2e = await startE2E({ rate: 20 });
  try {
    const { page, server } = e2e;
    await page.goto(server.url + "/");
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-testid="token-prompt"]').count(), 0);
    assert.equal(await page.locator('[data-testid="forget-token"]').count(), 0);
  } finally {
    await e2e.close();
  }
});
