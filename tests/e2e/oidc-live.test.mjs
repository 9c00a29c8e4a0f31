// Back-channel logout and live connections together: when the provider logs a user out,
// the gate closes that user's WebSockets (4401 session_ended:revoked, within 2 s) and
// no other user's.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGate, sessionCookie } from "./harness.mjs";
import { startWsOrigin, connect, within } from "./live-helpers.mjs";
import { startIdp, signIn, confirmProviderLogout, eventually, Jar, CLIENT_ID, CLIENT_SECRET } from "./oidc-support.mjs";

let idp;
let origin;
let gate;
before(async () => {
  idp = await startIdp();
  origin = await startWsOrigin();
  gate = await startGate({
    origin,
    vars: { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: CLIENT_ID, OIDC_CLIENT_SECRET: CLIENT_SECRET, LOGIN_URL: undefined },
  });
  idp.configure(gate.base);
});
after(async () => {
  await gate?.dispose();
  await origin?.close();
  await idp?.close();
});

async function socketOf(login, jar) {
  const { res } = await signIn(gate, idp, { login, jar });
  await res.arrayBuffer();
  assert.equal(res.status, 302, `${login} signed in`);
  const cookie = sessionCookie(res);
  const c = await connect(gate, "/live/socket", { cookie });
  assert.ok(c.ws, `${login}'s socket opened: ${JSON.stringify(c.body ?? c.status)}`);
  c.ws.send("hello");
  assert.equal((await c.next()).text, "hello", "frames pass while the session lives");
  return c;
}

test("back-channel logout closes the user's WebSockets with 4401 session_ended:revoked within 2 s, and no other user's", async () => {
  const jar = new Jar();
  const alice = await socketOf("alice", jar);
  const bob = await socketOf("bob", new Jar());
  const seen = idp.backchannel.length;
  await confirmProviderLogout(idp, `${idp.issuer}/session/end?client_id=${CLIENT_ID}`, jar);
  const call = await eventually(() => idp.backchannel.slice(seen).find((c) => c.accountId === "alice"), "the provider's back-channel call");
  assert.equal(call.ok, true, `the gate accepted the logout token: ${call.error ?? ""}`);
  const answered = performance.now();
  const closed = await within(alice.closed, 10_000, "alice's socket closing");
  assert.equal(closed.code, 4401);
  assert.equal(closed.reason, "session_ended:revoked");
  assert.ok(closed.at - answered < 2000, `closed ${Math.round(closed.at - answered)} ms after the provider's call returned`);
  bob.ws.send("still here");
  assert.equal((await bob.next()).text, "still here", "bob's socket is untouched");
  bob.ws.close();
});
