// Issue 28: a refusal explains itself. With the application's audience set to another
// name than the gate's (the gate names the host of ORIGIN_URL without its port, here
// 127.0.0.1), every request is refused with 401 invalid_assertion and the application's
// log says, with no hook written: aud: expected "origin.example.com", got "127.0.0.1".
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startStack, until, json, ROOT } from "./support.mjs";

const LINE = 'sessiongate: 401 invalid_assertion for GET /public: aud: expected "origin.example.com", got "127.0.0.1"';
const apps = {
  express: { command: process.execPath, args: [path.join(ROOT, "kits/express/example/app.mjs")] },
  django: { command: path.join(ROOT, ".venv-kits/bin/python"), args: [path.join(ROOT, "kits/django/example/app.py")], env: { PYTHONUNBUFFERED: "1" } },
  rack: { command: "ruby", args: [path.join(ROOT, "kits/rack/example/app.rb")] },
  rails: { command: "ruby", args: [path.join(ROOT, "kits/rack/example-rails/app.rb")] },
};

for (const [kit, app] of Object.entries(apps)) {
  describe(`${kit}: an audience mismatch is logged with what was expected and what came`, () => {
    let stack;
    before(async () => { stack = await startStack({ alg: "ES256", ...app, ready: "/public", audience: "origin.example.com" }); });
    after(async () => { await stack?.stop(); });

    test(`${kit}: 401 invalid_assertion, and the log line`, async () => {
      const res = await stack.gate.fetch("/public", { headers: { accept: "application/json" } });
      assert.equal(res.status, 401);
      assert.deepEqual(await json(res), { error: "unauthenticated", reason: "invalid_assertion" });
      await until("the log line", () => stack.app.log.join("").includes(LINE), 10_000);
    });
  });
}
