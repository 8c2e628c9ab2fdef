// `policy selectors`: every selector in force, the policies using it and the identities it matches,
// like `cilium-dbg policy selectors`.
import type { SelectorsResponse } from "../../../lib/inspect-types";
import { getJson } from "../remote";
import { policyText, renderTable, runInspect } from "./endpoint";

const USAGE = "usage: npm run -s cli -- policy selectors [-o json|table] [--server URL]";

export async function run(argv: string[]): Promise<number> {
  return runInspect(argv, USAGE, async (remote, output, args) => {
    if (args[0] !== "selectors" || args.length > 1) {
      console.error(USAGE);
      return 2;
    }
    const body = await getJson<SelectorsResponse>(remote, "/api/selectors");
    if (output === "json") {
      console.log(JSON.stringify(body, null, 2));
      return 0;
    }
    console.log(
      renderTable(
        ["SELECTOR", "POLICIES", "USERS", "IDENTITIES"],
        body.selectors.map((s) => [s.selector, s.policies.map(policyText), s.users.length, s.identities === "ANY" ? ["ANY"] : s.identities.map(String)]),
      ),
    );
    return 0;
  });
}
