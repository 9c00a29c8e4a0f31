// Every request is verified before a route renders (Next 16's proxy, middleware before).
import { sessiongateProxy } from "../src/index.js";
import { differentialOn } from "./differential.js";

const verify = sessiongateProxy({ anonymousPaths: ["/public"] }); // keys and audience from SESSIONGATE_*

// Test-only: with SESSIONGATE_DIFFERENTIAL=1 the routes see every request unverified (differential.js).
export const proxy = (request) => (differentialOn() ? undefined : verify(request));

export const config = { matcher: ["/((?!_next/).*)"] };
