// The four frameworks behind the real gate (the built Wasm in workerd, real Durable
// Objects), each its kit's example application with its test-only reporting routes on
// (SESSIONGATE_DIFFERENTIAL=1), straight behind the gate: no relay that would reparse
// what the gate forwards.
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { startGate, rawFetch, sessionCookie, SECRETS, ROOT } from "../e2e/harness.mjs";
import { CONFIG } from "./generator.mjs";
import { USER_AGENT } from "./client.mjs";

const NEXT_EXAMPLE = path.join(ROOT, "kits/next/example");
const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");

export const FRAMEWORKS = {
  express: { command: process.execPath, args: [path.join(ROOT, "kits/express/example/app.mjs")], override: true },
  // Rails's own stack (Rack::MethodOverride) and router; see kits/rack/example/differential_rails.rb.
  rails: { command: "ruby", args: [path.join(ROOT, "kits/rack/example/differential_rails.rb")], override: true },
  django: { command: path.join(ROOT, ".venv-kits/bin/python"), args: [path.join(ROOT, "kits/django/example/app.py")], env: { PYTHONUNBUFFERED: "1" } },
  next: {
    command: process.execPath, args: [NEXT_BIN, "start", "-H", "127.0.0.1"], cwd: NEXT_EXAMPLE,
    env: { NEXT_TELEMETRY_DISABLED: "1" }, prepare: buildNextOnce,
  },
};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function until(what, fn, deadline = 120_000) {
  const end = Date.now() + deadline;
  let last;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/** Starts the application and a gate in front of it; signs in once (a session without step-up). */
export async function startFramework(name) {
  const fw = FRAMEWORKS[name];
  await fw.prepare?.();
  const port = await freePort();
  const log = [];
  const proc = spawn(fw.command, fw.args, {
    cwd: fw.cwd ?? ROOT,
    env: {
      ...process.env, ...fw.env, SESSIONGATE_DIFFERENTIAL: "1", SESSIONGATE_SECRET: SECRETS.ORIGIN_SECRET,
      SESSIONGATE_AUDIENCE: "127.0.0.1", PORT: String(port),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout.on("data", (d) => log.push(String(d)));
  proc.stderr.on("data", (d) => log.push(String(d)));
  const appUrl = `http://127.0.0.1:${port}`;
  let gate;
  const stack = {
    name, appPort: port, proc, log,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      await gate?.dispose();
    },
  };
  try {
    await until(`${name} to answer on ${appUrl}`, async () => {
      if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}: ${log.join("").slice(-2000)}`);
      await (await rawFetch(appUrl + "/login")).arrayBuffer();
      return true;
    });
    gate = await startGate({ origin: { url: appUrl, close: async () => {} }, vars: { ...CONFIG } });
    stack.gate = gate;
    stack.gatePort = Number(new URL(gate.base).port);
    stack.cookie = await signIn(gate);
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

async function signIn(gate) {
  const body = "username=bob&password=builder";
  const res = await gate.fetch("/login", {
    method: "POST", body, ua: USER_AGENT,
    headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(body.length), accept: "application/json" },
  });
  await res.arrayBuffer();
  const cookie = sessionCookie(res);
  if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status} ${res.headers.get("set-cookie")}`);
  return cookie;
}

// The Next.js production build, shared with tests/kits/next.test.mjs: the same stamp over
// the same sources, so whichever tier runs first builds and the other reuses it.
function nextFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === ".next" || e.name === "node_modules" ? [] : nextFiles(p);
    return [p];
  });
}

function buildNextOnce() {
  const stamp = path.join(NEXT_EXAMPLE, ".next/sessiongate-sources.sha256");
  const h = crypto.createHash("sha256");
  h.update(JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/next/package.json"), "utf8")).version);
  for (const dir of ["kits/next/example", "kits/next/src", "kits/core-js/src"]) {
    for (const f of nextFiles(path.join(ROOT, dir)).sort()) h.update(path.relative(ROOT, f)).update("\0").update(fs.readFileSync(f));
  }
  const want = h.digest("hex");
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === want && fs.existsSync(path.join(NEXT_EXAMPLE, ".next/BUILD_ID"))) return;
  const r = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    cwd: NEXT_EXAMPLE, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, timeout: 15 * 60_000,
  });
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
  fs.writeFileSync(stamp, want);
}
