// The Rack kit (kits/rack) behind the real gate: its example application under Puma
// (Debian's ruby, ruby-rack, ruby-jwt), with ES256 (verified through the gate's JWKS URL)
// and with HS256.
import { describe } from "node:test";
import path from "node:path";
import { kitSuite, startStack, ROOT } from "./support.mjs";

for (const alg of ["ES256", "HS256"]) {
  describe(`rack kit, ${alg}`, () => {
    kitSuite(`rack ${alg}`, () => startStack({ alg, command: "ruby", args: [path.join(ROOT, "kits/rack/example/app.rb")] }));
  });
}
