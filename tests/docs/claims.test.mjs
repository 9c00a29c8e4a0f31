// Every test that README.md and SECURITY.md cite exists: a claim "this is tested by X"
// is only worth something while X is there. Citations have the form
//   `tests/e2e/gate.test.mjs`: "test title", "another title"
//   `src/core/path.rs` `rust_test_fn`, `another_fn`
// (a backticked file, then the quoted titles or backticked function names that belong
// to it, up to the next file on the same line). "..." in a cited title stands for any
// text, <word> for a parameter of a parametrised title; a table-driven file's case
// names count as titles. In the ASVS table, the "code" column names functions that must
// exist and the "tests" column tests; so do backticked names in prose. "all N tests" of a file must be all of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOCS = ["README.md", "SECURITY.md"];
const NUMBERS = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12 };

const read = (f) => fs.readFileSync(path.join(ROOT, f), "utf8");
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Titles of a node:test file: literal titles as strings, parametrised ones as regexes, plus table case names. */
function jsTitles(file) {
  const src = read(file).replace(/^\s*\/\/.*$/gm, "");
  const titles = [];
  for (const m of src.matchAll(/\btest\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/g)) {
    const t = m[2].replace(/\\(["'`\\])/g, "$1");
    titles.push(t.includes("${") ? new RegExp("^" + t.split(/\$\{[^}]*\}/).map(escape).join(".+") + "$") : t);
  }
  const cases = [...src.matchAll(/\bname:\s*"((?:\\.|[^"\\])*)"/g)].map((m) => JSON.parse(`"${m[1]}"`));
  for (const m of src.matchAll(/\bname:\s*`([^`]*)`/g)) {
    cases.push(new RegExp("^" + m[1].split(/\$\{[^}]*\}/).map(escape).join(".+") + "$"));
  }
  return { titles, cases };
}

/** Whether a cited title names one of the file's tests. */
function citesATest(cited, { titles, cases }) {
  const concrete = cited.replace(/<[^>]+>/g, "X").replace(/\bNN\b/g, "01");
  const pattern = cited.includes("...") ? new RegExp("^" + cited.split("...").map((p) => escape(p.trim())).join(".*") + "$") : null;
  return [...titles, ...cases].some((t) =>
    typeof t === "string" ? t === cited || (pattern && pattern.test(t)) : t.test(concrete) || (pattern && pattern.test(t.source)),
  );
}

/** The Rust files a module's functions may live in: the file, or its directory (tests moved
 *  to a sibling file; for `x/mod.rs`, the other files of `x/`). */
function rustSources(file) {
  const dir = file.endsWith("/mod.rs") ? path.dirname(file) : file.replace(/\.rs$/, "");
  const files = [file];
  if (fs.existsSync(path.join(ROOT, dir))) {
    for (const f of fs.readdirSync(path.join(ROOT, dir), { recursive: true })) if (f.endsWith(".rs")) files.push(path.join(dir, f));
  }
  return files.map(read).join("\n");
}

/** Whether `name` is a test function (#[test] among the attributes above `fn name`). */
function isRustTest(src, name) {
  const lines = src.split("\n");
  const at = lines.findIndex((l) => new RegExp(`^\\s*(pub )?fn ${name}\\b`).test(l));
  if (at < 0) return false;
  for (let i = at - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (l === "#[test]") return true;
    if (!(l.startsWith("///") || l.startsWith("//") || l.startsWith("#[") || l === "")) return false;
  }
  return false;
}

/** Every citation in a document: {doc, line, file, kind: "title"|"test"|"code"|"all", value}. */
function citations(doc) {
  const out = [];
  read(doc).split("\n").forEach((text, i) => {
    const line = i + 1;
    // In the ASVS table, the second-to-last column is code and the last is tests.
    const cells = text.startsWith("|") ? text.split(" | ") : [text];
    cells.forEach((cell, c) => {
      // Rust names are tests in the table's tests column and on "- Rust:" lines; elsewhere
      // (prose, "*Code*:" lines, the code column) they name code, which must exist.
      const kind = cells.length > 1 ? (c === cells.length - 1 ? "test" : "code") : /^- Rust:/.test(text) ? "test" : "code";
      let file = null;
      for (const m of cell.matchAll(/`([^`]+)`|"((?:[^"\\]|\\.)*)"|\ball (\w+) tests\b/g)) {
        if (m[1] !== undefined && /^(tests|src|fuzz)\/[\w./-]+\.(mjs|rs)$/.test(m[1])) {
          file = m[1];
          out.push({ doc, line, file, kind: "file", value: file });
        } else if (m[1] !== undefined && file?.endsWith(".rs") && /^[a-z_][a-z0-9_]*$/.test(m[1])) {
          out.push({ doc, line, file, kind, value: m[1] });
        } else if (m[2] !== undefined && file?.endsWith(".test.mjs")) {
          out.push({ doc, line, file, kind: "title", value: m[2] });
        } else if (m[3] !== undefined && file?.endsWith(".test.mjs")) {
          out.push({ doc, line, file, kind: "all", value: m[3] });
        }
      }
    });
  });
  return out;
}

const all = DOCS.flatMap(citations);

test("the documents cite tests (the parser finds them)", () => {
  // A parser that silently finds nothing would pass every check below.
  assert.ok(all.filter((c) => c.kind === "title").length >= 100, `only ${all.filter((c) => c.kind === "title").length} cited titles found`);
  assert.ok(all.filter((c) => c.kind === "test").length >= 40, `only ${all.filter((c) => c.kind === "test").length} cited Rust tests found`);
});

test("every cited file exists", () => {
  const missing = all.filter((c) => c.kind === "file" && !fs.existsSync(path.join(ROOT, c.file)));
  assert.deepEqual(missing.map((c) => `${c.doc}:${c.line} ${c.file}`), []);
});

test("every cited end-to-end, browser and scanner test exists under that title", () => {
  const cache = new Map();
  const titles = (f) => cache.get(f) ?? cache.set(f, jsTitles(f)).get(f);
  const missing = all.filter((c) => c.kind === "title" && fs.existsSync(path.join(ROOT, c.file)) && !citesATest(c.value, titles(c.file)));
  assert.deepEqual(missing.map((c) => `${c.doc}:${c.line} ${c.file}: "${c.value}"`), []);
});

test("every cited Rust test is a #[test] in that file, and every cited function exists", () => {
  const wrong = all.filter((c) => {
    if ((c.kind !== "test" && c.kind !== "code") || !fs.existsSync(path.join(ROOT, c.file))) return false;
    const src = rustSources(c.file);
    return c.kind === "test" ? !isRustTest(src, c.value) : !new RegExp(`\\b${c.value}\\b`).test(src);
  });
  assert.deepEqual(wrong.map((c) => `${c.doc}:${c.line} ${c.file} \`${c.value}\` (${c.kind === "test" ? "no such test" : "no such name"})`), []);
});

test('"all N tests" of a file is the number of tests in it', () => {
  const wrong = all.filter((c) => {
    if (c.kind !== "all") return false;
    const { titles } = jsTitles(c.file);
    return NUMBERS[c.value] !== titles.length;
  });
  assert.deepEqual(wrong.map((c) => `${c.doc}:${c.line} ${c.file}: "all ${c.value} tests" but it has ${jsTitles(c.file).titles.length}`), []);
});

test('"N-case properties in `file.rs`" and "all N targets in `fuzz/`" match the code', () => {
  const wrong = [];
  for (const doc of DOCS) {
    read(doc).split("\n").forEach((text, i) => {
      const where = `${doc}:${i + 1}`;
      const cases = text.match(/\b(\d{1,3}(?:,\d{3})*)-case\b/);
      if (cases) {
        const n = cases[1].replace(/,/g, "_");
        const after = text.slice(cases.index).split(";")[0];
        for (const m of after.matchAll(/`([\w/]+\.rs)`/g)) {
          const file = m[1].includes("/") ? m[1] : `src/core/${m[1]}`;
          if (!fs.existsSync(path.join(ROOT, file))) wrong.push(`${where}: ${file} does not exist`);
          // `proptest_cases::config(n)` is `with_cases(n)` with the mutants' cap (src/proptest_cases.rs).
          else if (![`with_cases(${n})`, `proptest_cases::config(${n})`].some((s) => rustSources(file).includes(s))) wrong.push(`${where}: no ${cases[1]}-case property in ${file}`);
        }
      }
      const targets = text.match(/\ball (\w+) targets in `fuzz\/`/);
      if (targets) {
        const have = fs.readdirSync(path.join(ROOT, "fuzz/fuzz_targets")).filter((f) => f.endsWith(".rs")).length;
        if (NUMBERS[targets[1]] !== have) wrong.push(`${where}: "all ${targets[1]} targets" but fuzz/fuzz_targets has ${have}`);
      }
    });
  }
  assert.deepEqual(wrong, []);
});
