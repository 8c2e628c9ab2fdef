// `verify FILE`: checks an evidence bundle offline: every file's SHA-256 and the hash chain over the
// flow lines; names the first altered, missing or reordered line.
import { verifyBundle } from "../../export";

export async function run(argv: string[]): Promise<number> {
  const usage = "usage: npm run -s cli -- verify BUNDLE.tar.gz";
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage);
    return 0;
  }
  const file = argv.find((a) => !a.startsWith("-"));
  if (!file) {
    console.error(usage);
    return 2;
  }
  const result = await verifyBundle(file);
  if (result.ok) {
    console.log(`OK: ${file}: ${result.lines} flow lines, all files and the hash chain verify`);
    return 0;
  }
  console.error(`FAILED: ${file}`);
  for (const e of result.errors) console.error(`  ${e}`);
  return 1;
}
