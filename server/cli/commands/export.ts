// `export`: flows matching hubble-style filters from a running Flowscope, as `hubble observe -o json`
// NDJSON (to stdout or -f FILE) or, with --bundle FILE, as a verifiable evidence bundle.
import fs from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { expandShortFlags, parseObserveArgs } from "../../../lib/filter/parse-cli";
import { toSearchParams } from "../../../lib/filter/parse-params";
import { authHeaders, takeRemoteFlags } from "../remote";

const HELP = `usage: npm run -s cli -- export [filters as for observe] [--since T] [--until T] [--bundle FILE | -f FILE] [--extensions] [--server URL]
Without --bundle, NDJSON in \`hubble observe -o json\` format goes to FILE or standard output.
--extensions keeps Flowscope's decision details (each flow's \`extensions\`: default-deny policies, the
deciding rule, L7 decisions); Hubble's own tools cannot read records that carry them.`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let bundle: string | undefined;
  let file: string | undefined;
  let extensions = false;
  const filterArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--bundle") bundle = argv[++i];
    else if (a.startsWith("--bundle=")) bundle = a.slice(9);
    else if (a === "-f" || a === "--file") file = argv[++i];
    else if (a === "--extensions") extensions = true;
    else filterArgs.push(a);
  }
  if ((argv.includes("--bundle") && !bundle) || ((argv.includes("-f") || argv.includes("--file")) && !file)) {
    console.error("export: --bundle and -f need a file name");
    return 2;
  }
  if (bundle && file) {
    console.error("export: choose one of --bundle FILE (evidence bundle) and -f FILE (NDJSON)");
    return 2;
  }
  let query;
  let remote;
  try {
    const r = takeRemoteFlags(expandShortFlags(filterArgs));
    remote = r.remote;
    const parsed = parseObserveArgs(r.rest, {});
    if (parsed.rest.length) throw new Error(`unknown arguments: ${parsed.rest.join(" ")}`);
    // an export is the whole window: a count would make the evidence quietly partial
    if (parsed.query.limit !== undefined) throw new Error("--last and --first are not supported: export writes every matching flow; bound it with --since and --until");
    query = parsed.query;
  } catch (err) {
    console.error(`export: ${(err as Error).message}`);
    return 2;
  }
  const params = toSearchParams({ ...query, limit: undefined, first: undefined });
  if (extensions) params.set("extensions", "true");
  const path = bundle ? "/api/export/bundle" : "/api/export";
  const res = await fetch(`${remote.server}${path}?${params}`, { headers: authHeaders(remote) }).catch((err: Error) => {
    throw new Error(`cannot reach Flowscope at ${remote.server} (${err.message})`);
  });
  if (!res.ok || !res.body) {
    console.error(`export: ${res.status} ${await res.text()}`);
    return 1;
  }
  const target = bundle ?? file;
  const out = target ? fs.createWriteStream(target) : process.stdout;
  await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), out);
  if (target) console.error(`wrote ${fs.statSync(target).size} bytes to ${target}`);
  return 0;
}
