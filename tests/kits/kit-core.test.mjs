// The Node kits' verifier (kits/core-js) without the gate (issue 25 items 5 and 7, issue
// 28): malformed headers are the kit's 401 (never an uncaught error), htu is compared
// component by component, aud only as the expected string, exp - iat capped, each
// refusal says what was expected and what came, and device_bound is exposed.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { SignJWT, exportJWK } from "jose";
import { verifier, SessiongateError, logRefusal, safeReturnTo } from "../../kits/core-js/src/index.js";

const SECRET = "test-origin-secret-0123456789abcdef-01234";
const AUD = "origin.example";
const now = () => Math.floor(Date.now() / 1000);
const claims = (over = {}) => ({
  iss: "sessiongate", aud: AUD, iat: now(), exp: now() + 60, htm: "GET", htu: "http://origin.example/app",
  sub: "alice", sid: "A".repeat(22), roles: ["user"], ...over,
});
const b64 = (s) => Buffer.from(s).toString("base64url");
const raw = (header, payload) => `${b64(typeof header === "string" ? header : JSON.stringify(header))}.${b64(JSON.stringify(payload))}.${b64("sig")}`;
const hs = (payload, header = {}) => new SignJWT(payload).setProtectedHeader({ alg: "HS256", ...header }).sign(new TextEncoder().encode(SECRET));
const hsV = verifier({ secret: SECRET, audience: AUD, log: false });

async function refusal(v, token, { method = "GET", url } = {}) {
  try {
    await v({ method, url, header: (n) => (n === "x-session-assertion" ? token : undefined) });
    return null;
  } catch (e) {
    assert.ok(e instanceof SessiongateError, `a SessiongateError, not ${e?.name}: ${e?.message}`);
    return e;
  }
}

async function withJwks(fn) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const server = http.createServer((req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    return await fn(verifier({ jwksUrl: `http://127.0.0.1:${server.address().port}/jwks.json`, audience: AUD }), privateKey);
  } finally {
    server.close();
  }
}

const REVIEW_HEADERS = [
  { alg: "ES256", kid: 5 }, { alg: "ES256", kid: { a: 1 } }, { alg: "ES256", kid: "k1", crit: ["x-unknown"], "x-unknown": 1 },
  { alg: "EdDSA", kid: "k1" }, { alg: 5 }, [], "not json", { alg: "HS256", kid: "k1" }, { alg: "none" },
];

test("the review's malformed headers are invalid_assertion (401), with both key sources", async () => {
  await withJwks(async (esV, key) => {
    for (const v of [hsV, esV]) {
      for (const h of REVIEW_HEADERS) {
        const e = await refusal(v, raw(h, claims()));
        assert.equal(e?.reason, "invalid_assertion", JSON.stringify(h));
        assert.equal(e.status, 401);
      }
    }
    // Signed for real, with a crit no verifier knows (jose will not sign one itself).
    const input = `${b64(JSON.stringify({ alg: "ES256", kid: "k1", crit: ["x-unknown"], "x-unknown": 1 }))}.${b64(JSON.stringify(claims()))}`;
    const crit = `${input}.${crypto.sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
    assert.equal((await refusal(esV, crit))?.reason, "invalid_assertion");
    const ok = await new SignJWT(claims()).setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(key);
    assert.equal(await refusal(esV, ok), null, "the real thing still passes");
  });
});

test("htu component by component: escaped separators stay escaped", async () => {
  const token = await hs(claims({ htu: "http://origin.example/app?a=1&b=2" }));
  assert.equal(await refusal(hsV, token, { url: "/app?a=1&b=2" }), null);
  assert.equal(await refusal(hsV, await hs(claims({ htu: "http://origin.example/caf%C3%A9?q=a%20b" })), { url: "/café?q=a b" }), null);
  for (const url of ["/app?a%3D1&b=2", "/app?a=1%26b=2", "/app?b=2&a=1", "/a%2Fpp?a=1&b=2", "/app?a=1&b=2&"]) {
    assert.equal((await refusal(hsV, token, { url }))?.reason, "url_mismatch", url);
  }
});

test("aud only as the expected string; exp - iat at most 60 s; each refusal says what it expected and got", async () => {
  for (const aud of [[AUD], [AUD, "other"], 5]) {
    assert.equal((await refusal(hsV, await hs(claims({ aud }))))?.reason, "invalid_assertion", JSON.stringify(aud));
  }
  let e = await refusal(hsV, await hs(claims({ aud: "127.0.0.1" })));
  assert.equal(e.detail, 'aud: expected "origin.example", got "127.0.0.1"');
  assert.equal(await refusal(hsV, await hs(claims({ exp: now() + 60 }))), null);
  e = await refusal(hsV, await hs(claims({ iat: now(), exp: now() + 3600 })));
  assert.equal(e.detail, "exp: a lifetime of 3600 s, expected at most 60 s");
  e = await refusal(hsV, await hs(claims({ iss: "else" })));
  assert.equal(e.detail, 'iss: expected "sessiongate", got "else"');
  e = await refusal(hsV, await hs(claims()), { method: "POST" });
  assert.equal(e.detail, 'htm: expected "POST", got "GET"');
  const lines = [];
  logRefusal(e, { method: "POST", url: "/app?token=secret" }, (l) => lines.push(l));
  assert.deepEqual(lines, ['sessiongate: 401 method_mismatch for POST /app: htm: expected "POST", got "GET"']);
});

test("device_bound is exposed as deviceBound (a boolean, true only for a signed-in, bound session)", async () => {
  for (const [value, want] of [[true, true], [undefined, false], ["true", false]]) {
    const token = await hs(claims({ device_bound: value }));
    const s = await hsV({ method: "GET", header: (n) => (n === "x-session-assertion" ? token : undefined) });
    assert.equal(s.deviceBound, want);
  }
});

test("safeReturnTo keeps local paths only (the gate's rules)", () => {
  assert.equal(safeReturnTo("/app?x=1"), "/app?x=1");
  for (const bad of ["//evil.example", "/\\evil", "https://evil.example", "/\t/evil", "", undefined, "/a b", "/" + "a".repeat(2048)]) {
    assert.equal(safeReturnTo(bad, "/home"), "/home", JSON.stringify(bad));
  }
});
