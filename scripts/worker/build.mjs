// Builds a workers-rs crate into a Worker, offline, with tools this project already needs:
// cargo, the wasm-bindgen CLI (the version Cargo.lock pins), wasm-opt (npm binaryen) and
// esbuild (npm). It does what worker-build 0.8.7 does for a `--release` build, step for
// step, so that the output is the same (checked byte for byte when this replaced it):
//
//   node scripts/worker/build.mjs --out-dir build [--crate DIR] [-- cargo build options]
//
// writes OUT/index.js (the bundled entry), OUT/index_bg.wasm, OUT/package.json and
// OUT/worker/shim.mjs. Entries of OUT that the build does not write (build/store/) are
// kept. The tools come from WASM_BINDGEN_BIN, WASM_OPT_BIN and ESBUILD_BIN, else from
// PATH and node_modules/.bin.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SHIM = path.join(ROOT, "scripts/worker/shim.js");
const TARGET = "wasm32-unknown-unknown";
// The Rust exports worker-build calls with (request, env, ctx); any other function export
// becomes an Entrypoint method as it is.
const EVENT_HANDLERS = ["fetch", "queue", "scheduled", "email", "connect"];
const SYSTEM_FNS = ["__wbg_reset_state", "__worker_init_state"];
// binaryen features: rustc's wasm32 defaults plus the exception handling of wasm-bindgen's
// catch wrappers, named so that wasm-opt never emits an encoding workerd lacks.
const WASM_FEATURES = ["mutable-globals", "sign-ext", "nontrapping-float-to-int", "bulk-memory", "multivalue", "reference-types", "exception-handling"];

class BuildError extends Error {}

function parseArgs(argv) {
  const opts = { crate: ROOT, outDir: "build", cargo: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { opts.cargo.push(...argv.slice(i + 1)); break; }
    if (a === "--out-dir") opts.outDir = argv[++i];
    else if (a === "--crate") opts.crate = path.resolve(argv[++i]);
    else opts.cargo.push(a); // e.g. --features store, as worker-build passed them on
  }
  if (!opts.outDir) throw new BuildError("--out-dir needs a directory");
  return opts;
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", ...options });
  if (r.error) throw new BuildError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new BuildError(`${path.basename(cmd)} failed (exit ${r.status ?? r.signal}): ${cmd} ${args.join(" ")}`);
  return r;
}

function output(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...options });
  if (r.error) throw new BuildError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new BuildError(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

/** An executable from its *_BIN variable, else PATH, else node_modules/.bin. */
function tool(name, envVar) {
  const candidates = [process.env[envVar]];
  for (const dir of (process.env.PATH || "").split(path.delimiter)) if (dir) candidates.push(path.join(dir, name));
  candidates.push(path.join(ROOT, "node_modules/.bin", name));
  for (const c of candidates) {
    if (!c) continue;
    try { fs.accessSync(c, fs.constants.X_OK); return c; } catch { /* next */ }
  }
  throw new BuildError(`${name} not found (set ${envVar}, or run scripts/setup.sh)`);
}

/** The version Cargo.lock resolves for a package (the first entry of that name). */
function lockedVersion(crateDir, name) {
  const lock = fs.readFileSync(path.join(crateDir, "Cargo.lock"), "utf8");
  const m = lock.match(new RegExp(`\\[\\[package\\]\\]\\nname = "${name}"\\nversion = "([^"]+)"`));
  return m?.[1];
}

/** The wasm-bindgen CLI must be the library's exact version (its schema check fails otherwise). */
function checkBindgen(bindgen, crateDir) {
  const want = lockedVersion(crateDir, "wasm-bindgen");
  if (!want) throw new BuildError("Cargo.lock resolves no wasm-bindgen: is this a workers-rs crate?");
  const have = output(bindgen, ["--version"]).match(/\d+\.\d+\.\d+/)?.[0];
  if (have !== want) throw new BuildError(`${bindgen} is ${have}, Cargo.lock has wasm-bindgen ${want}: run scripts/setup.sh`);
}

function cargoBuild(crateDir, extra) {
  // Makes wasm-bindgen's macros use js-sys' futures, as worker-build's cargo build does:
  // the proc-macro reads it at expansion time (cargo passes no --cfg to host macros).
  const env = { ...process.env, WASM_BINDGEN_USE_JS_SYS: "1" };
  run("cargo", ["build", "--lib", "--release", "--target", TARGET, ...extra], { cwd: crateDir, env });
  const meta = JSON.parse(output("cargo", ["metadata", "--format-version", "1", "--no-deps"], { cwd: crateDir }));
  const manifest = fs.realpathSync(path.join(crateDir, "Cargo.toml"));
  const pkg = meta.packages.find((p) => fs.realpathSync(p.manifest_path) === manifest);
  const lib = pkg?.targets.find((t) => t.kind.includes("cdylib"));
  if (!lib) throw new BuildError('crate-type must include "cdylib" to build a Worker');
  const dirIdx = extra.indexOf("--target-dir");
  const targetDir = dirIdx >= 0 ? path.resolve(crateDir, extra[dirIdx + 1]) : meta.target_directory;
  return { pkg, wasm: path.join(targetDir, TARGET, "release", `${lib.name.replace(/-/g, "_")}.wasm`) };
}

// --- the producers section: worker-build records `sdk: workers-rs <version>` in it ---
function readLeb(buf, pos) {
  let result = 0, shift = 0;
  for (;;) {
    if (pos.i >= buf.length || shift >= 35) throw new BuildError("invalid LEB128 in the Wasm");
    const b = buf[pos.i++];
    result += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return result;
    shift += 7;
  }
}
function leb(n) {
  const out = [];
  do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n);
  return Buffer.from(out);
}
const wasmName = (s) => Buffer.concat([leb(Buffer.byteLength(s)), Buffer.from(s)]);
function readName(buf, pos, end) {
  const len = readLeb(buf, pos);
  if (pos.i + len > end) throw new BuildError("invalid name in the Wasm");
  const s = buf.toString("utf8", pos.i, pos.i + len);
  pos.i += len;
  return s;
}

function withSdkProducer(bytes, version) {
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x0061736d || bytes.readUInt32LE(4) !== 1) throw new BuildError("not a Wasm module");
  const pos = { i: 8 };
  let found = null;
  while (pos.i < bytes.length) {
    const start = pos.i;
    const id = bytes[pos.i++];
    const len = readLeb(bytes, pos);
    const end = pos.i + len;
    if (end > bytes.length) throw new BuildError("invalid section length in the Wasm");
    if (id === 0 && readName(bytes, pos, end) === "producers") { found = { start, end, content: pos.i }; break; }
    pos.i = end;
  }
  const entries = [];
  if (found) {
    const p = { i: found.content };
    for (let f = readLeb(bytes, p); f > 0; f--) {
      const field = readName(bytes, p, found.end);
      for (let v = readLeb(bytes, p); v > 0; v--) entries.push({ field, name: readName(bytes, p, found.end), version: readName(bytes, p, found.end) });
    }
    if (p.i !== found.end) throw new BuildError("invalid producers section in the Wasm");
  }
  if (!entries.some((e) => e.field === "sdk" && e.name === "workers-rs")) entries.push({ field: "sdk", name: "workers-rs", version });
  const fields = [...new Set(entries.map((e) => e.field))];
  const parts = [leb(fields.length)];
  for (const field of fields) {
    const of = entries.filter((e) => e.field === field);
    parts.push(wasmName(field), leb(of.length), ...of.flatMap((e) => [wasmName(e.name), wasmName(e.version)]));
  }
  const payload = Buffer.concat([wasmName("producers"), ...parts]);
  const section = Buffer.concat([Buffer.from([0]), leb(payload.length), payload]);
  return found
    ? Buffer.concat([bytes.subarray(0, found.start), section, bytes.subarray(found.end)])
    : Buffer.concat([bytes, section]);
}

// --- the entry module ---
/** Each `export` declaration of wasm-bindgen's module text, from the keyword on. */
function exportDecls(content) {
  const decls = [];
  for (let i = content.indexOf("export "); i >= 0; i = content.indexOf("export ", i + 1)) {
    if (i === 0 || /[\s;}]/.test(content[i - 1])) decls.push(content.slice(i));
  }
  return decls;
}

function handlers(bindings) {
  const names = [];
  for (const decl of exportDecls(bindings)) {
    const fn = decl.match(/^export (?:async )?function([^(]*)\(/);
    const alias = decl.match(/^export \{[^}]*? as ([^}]*)\}/);
    const name = (fn?.[1] ?? alias?.[1])?.trim();
    if (name !== undefined && !SYSTEM_FNS.includes(name)) names.push(name);
  }
  return names.map((name) => {
    if (name === "fetch" && process.env.RUN_TO_COMPLETION !== undefined) {
      return "Entrypoint.prototype.fetch = async function fetch(request) {\n  let response = exports.fetch(request, this.env, this.ctx);\n  this.ctx.waitUntil(response);\n  return response;\n}\n";
    }
    if (EVENT_HANDLERS.includes(name)) {
      return `Entrypoint.prototype.${name} = function ${name} (arg) {\n  return exports.${name}.call(this, arg, this.env, this.ctx);\n}\n`;
    }
    return `Entrypoint.prototype.${name} = exports.${name};\n`;
  }).join("");
}

/** Durable Object classes: exported through the re-initialising proxy. */
function classExports(bindings) {
  const lines = [];
  for (const decl of exportDecls(bindings)) {
    const m = decl.match(/^export class ([^{]*)\{/);
    if (m) lines.push(`export const ${m[1].trim()} = new Proxy(exports.${m[1].trim()}, classProxyHooks);\n`);
  }
  return lines.join("");
}

function packageJson(pkg) {
  // worker-build's package.json for the output directory (wasm-pack's, then its own fields).
  const json = {
    name: pkg.name,
    type: "module",
    ...(pkg.authors.length ? { collaborators: pkg.authors } : {}),
    ...(pkg.description ? { description: pkg.description } : {}),
    version: pkg.version,
    ...(pkg.license ? { license: pkg.license } : pkg.license_file ? { license: `SEE LICENSE IN ${pkg.license_file}` } : {}),
    ...(pkg.repository ? { repository: { type: "git", url: pkg.repository } } : {}),
    files: ["index_bg.wasm", "index.js", "index.d.ts"],
    main: "index.js",
    ...(pkg.homepage ? { homepage: pkg.homepage } : {}),
    sideEffects: ["./index.js"],
    ...(pkg.keywords.length ? { keywords: pkg.keywords } : {}),
  };
  // worker-build rewrites it through serde_json's map, which sorts the keys.
  return JSON.stringify(Object.fromEntries(Object.entries(json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), null, 2);
}

function bundle(staging, esbuild) {
  const args = ["--external:./index_bg.wasm", "--external:cloudflare:*", "--format=esm", "--bundle", "./shim.js", "--outfile=index.js", "--allow-overwrite"];
  if (process.env.NO_MINIFY === undefined) args.push("--minify");
  run(esbuild, args, { cwd: staging });
  const index = path.join(staging, "index.js");
  // workerd takes the Wasm as a plain module import, not a source-phase import.
  fs.writeFileSync(index, fs.readFileSync(index, "utf8").replaceAll("import source ", "import "));
}

/** Moves what the staging directory holds into OUT, replacing entries of the same name. */
function publish(staging, outDir) {
  for (const name of fs.readdirSync(staging)) {
    const dest = path.join(outDir, name);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(path.join(staging, name), dest);
  }
  fs.rmdirSync(staging);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const bindgen = tool("wasm-bindgen", "WASM_BINDGEN_BIN");
  const wasmOpt = tool("wasm-opt", "WASM_OPT_BIN");
  const esbuild = tool("esbuild", "ESBUILD_BIN");
  checkBindgen(bindgen, opts.crate);

  const outDir = path.resolve(opts.crate, opts.outDir);
  const staging = path.join(outDir, ".tmp");
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });

  const { pkg, wasm } = cargoBuild(opts.crate, opts.cargo);
  run(bindgen, [wasm, "--out-dir", staging, "--no-typescript", "--target", "module", "--out-name", "index",
    "--experimental-reset-state-function", "--force-enable-abort-handler"]);
  const wasmOut = path.join(staging, "index_bg.wasm");
  // -O with the name section kept (--debuginfo), as worker-build runs it.
  run(wasmOpt, [wasmOut, "-o", `${wasmOut}.opt`, "-O", ...WASM_FEATURES.map((f) => `--enable-${f}`), "--debuginfo"]);
  fs.renameSync(`${wasmOut}.opt`, wasmOut);
  const sdk = lockedVersion(opts.crate, "worker") ?? "unknown";
  fs.writeFileSync(wasmOut, withSdkProducer(fs.readFileSync(wasmOut), sdk));

  const bindings = fs.readFileSync(path.join(staging, "index.js"), "utf8");
  const template = fs.readFileSync(SHIM, "utf8");
  if (!template.includes("$HANDLERS")) throw new BuildError(`${SHIM} lost its $HANDLERS line`);
  fs.writeFileSync(path.join(staging, "shim.js"), template.replace("$HANDLERS", () => handlers(bindings)) + classExports(bindings));
  fs.writeFileSync(path.join(staging, ".gitignore"), "*");
  fs.writeFileSync(path.join(staging, "package.json"), packageJson(pkg));
  bundle(staging, esbuild);
  fs.rmSync(path.join(staging, "shim.js"));
  fs.rmSync(path.join(staging, "snippets"), { recursive: true, force: true });
  fs.mkdirSync(path.join(staging, "worker"));
  fs.writeFileSync(path.join(staging, "worker/shim.mjs"),
    "// Use index.js directly, this file provided for backwards compat\n// with former shim.mjs only.\nexport * from '../index.js';\nexport { default } from '../index.js';\n");
  publish(staging, outDir);
}

try {
  main();
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  console.error(`build: ${e.message}`);
  process.exit(1);
}
