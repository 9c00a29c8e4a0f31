// Issue 28: the Django kit speaks django.contrib.auth behind the real gate. Its example
// application runs SessiongateAuthMiddleware and SessiongateBackend: request.user is a
// real user (created on first sight, groups from the gate's roles), so Django's own
// @login_required (redirect to LOGIN_URL with ?next=), @permission_required and the admin
// site work; Django's CSRF stays on and works through the gate.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startStack, client, csrfField, json, ROOT } from "./support.mjs";

const python = path.join(ROOT, ".venv-kits/bin/python");
const html = { accept: "text/html", "sec-fetch-mode": "navigate" };

async function signIn(gate, user, password, next) {
  const c = client(gate);
  const page = await c.get(`/login${next ? `?next=${encodeURIComponent(next)}` : ""}`, html);
  const form = await page.text();
  c.csrf = csrfField(form);
  const returnTo = /name="return_to" value="([^"]*)"/.exec(form)[1];
  const res = await c.post("/login", { username: user, password, return_to: returnTo });
  assert.equal(res.status, 303, await res.text());
  assert.ok(c.cookie);
  return { c, location: res.headers.get("location") };
}

describe("django kit: django.contrib.auth, the admin and CSRF behind the gate", () => {
  let stack;
  before(async () => {
    stack = await startStack({
      alg: "ES256", command: python, args: [path.join(ROOT, "kits/django/example/app.py")], env: { PYTHONUNBUFFERED: "1" },
      // /members is public at the gate: Django's own @login_required decides there.
      vars: { PUBLIC_PATHS: "/login,/public,/members" },
    });
  });
  after(async () => { await stack?.stop(); });

  test("@login_required: a navigation without a session goes to settings.LOGIN_URL with ?next=, and the sign-in goes back", async () => {
    const { gate } = stack;
    const res = await gate.fetch("/members", { headers: html });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "/login?next=/members");
    await res.arrayBuffer();
    const { c, location } = await signIn(gate, "alice", "wonderland", "/members");
    assert.equal(location, "/members", "the login form carried next through");
    const me = await json(await c.get("/members"));
    assert.deepEqual(me, { user: "alice", groups: ["admin", "user"], is_staff: true, can_view_users: true });
  });

  test("request.user is a real user created on first sight; roles are groups; @permission_required follows them", async () => {
    const { gate } = stack;
    const { c: bob } = await signIn(gate, "bob", "builder");
    assert.deepEqual(await json(await bob.get("/members")), { user: "bob", groups: ["user"], is_staff: false, can_view_users: false });
    let res = await bob.get("/reports");
    assert.equal(res.status, 403, "Django's PermissionDenied");
    await res.arrayBuffer();
    const { c: alice } = await signIn(gate, "alice", "wonderland");
    res = await alice.get("/reports");
    const b = await json(res);
    assert.equal(res.status, 200, JSON.stringify(b));
    assert.equal(b.report, "users");
    assert.ok(b.count >= 2, "alice and bob exist as django.contrib.auth users");
  });

  test("the admin site: staff by role, its login goes to LOGIN_URL, its logout ends the gate's session", async () => {
    const { gate } = stack;
    // Without a session the gate itself sends the navigation to the login page.
    let res = await gate.fetch("/django-admin/", { headers: html });
    assert.equal(res.status, 302);
    assert.match(res.headers.get("location"), /^\/login\?return_to=\/django-admin\/(&|$)/);
    await res.arrayBuffer();

    const { c: alice } = await signIn(gate, "alice", "wonderland");
    res = await alice.get("/django-admin/", html);
    let page = await res.text();
    assert.equal(res.status, 200, page.slice(0, 300));
    assert.match(page, /Site administration/);
    assert.match(page, /href="\/django-admin\/auth\/user\/"/, "alice's group may view users");
    res = await alice.get("/django-admin/auth/user/", html);
    page = await res.text();
    assert.equal(res.status, 200);
    assert.match(page, />alice</);

    const { c: bob } = await signIn(gate, "bob", "builder");
    res = await bob.get("/django-admin/", html);
    assert.equal(res.status, 302, "not staff: the admin sends bob to its login");
    const to = res.headers.get("location");
    assert.match(to, /^\/django-admin\/login\/\?next=/);
    res = await bob.get(to, html);
    assert.equal(res.status, 403, "signed in already: no login loop");
    assert.match(await res.text(), /Signed in as bob/);

    res = await alice.post("/django-admin/logout/", {}, { accept: "text/html" });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/login");
    assert.equal(alice.cookie, null, "the gate cleared its cookie");
  });

  test("CSRF stays on: a form post without the token is refused by Django; with it (and the browser's Origin) it passes", async () => {
    const { gate } = stack;
    const { c } = await signIn(gate, "bob", "builder");
    const token = c.csrf;
    c.csrf = null;
    let res = await c.post("/csrf-probe", {});
    assert.equal(res.status, 403, "no token: Django's CSRF failure");
    assert.match(await res.text(), /CSRF/);
    c.csrf = token;
    res = await c.post("/csrf-probe", {});
    assert.deepEqual(await json(res), { accepted: true });
    res = await c.post("/csrf-probe", {}, { origin: gate.base, "sec-fetch-site": "same-origin" });
    assert.equal(res.status, 200, "the browser's Origin is the gate's: Django compares it with X-Forwarded-Host");
    await res.arrayBuffer();
    res = await c.post("/csrf-probe", {}, { origin: "http://evil.example" });
    assert.equal(res.status, 403, "a foreign Origin is refused");
    await res.arrayBuffer();
  });
});
