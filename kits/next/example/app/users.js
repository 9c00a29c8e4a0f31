// A user store stands in for the application's database (passwords in clear only here).
// One per server process, kept across route modules through globalThis.
export const users = (globalThis.__exampleUsers ??= new Map([
  ["alice", { password: "wonderland", roles: ["user", "admin"] }],
  ["bob", { password: "builder", roles: ["user"] }],
]));

export const checkPassword = (user, password) => typeof password === "string" && users.get(user)?.password === password;

export const json = (body, status = 200) => Response.json(body, { status });

export async function form(request) {
  return Object.fromEntries(new URLSearchParams(await request.text()));
}
