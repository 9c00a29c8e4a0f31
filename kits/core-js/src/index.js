// The parts every Node kit shares: verifying what the gate sent (verify.js) and
// composing what the application tells it (commands.js). Framework kits only adapt
// these to their request and response objects.
export { verifier, SessiongateError, logRefusal, sameTarget, MAX_LIFETIME_SECONDS } from "./verify.js";
export { safeReturnTo } from "./return-to.js";
export { CommandList, CommandError, checkCommand, build, writers, asciiJson, LIMITS } from "./commands.js";
