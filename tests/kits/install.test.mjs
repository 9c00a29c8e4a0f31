// Issue 28: each kit installs alone from the artefact a release publishes, into a fresh
// project outside the repository, and a smoke application on it works behind the real
// gate. kits/release.sh builds the artefacts (npm tarballs with the kit core inside, the
// Django wheel, the Rack gem); then:
//   Express, Next.js  npm install <tarball> into an empty project (public dependencies from
//                     npm's cache, else the registry), nothing else from this repository;
//   Django            a fresh virtualenv, pip install --no-index of the wheel, its
//                     dependencies from the wheelhouse `make setup` downloads;
//   Rack              gem install --local into an empty GEM_HOME, its dependencies
//                     resolved against the system's gems (Debian's rack 2.2, jwt 2.5).
// The smoke scenario: a navigation without a session goes to LOGIN_URL with return_to,
// the sign-in goes back there, the identity comes from the installed kit, a direct
// request is refused, logout ends the session.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startStack, json, ROOT } from "./support.mjs";
import { rawFetch, sessionCookie, isCleared } from "../e2e/harness.mjs";

const VENV = process.env.SESSIONGATE_KITS_VENV ?? path.join(ROOT, ".venv-kits");
const SMOKE = path.join(ROOT, "tests/kits/smoke");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "sessiongate-kits-"));
const dist = path.join(work, "dist");
const version = (pkg) => JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000, ...opts });

before(() => {
  run("bash", [path.join(ROOT, "kits/release.sh"), dist], { env: { ...process.env, PYTHON: path.join(VENV, "bin/python") } });
}, { timeout: 300_000 });
after(() => fs.rmSync(work, { recursive: true, force: true }));

const artefact = (re) => {
  const f = fs.readdirSync(dist).find((n) => re.test(n));
  assert.ok(f, `release.sh made ${re}: ${fs.readdirSync(dist).join(", ")}`);
  return path.join(dist, f);
};

/** An empty directory outside the repository. */
function project(name) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  assert.ok(!dir.startsWith(ROOT + path.sep));
  return dir;
}

function npmProject(name, deps) {
  const dir = project(name);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `smoke-${name}`, private: true, type: "module" }));
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...deps], { cwd: dir });
  return dir;
}

function smoke(label, start) {
  let stack;
  before(async () => { stack = await start(); }, { timeout: 300_000 });
  after(async () => { await stack?.stop(); });

  test(`${label}: installed alone, behind the gate: return_to honoured, identity, direct request refused, logout`, async () => {
    const { gate, app } = stack;
    let res = await gate.fetch("/app?x=1", { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } });
    assert.equal(res.status, 302, "a navigation without a session goes to the login page");
    const login = new URL(res.headers.get("location"), gate.base);
    assert.equal(login.pathname, "/login");
    const returnTo = login.searchParams.get("return_to");
    assert.equal(returnTo, "/app?x=1");
    const body = new URLSearchParams({ username: "carol", password: "pw", return_to: returnTo }).toString();
    res = await gate.fetch("/login", {
      method: "POST", body,
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(body.length) },
    });
    assert.equal(res.status, 303, await res.text());
    assert.equal(res.headers.get("location"), "/app?x=1", "back to the page asked for");
    const cookie = sessionCookie(res);
    assert.ok(cookie);
    res = await gate.fetch("/app?x=1", { cookie, headers: { accept: "application/json" } });
    const me = await json(res);
    assert.equal(res.status, 200, JSON.stringify(me));
    assert.deepEqual(me, { user: "carol", roles: ["user"], kit: label });
    res = await rawFetch(app.url + "/app", { headers: { "x-session-user": "carol" } });
    assert.equal(res.status, 401);
    assert.deepEqual(await json(res), { error: "unauthenticated", reason: "missing_assertion" });
    res = await gate.fetch("/logout", { method: "POST", cookie, headers: { accept: "application/json", "content-length": "0" } });
    assert.equal(res.status, 200);
    assert.ok(isCleared(res), "the gate cleared its cookie");
    res = await gate.fetch("/app", { cookie, headers: { accept: "application/json" } });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
    assert.match(app.log.join(""), /sessiongate: 401 missing_assertion for GET \/app/, "the refusal is in the app's log");
  });
}

describe("express kit from its npm tarball", () => {
  smoke("express", () => {
    const dir = npmProject("express", [artefact(/^sessiongate-express-.*\.tgz$/), `express@${version("express")}`]);
    assert.ok(!fs.existsSync(path.join(dir, "node_modules/@sessiongate/kit-core")), "no separate kit-core needed");
    fs.copyFileSync(path.join(SMOKE, "express-app.mjs"), path.join(dir, "app.mjs"));
    return startStack({ alg: "ES256", command: process.execPath, args: ["app.mjs"], cwd: dir });
  });
});

describe("next kit from its npm tarball", () => {
  smoke("next", () => {
    const dir = npmProject("next", [artefact(/^sessiongate-next-.*\.tgz$/), `next@${version("next")}`, `react@${version("react")}`, `react-dom@${version("react-dom")}`]);
    fs.copyFileSync(path.join(SMOKE, "next-app.mjs"), path.join(dir, "app.mjs"));
    return startStack({ alg: "ES256", command: process.execPath, args: ["app.mjs"], cwd: dir });
  });
});

describe("django kit from its wheel", () => {
  smoke("django", () => {
    const dir = project("django");
    // A bare virtualenv (no pip of its own: ensurepip costs seconds), filled by the kits
    // virtualenv's pip pointed at it.
    run("python3", ["-m", "venv", "--without-pip", path.join(dir, "venv")]);
    const pip = [path.join(VENV, "bin/python"), "-m", "pip", "--python", path.join(dir, "venv/bin/python"), "--disable-pip-version-check"];
    run(pip[0], [...pip.slice(1), "install", "--quiet", "--no-index", "--find-links", path.join(VENV, "wheelhouse"), artefact(/^sessiongate_django-.*\.whl$/)]);
    run(pip[0], [...pip.slice(1), "check"]);
    const listed = run(pip[0], [...pip.slice(1), "list", "--format=freeze"]);
    assert.match(listed, /^sessiongate-django==0\.1\.0$/m);
    assert.match(listed, /^Django==/m);
    fs.copyFileSync(path.join(SMOKE, "django_app.py"), path.join(dir, "app.py"));
    return startStack({ alg: "ES256", command: path.join(dir, "venv/bin/python"), args: ["app.py"], cwd: dir, env: { PYTHONUNBUFFERED: "1" } });
  });
});

describe("rack kit from its gem", () => {
  smoke("rack", () => {
    const dir = project("rack");
    const env = { ...process.env, GEM_HOME: path.join(dir, "gems") };
    run("gem", ["install", "--local", "--no-document", artefact(/^sessiongate-rack-.*\.gem$/)], { cwd: dir, env });
    const resolved = run("ruby", ["-e", 'gem "sessiongate-rack"; print Gem.loaded_specs.values_at("rack", "jwt").map(&:full_name).join(" ")'], { env });
    assert.match(resolved, /^rack-2\.2\.\d+ jwt-2\.\d+\.\d+$/, "the dependencies resolve against the system's rack and jwt");
    fs.copyFileSync(path.join(SMOKE, "rack_app.rb"), path.join(dir, "app.rb"));
    return startStack({ alg: "ES256", command: "ruby", args: ["app.rb"], cwd: dir, env: { GEM_HOME: env.GEM_HOME } });
  });
});
