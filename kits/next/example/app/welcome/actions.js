"use server";
import { signInFromAction } from "../../../src/actions.js";
import { users, checkPassword } from "../users.js";

export async function signInAction(formData) {
  const username = formData.get("username");
  if (!checkPassword(username, formData.get("password"))) return;
  await signInFromAction({ user: username, roles: users.get(username).roles, returnTo: formData.get("return_to") });
}
