// Shared steps for the end-to-end tests: read what the flow table shows (only on-screen rows are in the
// DOM; `row-count` holds the total), pause the live stream so rows stop moving, and ask the REST API
// the same question the page asked.
import type { Page } from "playwright-core";
import type { FlowsPage, StoredFlow } from "../../lib/api-types";

export interface ShownRow {
  id: string;
  verdict: string;
  cells: string[];
}

export async function shownRows(page: Page): Promise<ShownRow[]> {
  return page.$$eval('[data-testid="flow-row"]', (rows) =>
    rows.map((r) => ({
      id: (r as HTMLElement).dataset.id ?? "",
      verdict: (r as HTMLElement).dataset.verdict ?? "",
      cells: [...r.querySelectorAll('[role="gridcell"]')].map((c) => (c.textContent ?? "").trim()),
    })),
  );
}

export async function rowCount(page: Page): Promise<number> {
  const text = await page.locator('[data-testid="row-count"]').innerText();
  // "2,491 flows (oldest dropped beyond 100,000)": the first number is the total held
  return Number(/^[\d,]+/.exec(text.trim())?.[0]?.replace(/,/g, "") ?? "0");
}

/** Pause (rows stop moving under the mouse) and wait for the button to say so. */
export async function pause(page: Page): Promise<void> {
  const btn = page.locator('[data-testid="pause-button"]');
  if (/resume/i.test(await btn.innerText())) return;
  await btn.click();
  await page.waitForFunction(() => /resume/i.test(document.querySelector('[data-testid="pause-button"]')?.textContent ?? ""));
}

export async function resume(page: Page): Promise<void> {
  const btn = page.locator('[data-testid="pause-button"]');
  if (/resume/i.test(await btn.innerText())) await btn.click();
}

export async function apiFlows(base: string, params: Record<string, string | string[]>, limit = 1000): Promise<StoredFlow[]> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
  q.set("limit", String(limit));
  const res = await fetch(`${base}/api/flows?${q}`);
  if (!res.ok) throw new Error(`GET /api/flows?${q} → ${res.status}: ${await res.text()}`);
  return ((await res.json()) as FlowsPage).flows;
}

/** Either side of the flow is in the namespace (how the API's `namespace` filter reads). */
export function touchesNamespace(f: StoredFlow, ns: string): boolean {
  return f.flow.source?.namespace === ns || f.flow.destination?.namespace === ns;
}

/** Polls a condition in Node (not the page), for API-side waits. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
