// The example application of the Next.js kit. Turbopack resolves files only under its
// root: the repository, or the common parent of it and node_modules' real location
// (a worktree may link node_modules from elsewhere).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const modules = fs.realpathSync(path.join(repo, "node_modules"));
let root = repo;
while (!modules.startsWith(root + path.sep)) root = path.dirname(root);

export default {
  poweredByHeader: false,
  // The edge in front compresses for the client that asked; workerd's fetch asks the
  // origin for gzip whatever the client sent, and passes a gzip body through.
  compress: false,
  turbopack: { root },
  outputFileTracingRoot: root,
};
