// Issue 15: assertions an origin verifies with a public key. The built Wasm in workerd
// signs with ES256 (the default) or EdDSA; a real HTTP origin verifies every assertion it
// receives with jose's createRemoteJWKSet pointed at the gate's /.sessiongate/jwks.json,
// exactly as the README tells origins to. Forged tokens (another key's signature, alg
// switched to HS256 or none) are sent straight to that origin and must be refused; a key
// rotation is followed by an origin holding a cached JWKS; every bad key form is a 500.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import net from "node:net";
import { Miniflare } from "miniflare";
import { jwtVerify, createRemoteJWKSet, customFetch, calculateJwkThumbprint, decodeProtectedHeader, SignJWT } from "jose";
import { startGate, startOrigin, gateOptions, rawFetch, sessionCookie, sleep } from "./harness.mjs";
import { startDemoOrigin } from "../../demo/origin.mjs";

const JWKS_PATH = "/.sessiongate/jwks.json";

function es256Key() {
  return crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}
function ed25519Key() {
  return crypto.generateKeyPairSync("ed25519").privateKey;
}
const pem = (k) => k.export({ type: "pkcs8", format: "pem" });
const privateJwk = (k) => JSON.stringify(k.export({ format: "jwk" }));
const publicJwk = (k) => crypto.createPublicKey(k).export({ format: "jwk" });

/** Gate variables for a public-key algorithm: no ORIGIN_SECRET at all. */
function keyVars(alg, key, previous) {
  return { ASSERTION_ALG: alg, ASSERTION_SIGNING_KEY: key, ASSERTION_SIGNING_KEY_PREVIOUS: previous, ORIGIN_SECRET: undefined };
}

/** A free loopback port, so a gate can be restarted at the same URL (a rotation). */
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * An origin that does what the README says: verify X-Session-Assertion with the gate's
 * JWKS (jose's createRemoteJWKSet), issuer sessiongate, audience its own host, only the
 * public-key algorithms. It answers {verified, sub, kid} or {verified: false, code}.
 * `jwksFetches` counts the origin's JWKS downloads.
 */
async function verifyingOrigin(jwksUrl, jwksOptions = {}) {
  const state = { jwksFetches: 0, results: [] };
  let jwks;
  const origin = await startOrigin((req, res) => {
    (async () => {
      jwks ??= createRemoteJWKSet(new URL(jwksUrl()), {
        ...jwksOptions,
        [customFetch]: (...args) => {
          state.jwksFetches++;
          return fetch(...args);
        },
      });
      let out;
      try {
        const { payload, protectedHeader } = await jwtVerify(req.headers["x-session-assertion"] ?? "", jwks, {
          issuer: "sessiongate",
          audience: "127.0.0.1",
          algorithms: ["ES256", "EdDSA"],
        });
        out = { verified: true, sub: payload.sub ?? null, htu: payload.htu, header: protectedHeader };
      } catch (e) {
        out = { verified: false, code: e.code ?? e.message };
      }
      state.results.push(out);
      res.setHeader("content-type", "application/json");
      if (req.headers["x-test-command"]) res.setHeader("x-session-command", req.headers["x-test-command"]);
      res.end(JSON.stringify(out));
    })();
  });
  return Object.assign(origin, { state });
}

async function json(res) {
  return JSON.parse(await res.text());
}

/** The token an origin received on its last request. */
const lastToken = (origin) => origin.last().headers["x-session-assertion"];

for (const [alg, makeKey, form, kty, crv] of [
  ["ES256", es256Key, pem, "EC", "P-256"],
  ["EdDSA", ed25519Key, privateJwk, "OKP", "Ed25519"],
]) {
  test(`${alg}: the origin verifies every assertion with createRemoteJWKSet on the gate's JWKS`, async () => {
    const key = makeKey();
    let gateBase;
    const origin = await verifyingOrigin(() => gateBase + JWKS_PATH);
    const gate = await startGate({ origin, vars: keyVars(alg, form(key)) });
    gateBase = gate.base;
    try {
      // The JWKS: public, no session, not forwarded, cacheable for five minutes.
      const res = await gate.fetch(JWKS_PATH);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "public, max-age=300");
      assert.match(res.headers.get("content-type"), /json/);
      assert.equal(res.headers.get("set-cookie"), null);
      const body = await json(res);
      assert.equal(body.keys.length, 1);
      const [jwk] = body.keys;
      const pub = publicJwk(key);
      assert.deepEqual(
        { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, alg: jwk.alg, use: jwk.use },
        { kty, crv, x: pub.x, y: pub.y, alg, use: "sig" },
        "the published key is the public half of ASSERTION_SIGNING_KEY",
      );
      assert.equal(jwk.d, undefined, "no private member");
      assert.equal(jwk.kid, await calculateJwkThumbprint(pub, "sha256"), "kid is the RFC 7638 thumbprint");
      assert.equal(origin.requests.length, 0, "the JWKS request never reached the origin");
      assert.equal((await gate.fetch(JWKS_PATH, { method: "POST" })).status, 405);

      // A public path and a signed-in user: both assertions verify at the origin.
      const pub1 = await json(await gate.fetch("/public/x"));
      assert.equal(pub1.verified, true, JSON.stringify(pub1));
      assert.equal(pub1.sub, null);
      assert.deepEqual(pub1.header, { alg, typ: "JWT", kid: jwk.kid }, "header is exactly {alg, typ, kid}");
      const cookie = await gate.login("alice");
      const app = await json(await gate.fetch("/app", { cookie }));
      assert.deepEqual([app.verified, app.sub, app.header.kid], [true, "alice", jwk.kid]);
      assert.equal(origin.state.jwksFetches, 1, "the JWKS was fetched once and cached");
      assert.ok(origin.state.results.every((r) => r.verified), JSON.stringify(origin.state.results));
    } finally {
      await gate.dispose();
      await origin.close();
    }
  });
}

test("an origin following the README refuses another key's signature and alg HS256 / none", async () => {
  const key = es256Key();
  let gateBase;
  const origin = await verifyingOrigin(() => gateBase + JWKS_PATH);
  const gate = await startGate({ origin, vars: keyVars("ES256", pem(key)) });
  gateBase = gate.base;
  try {
    const cookie = await gate.login("alice");
    assert.equal((await json(await gate.fetch("/app", { cookie }))).verified, true);
    const genuine = lastToken(origin);
    const [h, p] = genuine.split(".");
    const header = decodeProtectedHeader(genuine);
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const jwks = await json(await gate.fetch(JWKS_PATH));
    const mallory = { ...claims, sub: "mallory", roles: ["admin"] };
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");

    const forgeries = {
      // Signed by an attacker's own P-256 key under the gate's kid.
      "another key": await new SignJWT(mallory).setProtectedHeader(header).sign(es256Key()),
      // The genuine signature over changed claims.
      "changed claims": `${h}.${b64(mallory)}.${genuine.split(".")[2]}`,
      // Algorithm confusion: HS256 keyed with what the attacker can read, the published JWK.
      "alg HS256 (JWKS as the HMAC key)": await new SignJWT(mallory)
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: header.kid })
        .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0]))),
      "alg HS256 (x as the HMAC key)": await new SignJWT(mallory)
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: header.kid })
        .sign(Buffer.from(jwks.keys[0].x, "base64url")),
      "alg none": `${b64({ alg: "none", typ: "JWT", kid: header.kid })}.${b64(mallory)}.`,
      "alg none, genuine signature kept": `${b64({ alg: "none", typ: "JWT", kid: header.kid })}.${p}.${genuine.split(".")[2]}`,
      // An EdDSA key is not the gate's: its kid is unknown.
      "EdDSA with an unknown key": await new SignJWT(mallory)
        .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: "attacker" })
        .sign(ed25519Key()),
    };
    for (const [name, token] of Object.entries(forgeries)) {
      // Straight to the origin, as an attacker who bypasses the gate would.
      const res = await fetch(`${origin.url}/app`, { headers: { "x-session-assertion": token } });
      const out = await res.json();
      assert.equal(out.verified, false, `${name}: ${JSON.stringify(out)}`);
      assert.ok(out.code, name);
    }
    // The genuine token still verifies: the refusals were about the forgeries.
    const res = await fetch(`${origin.url}/app`, { headers: { "x-session-assertion": genuine } });
    assert.equal((await res.json()).verified, true);
    // And the HS256 secret the gate no longer holds would not verify the genuine one either.
    await assert.rejects(jwtVerify(genuine, new TextEncoder().encode("x".repeat(40))));
  } finally {
    await gate.dispose();
    await origin.close();
  }
});

test("rotation: the old key moves to _PREVIOUS, the JWKS lists both, an origin with a cached JWKS follows after one refetch", async () => {
  const [oldKey, newKey] = [es256Key(), es256Key()];
  const port = await freePort();
  const jwksUrl = `http://127.0.0.1:${port}${JWKS_PATH}`;
  // jose refetches a JWKS when a token names an unknown kid, at most once per cooldown
  // (30 s by default); 1 s keeps the test short without changing what happens.
  const origin = await verifyingOrigin(() => jwksUrl, { cooldownDuration: 1000 });
  const oldKid = await calculateJwkThumbprint(publicJwk(oldKey), "sha256");
  const newKid = await calculateJwkThumbprint(publicJwk(newKey), "sha256");
  const persist = (await import("./harness.mjs")).tmpdir();
  let gate = await startGate({ origin, persist, vars: keyVars("ES256", pem(oldKey)), miniflare: { port } });
  let before;
  try {
    const cookie = await gate.login("alice");
    const first = await json(await gate.fetch("/app", { cookie }));
    assert.deepEqual([first.verified, first.header.kid], [true, oldKid]);
    before = lastToken(origin);
    assert.equal(origin.state.jwksFetches, 1, "the origin has cached the JWKS with the old key only");
    await gate.dispose();

    // The rotation: new key current, old key previous; same URL, same sessions.
    gate = await startGate({ origin, persist, vars: keyVars("ES256", privateJwk(newKey), pem(oldKey)), miniflare: { port } });
    const jwks = await json(await gate.fetch(JWKS_PATH));
    assert.deepEqual(jwks.keys.map((k) => k.kid), [newKid, oldKid], "current first, then previous");
    assert.ok(jwks.keys.every((k) => k.alg === "ES256" && k.use === "sig" && k.d === undefined));

    await sleep(1100); // past the origin's refetch cooldown
    const after = await json(await gate.fetch("/app", { cookie }));
    assert.equal(after.header.kid, newKid, "new assertions carry the new kid");
    assert.equal(after.verified, true, JSON.stringify(after));
    assert.equal(after.sub, "alice");
    assert.equal(origin.state.jwksFetches, 2, "exactly one refetch");
    // An assertion signed before the rotation (still within its 60 s) verifies too.
    const res = await fetch(`${origin.url}/app`, { headers: { "x-session-assertion": before } });
    assert.equal((await res.json()).verified, true);
    assert.equal(origin.state.jwksFetches, 2);
  } finally {
    await gate.dispose();
    await origin.close();
  }
});

test("HS256 keeps today's assertions and publishes an empty JWKS", async () => {
  const gate = await startGate({ vars: { ASSERTION_ALG: "HS256" } });
  try {
    const res = await gate.fetch(JWKS_PATH);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "public, max-age=300");
    assert.deepEqual(await json(res), { keys: [] });
    await (await gate.fetch("/public/x")).arrayBuffer();
    assert.deepEqual(decodeProtectedHeader(lastToken(gate.origin)), { alg: "HS256", typ: "JWT" });
  } finally {
    await gate.dispose();
  }
});

test("each bad key form is a 500 config error naming the variable and the accepted forms", async () => {
  const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const p384 = crypto.generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
  const good = es256Key();
  const publicPem = crypto.createPublicKey(good).export({ type: "spki", format: "pem" });
  const sec1 = good.export({ type: "sec1", format: "pem" });
  const cases = [
    ["no key (ES256 is the default)", { ASSERTION_SIGNING_KEY: undefined }, "ASSERTION_SIGNING_KEY", /is not set.*PKCS#8 PEM.*JWK.*HS256/],
    ["an RSA key", { ASSERTION_SIGNING_KEY: pem(rsa) }, "ASSERTION_SIGNING_KEY", /an RSA key.*PKCS#8 PEM.*JWK/],
    ["an RSA JWK", { ASSERTION_SIGNING_KEY: privateJwk(rsa) }, "ASSERTION_SIGNING_KEY", /an RSA key/],
    ["a P-384 key", { ASSERTION_SIGNING_KEY: pem(p384) }, "ASSERTION_SIGNING_KEY", /P-384.*P-256/],
    ["a P-384 JWK", { ASSERTION_SIGNING_KEY: privateJwk(p384) }, "ASSERTION_SIGNING_KEY", /P-384/],
    ["a public key", { ASSERTION_SIGNING_KEY: publicPem }, "ASSERTION_SIGNING_KEY", /public key/],
    ["a public JWK", { ASSERTION_SIGNING_KEY: JSON.stringify(publicJwk(good)) }, "ASSERTION_SIGNING_KEY", /public key/],
    ["a SEC1 PEM", { ASSERTION_SIGNING_KEY: sec1 }, "ASSERTION_SIGNING_KEY", /SEC1/],
    ["garbage", { ASSERTION_SIGNING_KEY: "hunter2-hunter2-hunter2-hunter2-hunter2" }, "ASSERTION_SIGNING_KEY", /neither a PEM block nor a JSON Web Key/],
    ["an Ed25519 key for ES256", { ASSERTION_SIGNING_KEY: pem(ed25519Key()) }, "ASSERTION_SIGNING_KEY", /Ed25519 key, but ASSERTION_ALG=ES256/],
    ["a P-256 key for EdDSA", { ASSERTION_ALG: "EdDSA", ASSERTION_SIGNING_KEY: pem(good) }, "ASSERTION_SIGNING_KEY", /P-256 EC key, but ASSERTION_ALG=EdDSA/],
    ["an unknown algorithm", { ASSERTION_ALG: "RS256", ASSERTION_SIGNING_KEY: pem(good) }, "ASSERTION_ALG", /ES256.*EdDSA.*HS256/],
    ["a bad previous key", { ASSERTION_SIGNING_KEY: pem(good), ASSERTION_SIGNING_KEY_PREVIOUS: pem(rsa) }, "ASSERTION_SIGNING_KEY_PREVIOUS", /RSA/],
    ["a key with HS256", { ASSERTION_ALG: "HS256", ASSERTION_SIGNING_KEY: pem(good), ORIGIN_SECRET: "o".repeat(40) }, "ASSERTION_SIGNING_KEY", /HS256/],
    ["HS256 without ORIGIN_SECRET", { ASSERTION_ALG: "HS256", ASSERTION_SIGNING_KEY: undefined }, "ORIGIN_SECRET", /32 bytes/],
  ];
  const origin = await startOrigin();
  try {
    for (const [name, vars, variable, accepted] of cases) {
      const mf = new Miniflare(gateOptions({ vars: { ASSERTION_ALG: "ES256", ORIGIN_SECRET: undefined, ...vars }, originUrl: origin.url }));
      try {
        const base = (await mf.ready).href.replace(/\/$/, "");
        for (const p of ["/app", JWKS_PATH]) {
          const res = await rawFetch(base + p);
          assert.equal(res.status, 500, `${name} on ${p}`);
          const body = await res.json();
          assert.equal(body.error, "config", name);
          assert.ok(body.detail.startsWith(`${variable}:`), `${name}: ${body.detail}`);
          assert.match(body.detail, accepted, name);
          const key = vars.ASSERTION_SIGNING_KEY_PREVIOUS ?? vars.ASSERTION_SIGNING_KEY ?? "";
          for (const chunk of key.split(/[^A-Za-z0-9+/_-]+/).filter((c) => c.length >= 16)) {
            assert.ok(!body.detail.includes(chunk), `${name}: the error echoes key material`);
          }
        }
      } finally {
        await mf.dispose();
      }
    }
    assert.equal(origin.requests.length, 0, "nothing was forwarded under a bad configuration");
  } finally {
    await origin.close();
  }
});

test("a private JWK whose x, y are another key's is refused when the runtime imports it", async () => {
  const [a, b] = [publicJwk(es256Key()), es256Key().export({ format: "jwk" })];
  const mismatched = JSON.stringify({ ...b, x: a.x, y: a.y });
  const origin = await startOrigin();
  const mf = new Miniflare(gateOptions({ vars: keyVars("ES256", mismatched), originUrl: origin.url }));
  try {
    const base = (await mf.ready).href.replace(/\/$/, "");
    // Well-formed, so the configuration parses; the import (first signature or JWKS) refuses it.
    for (const p of ["/public/x", JWKS_PATH]) {
      const res = await rawFetch(base + p);
      assert.equal(res.status, 500, p);
      const body = await res.json();
      assert.equal(body.error, "config");
      assert.match(body.detail, /^ASSERTION_SIGNING_KEY: could not be imported: .*(refused it|does not match).*PKCS#8 PEM/, body.detail);
      assert.ok(!body.detail.includes(b.d), "no key material");
    }
    assert.equal(origin.requests.length, 0, "nothing forwarded without a valid assertion");
  } finally {
    await mf.dispose();
    await origin.close();
  }
});

test("the same key as current and previous, in two encodings, is refused when imported", async () => {
  const key = es256Key();
  const origin = await startOrigin();
  const mf = new Miniflare(gateOptions({ vars: keyVars("ES256", pem(key), privateJwk(key)), originUrl: origin.url }));
  try {
    const base = (await mf.ready).href.replace(/\/$/, "");
    for (const p of ["/public/x", JWKS_PATH]) {
      const body = await (await rawFetch(base + p)).json();
      assert.equal(body.error, "config", p);
      assert.match(body.detail, /^ASSERTION_SIGNING_KEY_PREVIOUS: is the same key as ASSERTION_SIGNING_KEY/);
    }
    assert.equal(origin.requests.length, 0);
  } finally {
    await mf.dispose();
    await origin.close();
  }
});

test("the demo origin verifies through the gate's JWKS URL (make dev's default)", async () => {
  const port = await freePort();
  const demo = await startDemoOrigin({ port: 0, jwksUrl: `http://127.0.0.1:${port}${JWKS_PATH}` });
  const gate = await startGate({
    origin: demo,
    vars: { ...keyVars("ES256", pem(es256Key())), PUBLIC_PATHS: "/,/login,/cart,/static/*,/favicon.ico" },
    miniflare: { port },
  });
  try {
    const login = await gate.fetch("/login", {
      method: "POST",
      headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ user: "alice", password: "correct-horse-battery", return_to: "/app" }).toString(),
    });
    await login.arrayBuffer();
    const cookie = sessionCookie(login);
    assert.ok(cookie, `login: ${login.status}`);
    const res = await gate.fetch("/app", { cookie, headers: { accept: "text/html" } });
    const page = await res.text();
    assert.equal(res.status, 200);
    assert.match(page, /id="assertion-result">verified</);
    assert.match(page, /the gate&#39;s public key from|the gate's public key from/);
    // A token straight to the demo, signed by another key, shows as failed.
    const forged = await new SignJWT({ sub: "alice" }).setProtectedHeader({ alg: "ES256", kid: "x" }).sign(es256Key());
    const direct = await fetch(`${demo.url}/app`, { headers: { "x-session-assertion": forged, "x-session-user": "alice" } });
    assert.doesNotMatch(await direct.text(), /id="assertion-result">verified</);
  } finally {
    await gate.dispose();
    await demo.close();
  }
});
