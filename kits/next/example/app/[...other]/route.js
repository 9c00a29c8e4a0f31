// Test-only: reports the dispatch to tests/differential/ (see differential.js).
import { reportingHandlers } from "../../differential.js";

export const dynamic = "force-dynamic";
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = reportingHandlers("other");
