// Waiting for time-dependent conditions without betting on the machine's speed.
//
// A fixed sleep followed by an assertion passes or fails depending on how loaded the
// machine is. The tests here instead:
// - poll for the condition under a generous deadline (`until`), failing with what they
//   were waiting for;
// - wait for a moment the gate itself reported (an expiry time in seconds) to be past
//   by a margin (`pastSecond`), when looking earlier would change the outcome (a read
//   that slides the idle timer);
// - bracket a request between two clock readings (`bracketed`): the gate decided at some
//   instant inside the bracket, so "not before the deadline" / "not after it" checks are
//   made against the side of the bracket that makes them hold however long the request
//   took.
import assert from "node:assert/strict";

/** Wall-clock time in seconds, fractional (the gate's clock is this machine's clock). */
export const clock = () => Date.now() / 1000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` (sync or async) every `every` ms until it returns something truthy, and
 * returns that. Fails after `ms` ms (default 30 s: generous for a loaded 2-core machine)
 * naming `what`.
 */
export async function until(check, what, { ms = 30_000, every = 100 } = {}) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`after ${ms} ms still waiting for ${typeof what === "function" ? what() : what}`);
    await sleep(every);
  }
}

/** Resolves once the wall clock is past `second` (seconds since the epoch) by `margin` s. */
export async function pastSecond(second, margin = 0.5) {
  const wait = (second + margin) * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** Resolves once the wall clock has moved into a later whole second than `second`. */
export async function nextSecond(second = Math.floor(clock())) {
  await pastSecond(second + 1, 0.05);
}

/** Runs `fn` and returns `{ value, before, after }`: clock readings around the call. */
export async function bracketed(fn) {
  const before = clock();
  const value = await fn();
  return { value, before, after: clock() };
}
