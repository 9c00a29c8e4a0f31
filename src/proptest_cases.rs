//! How many cases the crate's properties run (test builds only).
//!
//! Each property states its case count (10,000 for the parsers of untrusted input).
//! `PROPTEST_CASES_MAX` caps it: `make mutants` runs every mutant against the file's
//! tests, and at 10,000 cases a file's properties take 10 to 15 s per mutant, which on
//! two shared cores turns a run over `src/core` into most of a day. A mutant that only
//! the 10,000-case run would catch is then reported missed, never caught, so the cap
//! can only make the mutation score lower, not flatter. Unset, the count is as written.

use proptest::test_runner::Config;

/// The property configuration for `cases` cases, capped by `PROPTEST_CASES_MAX`.
pub(crate) fn config(cases: u32) -> Config {
    let cap = std::env::var("PROPTEST_CASES_MAX").ok().and_then(|v| v.parse::<u32>().ok());
    Config::with_cases(cap.map_or(cases, |cap| cases.min(cap)))
}
