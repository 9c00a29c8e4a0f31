import { headers } from "next/headers";
import { sessiongate } from "../../../src/index.js";

// A server component: the identity, verified from the assertion in headers().
export default async function Profile() {
  const s = await sessiongate(headers());
  return (
    <main>
      <h1>Signed in as <span id="user">{s.user}</span></h1>
      <p>Roles: <span id="roles">{s.roles.join(", ")}</span></p>
    </main>
  );
}
