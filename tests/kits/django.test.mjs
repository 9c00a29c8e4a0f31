// The Django kit (kits/django) behind the real gate: its example application under
// Django's runserver, in the virtualenv `make setup` creates, with ES256 (verified
// through the gate's JWKS URL with PyJWT's PyJWKClient) and with HS256.
import { describe } from "node:test";
import path from "node:path";
import { kitSuite, startStack, ROOT } from "./support.mjs";

const python = path.join(ROOT, ".venv-kits/bin/python");
for (const alg of ["ES256", "HS256"]) {
  describe(`django kit, ${alg}`, () => {
    kitSuite(`django ${alg}`, () => startStack({ alg, command: python, args: [path.join(ROOT, "kits/django/example/app.py")], env: { PYTHONUNBUFFERED: "1" } }));
  });
}
