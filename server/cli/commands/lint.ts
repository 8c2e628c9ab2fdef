// `lint`: report policy documents Cilium would reject (errors) and policies and scenario objects that
// do nothing or surprise people (warnings). Exit 1 on errors, 0 with only warnings, 2 on bad usage or
// an invalid scenario.
import { Datapath } from "../../datapath";
import { ScenarioError } from "../../scenario/types";
import { parseScenario } from "../../scenario/load";
import { lintDatapath, type LintFinding } from "../../datapath/lint";
import { count } from "../../../lib/format/count";

const USAGE = `usage: lint [--scenario FILE] [--policies PATH]... [PATH...] [-o text|json]
Checks the scenario's policies (and any extra files/folders) against the scenario's workloads.`;

export async function run(argv: string[]): Promise<number> {
  let scenario: string | undefined;
  const paths: string[] = [];
  let output = "text";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") {
      console.log(USAGE);
      return 0;
    } else if (a === "--scenario") scenario = argv[++i];
    else if (a === "--policies") paths.push(argv[++i]);
    else if (a === "-o" || a === "--output") output = argv[++i];
    else if (a.startsWith("-")) {
      console.error(`lint: unknown option "${a}"\n${USAGE}`);
      return 2;
    } else paths.push(a);
  }
  if (!scenario && paths.length === 0) {
    console.error(`lint: give --scenario FILE or policy paths\n${USAGE}`);
    return 2;
  }
  let dp: Datapath;
  try {
    dp = scenario
      ? Datapath.fromScenarioFile(scenario, { extraPolicyPaths: paths })
      : new Datapath(parseScenario("apiVersion: flowscope/v1\nkind: Scenario\n", `${process.cwd()}/(no scenario)`), { extraPolicyPaths: paths });
  } catch (e) {
    if (e instanceof ScenarioError) {
      console.error(`lint: ${e.message}`);
      return 2;
    }
    throw e;
  }
  // the scenario's own warnings (a service that selects no pod, …) come first, positioned like its errors
  const findings: LintFinding[] = [
    ...(dp.scenario.warnings ?? []).map((w): LintFinding => ({ level: "warning", source: w.line ? `${w.file}:${w.line}` : w.file, path: w.path, message: w.message })),
    ...lintDatapath(dp),
  ];
  if (!scenario) for (const f of findings) if (f.message.includes("in this scenario")) f.message += " (no --scenario given)";
  if (output === "json") console.log(JSON.stringify({ findings }));
  else {
    for (const f of findings) console.log(f.level === "error" ? `error: ${f.message}` : `warning: ${f.policy ?? f.source}: ${f.path}: ${f.message}`);
    const e = findings.filter((f) => f.level === "error").length;
    console.log(`${count(dp.policies().length, "policy", "policies")}, ${count(e, "error")}, ${count(findings.length - e, "warning")}`);
  }
  return findings.some((f) => f.level === "error") ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
