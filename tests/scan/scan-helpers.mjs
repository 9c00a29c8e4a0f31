// Runs the real sessiongate-scan binary and returns its report: the build cargo makes
// beside the integration tests (target/debug, with the dev-dependencies' features), which
// tier 1 (`cargo test --all-targets`) has already made, so `make test` compiles the
// scanner and its TLS stack once (a `cargo build` of the bin would resolve other features
// and compile them again; `--release` would add a second, LTO build).
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { ROOT } from "../e2e/harness.mjs";

export const BIN = path.join(ROOT, "target/debug/sessiongate-scan");

/** Builds the scanner once per test file (a no-op when it is up to date, as after tier 1). */
export function buildScanner() {
  execFileSync("cargo", ["test", "--no-run", "--quiet", "--test", "scan_http_values"], { cwd: ROOT, stdio: "inherit" });
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
