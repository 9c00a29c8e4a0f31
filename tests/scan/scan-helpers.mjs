// Runs the real sessiongate-scan binary and returns its report. The dev-profile build:
// tier 1 (`cargo test --all-targets`) has already built it for the integration tests, so
// `make test` compiles the scanner and its TLS stack once, not a second time with the
// release profile's LTO.
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { ROOT } from "../e2e/harness.mjs";

export const BIN = path.join(ROOT, "target/debug/sessiongate-scan");

/** Builds the scanner once per test file (a no-op when it is up to date). */
export function buildScanner() {
  execFileSync("cargo", ["build", "--quiet", "--bin", "sessiongate-scan"], { cwd: ROOT, stdio: "inherit" });
}

/** -> { code, stdout, stderr, report (parsed JSON when --json) } */
export function scan(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      let report = null;
      if (args.includes("--json")) {
        try {
          report = JSON.parse(stdout);
        } catch {
          /* left null: the test shows stdout/stderr */
        }
      }
      resolve({ code, stdout, stderr, report });
    });
  });
}

/** Sorted `id subject severity` strings: what the tests compare exactly. */
export function findingKeys(report) {
  return report.findings.map((f) => `${f.id} ${f.subject} ${f.severity}`).sort();
}

export const LOGIN = ["--login", "POST /login user=$SCAN_USER password=$SCAN_PASSWORD", "--logout", "POST /logout"];
export const CREDENTIALS = { SCAN_USER: "alice", SCAN_PASSWORD: "correct-horse-battery" };
