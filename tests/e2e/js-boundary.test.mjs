// The Wasm/JS boundary (src/edge/io.rs <-> src/edge/io.js): every value both sides must
// agree on is passed in from Rust, except the list format itself (fields separated by
// "\n", an absent value as "\0"), which both files spell. This test fails when the two
// spellings differ, or when a value Rust passes in is written into io.js again.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./harness.mjs";

const rs = fs.readFileSync(path.join(ROOT, "src/edge/io.rs"), "utf8");
const js = fs.readFileSync(path.join(ROOT, "src/edge/io.js"), "utf8");

test("the list separator and the absent marker are the same on both sides", () => {
  const sep = /const SEP: char = '(.*?)';/.exec(rs)?.[1];
  const absentRs = /const ABSENT: &str = "(.*?)";/.exec(rs)?.[1];
  const absentJs = /const ABSENT = "(.*?)";/.exec(js)?.[1];
  assert.equal(sep, "\\n", "io.rs separates fields with \\n");
  assert.ok(js.includes('.join("\\n")') && js.includes('.split("\\n")'), "io.js joins and splits on \\n");
  assert.equal(absentRs, "\\0");
  assert.equal(absentJs, absentRs, "the absent marker is spelled alike");
});

test("values Rust passes in are not written into io.js", () => {
  const constants = [...rs.matchAll(/const [A-Z_]+: &str = "(sessiongate:[a-z_]+)";/g)].map((m) => m[1]);
  assert.ok(constants.length >= 2, `io.rs's rejection values: ${constants}`);
  for (const v of [...constants, "x-store-message", "x-session-command"]) {
    assert.ok(!js.includes(v), `${v} is written in io.js too`);
  }
});
