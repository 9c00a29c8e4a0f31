// Where a server action's sign-in completes (signInFromAction): in the gate's PUBLIC_PATHS.
export { completeSignIn as GET } from "../../../../src/actions.js";
