// What the configuration (generator.mjs CONFIG) requires for a handler the framework
// dispatched to, read from the framework's own report: the handler it chose, the method it
// ran and the path it saw. The reporting routes mirror the configuration:
//   account  /account/:id   protected; DELETE and PATCH are sensitive (DELETE|PATCH /account/*)
//   vault    /vault[/...]   sensitive (/vault/*)
//   pub      /pub/:x        public (/pub/*)
//   other    anything else  protected, unless its path is one PUBLIC_PATHS names
const PUBLIC = (p) => p === "/login" || p === "/public" || p === "/pub" || p.startsWith("/pub/");

function lenientDecode(p) {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** "public" | "protected" | "sensitive" */
export function required({ h, m, p }) {
  const method = String(m).toUpperCase();
  if (h === "vault") return "sensitive";
  if (h === "account") return method === "DELETE" || method === "PATCH" ? "sensitive" : "protected";
  if (h === "pub") return "public";
  return PUBLIC(lenientDecode(String(p))) ? "public" : "protected";
}

/**
 * The property: a request sent without a session reaches no protected or sensitive
 * handler; one sent with a session that has not stepped up reaches no sensitive one.
 * Returns null, or why the dispatch breaks it.
 */
export function violation(session, seen) {
  if (!seen) return null;
  const need = required(seen);
  if (session === "none" && need !== "public") return `reached a ${need} handler without a session`;
  if (session === "user" && need === "sensitive") return "reached a sensitive handler without step-up";
  return null;
}
