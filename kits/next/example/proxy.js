// Every request is verified before a route renders (Next 16's proxy, middleware before).
import { sessiongateProxy } from "../src/index.js";

export const proxy = sessiongateProxy({ anonymousPaths: ["/public"] }); // keys and audience from SESSIONGATE_*

export const config = { matcher: ["/((?!_next/).*)"] };
