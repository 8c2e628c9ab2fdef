// `npm run -s cli -- <command> …`: one entry point for every command-line tool.
import "../filter-regex-engine";
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  trace: { summary: "send one request (or a list) through the datapath and show what happened", load: () => import("./commands/trace") },
  lint: { summary: "check policy files for mistakes and surprises", load: () => import("./commands/lint") },
  observe: { summary: "query or follow flows like `hubble observe`", load: () => import("./commands/observe") },
  export: { summary: "export flows as Hubble NDJSON or an evidence bundle", load: () => import("./commands/export") },
  import: { summary: "import a Hubble export (hubble observe -o json) into the running server", load: () => import("./commands/import") },
  verify: { summary: "verify an evidence bundle offline", load: () => import("./commands/verify") },
  "fqdn-cache": { summary: "list the FQDN cache (like `cilium-dbg fqdn cache list`)", load: () => import("./commands/fqdn-cache") },
  endpoint: { summary: "list endpoints and their policy enforcement (like `cilium-dbg endpoint list`)", load: () => import("./commands/endpoint") },
  identity: { summary: "list identities or get one with its labels (like `cilium-dbg identity list|get`)", load: () => import("./commands/identity") },
  ipcache: { summary: "list IP/prefix → identity (like `cilium-dbg bpf ipcache list`)", load: () => import("./commands/ipcache") },
  "policy-map": { summary: "show an endpoint's policy map with hit counters (like `cilium-dbg bpf policy get`)", load: () => import("./commands/policy-map") },
  policy: { summary: "policy selectors: selectors in force, their policies and identities", load: () => import("./commands/policy") },
};

function usage(): string {
  const lines = ["usage: npm run -s cli -- <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push("", "Run a command with --help for its options.");
  return lines.join("\n");
}

// `observe | head` closes the pipe early: that ends the output, it is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

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
