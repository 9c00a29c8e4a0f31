// The Next.js kit's example, built once with `next build` (about half a minute on two
// cores) and kept in kits/next/example/.next (gitignored); redone only when a source it
// depends on (the example, the kit, the Node kit core, Next's version) changed since.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT } from "./support.mjs";

export const EXAMPLE = path.join(ROOT, "kits/next/example");
export const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");
const STAMP = path.join(EXAMPLE, ".next/sessiongate-sources.sha256");

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === ".next" || e.name === "node_modules" ? [] : files(p);
    return [p];
  });
}

function sourcesDigest() {
  const h = crypto.createHash("sha256");
  h.update(JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/next/package.json"), "utf8")).version);
  for (const dir of ["kits/next/example", "kits/next/src", "kits/core-js/src"]) {
    for (const f of files(path.join(ROOT, dir)).sort()) h.update(path.relative(ROOT, f)).update("\0").update(fs.readFileSync(f));
  }
  return h.digest("hex");
}

export function buildOnce() {
  const want = sourcesDigest();
  if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8") === want && fs.existsSync(path.join(EXAMPLE, ".next/BUILD_ID"))) return;
  const r = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    cwd: EXAMPLE, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, timeout: 15 * 60_000,
  });
  assert.equal(r.status, 0, `next build failed:\n${r.stdout}\n${r.stderr}`);
  fs.writeFileSync(STAMP, want);
}
