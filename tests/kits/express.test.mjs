// The Express kit (kits/express) behind the real gate: its example application, signed
// with ES256 (verified through the gate's JWKS URL) and with HS256 (ORIGIN_SECRET).
import { describe } from "node:test";
import path from "node:path";
import { kitSuite, startStack, ROOT } from "./support.mjs";

for (const alg of ["ES256", "HS256"]) {
  describe(`express kit, ${alg}`, () => {
    kitSuite(`express ${alg}`, () => startStack({ alg, command: process.execPath, args: [path.join(ROOT, "kits/express/example/app.mjs")] }));
  });
}
