// Issue 16: the kits refuse exactly the commands the gate refuses. Every case of
// command-cases.json goes (1) through the Node kits' core (kits/core-js, used by the
// Express and Next.js kits) and (2) to the real gate, as an origin's X-Session-Command,
// which answers 200 when it applied the commands and 502 invalid_origin_command when
// it refused them. The Django and Rack kits' unit tests read the same cases.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startGate } from "../e2e/harness.mjs";
import { CommandList, CommandError, asciiJson } from "../../kits/core-js/src/index.js";
import { ROOT } from "./support.mjs";

const { cases } = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/kits/command-cases.json"), "utf8"));

function kitAccepts(c) {
  const list = new CommandList({ signedIn: c.signed_in });
  try {
    for (const cmd of c.commands) list.add(cmd);
    return true;
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    return false;
  }
}

test(`the Node kits' core accepts exactly the ${cases.length} cases marked ok`, () => {
  for (const c of cases) assert.equal(kitAccepts(c), c.ok, c.name);
});

let gate;
before(async () => { gate = await startGate(); });
after(async () => { await gate?.dispose(); });

test(`the gate agrees on each of the ${cases.length} cases (200 applied, 502 invalid_origin_command refused)`, async () => {
  for (const c of cases) {
    const cookie = c.signed_in ? await gate.login("conformance") : undefined;
    const res = await gate.fetch("/public", { method: "POST", cookie, command: asciiJson(c.commands) });
    const body = await res.json();
    if (c.ok) {
      assert.equal(res.status, 200, `${c.name}: ${JSON.stringify(body)}`);
    } else {
      assert.equal(res.status, 502, `${c.name}: ${res.status}`);
      assert.equal(body.error, "invalid_origin_command", c.name);
      assert.equal(typeof body.detail, "string", c.name);
    }
  }
});
