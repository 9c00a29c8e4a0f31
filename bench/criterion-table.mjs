// Reads criterion's text report (stdin) and prints one compact table: function, median
// estimate, [low high] of the confidence interval, and whether it is under 10 µs.
import fs from "node:fs";

const text = fs.readFileSync(0, "utf8");
const unit = { ps: 1e-6, ns: 1e-3, "µs": 1, us: 1, ms: 1e3, s: 1e6 };
const re = /^(\S.*?)\s*\n?\s*time:\s+\[([\d.]+) (\S+) ([\d.]+) (\S+) ([\d.]+) (\S+)\]/gm;
const rows = [];
for (const m of text.matchAll(re)) {
  const us = (v, u) => Number(v) * (unit[u] ?? NaN);
  rows.push({ name: m[1].trim(), low: us(m[2], m[3]), mid: us(m[4], m[5]), high: us(m[6], m[7]) });
}
if (!rows.length) {
  console.log("criterion: no results found in its output");
  process.exit(1);
}
const fmt = (x) => (x < 1 ? `${(x * 1000).toFixed(0)} ns` : `${x.toFixed(2)} µs`);
const w = Math.max(...rows.map((r) => r.name.length)) + 2;
console.log(`${"function".padEnd(w)}${"time".padStart(10)}  ${"95% interval".padEnd(22)}under 10 µs`);
for (const r of rows) {
  console.log(`${r.name.padEnd(w)}${fmt(r.mid).padStart(10)}  ${`[${fmt(r.low)}, ${fmt(r.high)}]`.padEnd(22)}${r.mid < 10 ? "yes" : "NO"}`);
}
const over = rows.filter((r) => r.mid >= 10);
console.log(over.length ? `${over.length} function(s) at or over 10 µs` : `all ${rows.length} under 10 µs (native, release profile)`);
