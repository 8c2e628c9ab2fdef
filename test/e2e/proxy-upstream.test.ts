// The ingress L7 proxy forwards an allowed request on a connection of its own, from the node's address
// under the client's security identity. Those packets carry no policy verdict; their details say who
// sent them and where the decision is, instead of an unexplained "no policy decision".
import { test } from "node:test";
import assert from "node:assert/strict";
import { startE2E } from "./harness";
import { apiFlows } from "./ui-helpers";
import { isProxySentOnBehalf } from "../../lib/ui/proxy-upstream";
import type { StoredFlow } from "../../lib/api-types";

test("a packet the ingress proxy sends to the server on a client's behalf: its details name the node address, the client's identity and why no policy verdict", async () => {
  const e2e = await startE2E({ rate: 60 });
  try {
    const { page, server } = e2e;
    await page.goto(server.url + "/?pane=table");
    await page.locator('[data-testid="flow-row"]').first().waitFor({ timeout: 30_000 });
    // the upstream's SYN: the first request of a client identity to a server pod opens it
    let upstream: StoredFlow | undefined;
    for (let i = 0; i < 60 && !upstream; i++) {
      upstream = (await apiFlows(server.url, { tcp_flags: "SYN", type: "trace" }, 2000)).find((f) => isProxySentOnBehalf(f.flow));
      if (!upstream) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(upstream, "an ingress proxy's upstream SYN was recorded");
    const ip = upstream.flow.IP!.source!;
    assert.equal(upstream.flow.source?.pod_name, undefined);
    // a shared link to the flow opens its details, as a user following one from a colleague would
    await page.goto(`${server.url}/?pane=table&flow=${upstream.id}`);
    await page.locator('[data-testid="flow-details"]').waitFor({ timeout: 30_000 });
    const note = page.locator('[data-testid="flow-details"] [data-testid="proxy-note"]');
    await note.waitFor({ timeout: 15_000 });
    const text = await note.innerText();
    assert.ok(text.includes(ip), text);
    assert.ok(text.includes(String(upstream.flow.source!.identity)), text);
    assert.match(text, /no policy verdict/);
    await e2e.screenshot("proxy-upstream-details");
  } finally {
    await e2e.close();
  }
});
