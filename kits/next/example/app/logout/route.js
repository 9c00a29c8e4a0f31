import { withSessiongate, logout } from "../../../src/index.js";
import { json } from "../users.js";

export const POST = withSessiongate(() => logout(json({ signed_out: true })));
