// Issue 28: the Rack kit in a real Rails application (Debian's ruby-rails 6.1) behind the
// real gate: Sessiongate::Controller's current_sessiongate_user (the application's model
// through sessiongate_user_loader), sessiongate_signed_in?, authenticate_sessiongate_user!
// (navigations to the login page with return_to, others 401), role guards as
// `before_action :x, only:` and `require_sessiongate_role ..., only:`, Rails' own CSRF
// protection on, return_to honoured after the sign-in, refusals in Rails' log.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startStack, client, csrfField, json, ROOT } from "./support.mjs";

const html = { accept: "text/html", "sec-fetch-mode": "navigate" };

async function signIn(gate, user, password, returnTo) {
  const c = client(gate);
  const page = await c.get(`/login${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ""}`, html);
  const form = await page.text();
  assert.equal(page.status, 200, form.slice(0, 300));
  c.csrf = csrfField(form);
  assert.equal(c.csrf?.[0], "authenticity_token", "Rails' CSRF token in the form");
  const rt = /name="return_to" value="([^"]*)"/.exec(form)[1];
  const res = await c.post("/login", { username: user, password, return_to: rt.replace(/&amp;/g, "&") });
  assert.equal(res.status, 303, await res.text());
  assert.ok(c.cookie);
  return { c, location: new URL(res.headers.get("location"), gate.base).pathname + new URL(res.headers.get("location"), gate.base).search };
}

describe("rack kit in a real Rails application", () => {
  let stack;
  before(async () => {
    stack = await startStack({
      alg: "ES256", command: "ruby", args: [path.join(ROOT, "kits/rack/example-rails/app.rb")],
      // /app is public at the gate here, so the concern's own redirect is seen.
      vars: { PUBLIC_PATHS: "/login,/public,/app" },
    });
  });
  after(async () => { await stack?.stop(); });

  test("authenticate_sessiongate_user!: a navigation goes to the login page with return_to, an API call gets 401", async () => {
    const { gate } = stack;
    let res = await gate.fetch("/app?tab=1", { headers: html });
    assert.equal(res.status, 302);
    assert.equal(new URL(res.headers.get("location"), gate.base).pathname, "/login");
    assert.equal(new URL(res.headers.get("location"), gate.base).searchParams.get("return_to"), "/app?tab=1");
    await res.arrayBuffer();
    res = await gate.fetch("/app", { headers: { accept: "application/json" } });
    assert.equal(res.status, 401);
    assert.deepEqual(await json(res), { error: "unauthenticated", reason: "not_signed_in" });
  });

  test("sign-in returns to return_to; current_sessiongate_user is the app's model; sessiongate_signed_in?", async () => {
    const { gate } = stack;
    const { c, location } = await signIn(gate, "alice", "wonderland", "/app?tab=1");
    assert.equal(location, "/app?tab=1");
    const me = await json(await c.get("/app?tab=1"));
    assert.deepEqual(me, { user: "alice", roles: ["user", "admin"], signed_in: true, deviceBound: false });
    const pub = await json(await c.get("/public"));
    assert.deepEqual(pub, { user: "alice", signed_in: true });
  });

  test("role guards: before_action :admin_only!, only: and require_sessiongate_role ..., only:", async () => {
    const { gate } = stack;
    const { c: bob } = await signIn(gate, "bob", "builder");
    let res = await bob.get("/audit");
    assert.equal(res.status, 403);
    assert.deepEqual(await json(res), { error: "forbidden", reason: "role_required" });
    const token = bob.csrf;
    res = await gate.fetch("/accounts/7", { method: "DELETE", cookie: bob.cookies(), headers: { accept: "application/json", "x-csrf-token": token[1] } });
    assert.equal(res.status, 403);
    await res.arrayBuffer();
    res = await bob.get("/app");
    assert.equal(res.status, 200, "only: leaves the other actions to the user");
    await res.arrayBuffer();
    const { c: alice } = await signIn(gate, "alice", "wonderland");
    assert.deepEqual(await json(await alice.get("/audit")), { audit: true, user: "alice" });
    res = await gate.fetch("/accounts/7", { method: "DELETE", cookie: alice.cookies(), headers: { accept: "application/json", "x-csrf-token": alice.csrf[1] } });
    assert.deepEqual(await json(res), { destroyed: "7" });
  });

  test("Rails' CSRF protection stays on behind the gate; logout clears the session", async () => {
    const { gate } = stack;
    const { c } = await signIn(gate, "bob", "builder");
    const token = c.csrf;
    c.csrf = null;
    let res = await c.post("/logout");
    assert.notEqual(res.status, 200, "no authenticity token: Rails refuses");
    await res.arrayBuffer();
    c.csrf = token;
    res = await c.post("/logout");
    assert.deepEqual(await json(res), { signed_out: true });
    assert.equal(c.cookie, null, "the gate cleared its cookie");
  });
});
