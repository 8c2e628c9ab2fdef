// Every temporary folder a test process makes lives under one root that is removed when the process
// exits: a test server's database reaches hundreds of megabytes, and a thousand runs left behind once
// filled the disk that CI shares with this machine.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

let root: string | undefined;

function processRoot(): string {
  if (root === undefined) {
    const made = fs.mkdtempSync(path.join(os.tmpdir(), "flowscope-test-"));
    root = made;
    process.on("exit", () => fs.rmSync(made, { recursive: true, force: true }));
  }
  return root;
}

/** A fresh folder, removed with everything in it when this process exits. */
export function tempDir(prefix = "t-"): string {
  return fs.mkdtempSync(path.join(processRoot(), prefix));
}
