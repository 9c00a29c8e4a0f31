// Strict-Transport-Security (ASVS 3.4.1): with REQUIRE_HTTPS=true (the default), every
// response the gate forwards over HTTPS tells browsers never to use plain HTTP for a
// year, unless the origin chose its own policy, which the gate then leaves alone. Over
// plain HTTP browsers ignore the header, and with REQUIRE_HTTPS=false (local
// development) the gate does not send it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startGate, startOrigin } from "./harness.mjs";

const YEAR = "max-age=31536000";

/** An origin that sends the HSTS header a request asks for in x-test-hsts. */
async function originWithHsts() {
  return startOrigin((req, res) => {
    if (req.headers["x-test-hsts"]) res.setHeader("strict-transport-security", req.headers["x-test-hsts"]);
    return false;
  });
}

test("HSTS: REQUIRE_HTTPS=true adds max-age of a year to forwarded HTTPS responses, signed in or not", async () => {
  const gate = await startGate({ vars: { REQUIRE_HTTPS: "true" } });
  try {
    const pub = await gate.fetch("/public/x", { https: true });
    assert.equal(pub.status, 200);
    assert.equal(pub.headers.get("strict-transport-security"), YEAR);
    await pub.arrayBuffer();
    const cookie = await gate.login("alice", { https: true });
    const app = await gate.fetch("/app", { cookie, https: true });
    assert.equal(app.status, 200);
    assert.equal(JSON.parse(await app.text()).headers["x-session-user"], "alice");
    assert.equal(app.headers.get("strict-transport-security"), YEAR);
  } finally {
    await gate.dispose();
  }
});

test("HSTS: the origin's own Strict-Transport-Security is kept, not replaced or doubled", async () => {
  const origin = await originWithHsts();
  const gate = await startGate({ vars: { REQUIRE_HTTPS: "true" }, origin });
  try {
    const own = "max-age=63072000; includeSubDomains; preload";
    const res = await gate.fetch("/public/x", { https: true, headers: { "x-test-hsts": own } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("strict-transport-security"), own);
    await res.arrayBuffer();
  } finally {
    await gate.dispose();
    await origin.close();
  }
});

test("HSTS: none with REQUIRE_HTTPS=false, over HTTPS or HTTP", async () => {
  const gate = await startGate({ vars: { REQUIRE_HTTPS: "false" } });
  try {
    for (const https of [true, false]) {
      const res = await gate.fetch("/public/x", { https });
      assert.equal(res.status, 200, `https=${https}`);
      assert.equal(res.headers.get("strict-transport-security"), null, `https=${https}`);
      await res.arrayBuffer();
    }
  } finally {
    await gate.dispose();
  }
});
