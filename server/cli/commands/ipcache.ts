// `ipcache list`: IP / prefix → identity with where the entry came from, like `cilium-dbg bpf ipcache list`.
import type { IpcacheResponse } from "../../../lib/inspect-types";
import { getJson } from "../remote";
import { renderTable, runInspect } from "./endpoint";

const USAGE = "usage: npm run -s cli -- ipcache list [--node NODE] [-o json|table] [--server URL]";

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, args) => {
    const [sub, ...more] = args;
    let node: string | undefined;
    for (let i = 0; i < more.length; i++) {
      if (more[i] === "--node" && more[i + 1] !== undefined) node = more[++i];
      else {
        console.error(`unexpected argument ${JSON.stringify(more[i])}\n${USAGE}`);
        return 2;
      }
    }
    if (sub !== "list") {
      console.error(USAGE);
      return 2;
    }
    const body = await getJson<IpcacheResponse>(remote, `/api/ipcache${node ? `?node=${encodeURIComponent(node)}` : ""}`);
    if (output === "json") {
      console.log(JSON.stringify(body, null, 2));
      return 0;
    }
    console.log(`# as seen from node ${body.node}`);
    console.log(renderTable(["IP PREFIX/ADDRESS", "IDENTITY", "SOURCE"], body.entries.map((e) => [e.prefix, e.identity, e.source])));
    return 0;
  });
}
