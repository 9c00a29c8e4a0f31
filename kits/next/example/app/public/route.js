import { sessiongate } from "../../../src/index.js";
import { json } from "../users.js";

export const dynamic = "force-dynamic";

// Served without the gate too, never with anyone's identity.
export async function GET(request) {
  const s = await sessiongate(request, { anonymous: true });
  return json({ user: s?.user ?? null });
}
