// `identity list` / `identity get ID`: security identities and their labels, reserved ones included,
// like `cilium-dbg identity list|get`.
import type { IdentitiesResponse, IdentityInfo } from "../../../lib/inspect-types";
import { getJson } from "../remote";
import { renderTable, runInspect } from "./endpoint";

const USAGE = "usage: npm run -s cli -- identity list [-o json|table] [--server URL]\n       npm run -s cli -- identity get ID [-o json|table] [--server URL]";

function table(list: IdentityInfo[]): string {
  return renderTable(["ID", "LABELS", "ENDPOINTS"], list.map((i) => [i.id, i.labels, i.endpoints.join(",")]));
}

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, args) => {
    const [sub, id, ...extra] = args;
    if (sub === "list" && id === undefined) {
      const body = await getJson<IdentitiesResponse>(remote, "/api/identities");
      console.log(output === "json" ? JSON.stringify(body, null, 2) : table(body.identities));
      return 0;
    }
    if (sub === "get" && id !== undefined && extra.length === 0) {
      if (!/^\d+$/.test(id)) {
        console.error(`identity get: ID must be a number, got ${JSON.stringify(id)}`);
        return 2;
      }
      const body = await getJson<IdentityInfo>(remote, `/api/identities/${id}`);
      console.log(output === "json" ? JSON.stringify(body, null, 2) : table([body]));
      return 0;
    }
    console.error(USAGE);
    return 2;
  });
}
