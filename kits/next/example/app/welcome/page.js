import { SessionPanel } from "./session-panel.js";
import { signInAction } from "./actions.js";

// A page with a client component (useSession, signIn, signOut) and a sign-in form whose
// server action signs in (signInFromAction). Public at the gate, with /_next/static/*
// in PUBLIC_PATHS and STATIC_PATHS so the page hydrates before anyone signed in.
export default function Welcome() {
  return (
    <main>
      <SessionPanel />
      <form action={signInAction}>
        <input type="hidden" name="return_to" value="/welcome" />
        <label>User <input id="username" name="username" /></label>
        <label>Password <input id="password" name="password" type="password" /></label>
        <button id="action-sign-in" type="submit">Sign in (server action)</button>
      </form>
    </main>
  );
}
