"use client";
import { useSession, signIn, signOut } from "../../../src/client.js";

export function SessionPanel() {
  const { status, data } = useSession();
  return (
    <section>
      <p>Status: <span id="status">{status}</span></p>
      <p>User: <span id="who">{data?.user ?? ""}</span></p>
      <button id="sign-in" type="button" onClick={() => signIn({ returnTo: "/welcome" })}>Sign in</button>
      <button id="sign-out" type="button" onClick={() => signOut({ redirectTo: "/welcome" })}>Sign out</button>
    </section>
  );
}
