// `npm run -s cli -- <command> …`: one entry point for every command-line tool.
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  trace: { summary: "send one request (or a list) through the datapath and show what happened", load: () => import("./commands/trace") },
  lint: { summary: "check policy files for mistakes and surprises", load: () => import("./commands/lint") },
  observe: { summary: "query or follow flows like `hubble observe`", load: () => import("./commands/observe") },
  export: { summary: "export flows as Hubble NDJSON or an evidence bundle", load: () => import("./commands/export") },
  verify: { summary: "verify an evidence bundle offline", load: () => import("./commands/verify") },
  "fqdn-cache": { summary: "list the FQDN cache (like `cilium-dbg fqdn cache list`)", load: () => import("./commands/fqdn-cache") },
};

function usage(): string {
  const lines = ["usage: npm run -s cli -- <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push("", "Run a command with --help for its options.");
  return lines.join("\n");
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  const mod = await cmd.load();
  return mod.run(rest);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
  },
);
