import { headers } from "next/headers";
import { sessiongate } from "../../../src/index.js";
import { json } from "../users.js";

export const dynamic = "force-dynamic";

export async function GET() {
  const s = await sessiongate(headers()); // as in a server component
  if (!s.user) return json({ error: "unauthenticated", reason: "not_signed_in" }, 401);
  const { claims, ...identity } = s;
  return json(identity);
}
