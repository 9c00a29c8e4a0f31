//! Which client headers never reach the origin (`core::headers`, used by the gate's
//! `forward::origin_edits`): the gate sets its own forwarding headers from what it saw,
//! so a client's copies must be dropped, in any letter case, or an origin that trusts
//! `X-Forwarded-Host` / `X-Forwarded-Proto` (for absolute URLs, redirects, "is this
//! HTTPS?") would take the client's word for them.

use proptest::prelude::*;
use sessiongate::core::headers::{dropped_from_client, is_reserved};

/// Every header the README says the gate drops or replaces.
const MUST_DROP: [&str; 11] = [
    "cookie",
    "host",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "forwarded",
    "cf-connecting-ip",
    "true-client-ip",
    "remote-user",
    "x-forwarded-user",
];

/// Every way of writing a name in upper and lower case for short names, a sample for long ones.
fn casings(name: &str) -> Vec<String> {
    let letters: Vec<usize> = name
        .char_indices()
        .filter(|(_, c)| c.is_ascii_alphabetic())
        .map(|(i, _)| i)
        .collect();
    let n = letters.len().min(12);
    (0u32..(1 << n))
        .map(|mask| {
            let mut b = name.as_bytes().to_vec();
            for (bit, i) in letters.iter().take(n).enumerate() {
                if mask & (1 << bit) != 0 {
                    b[*i] = b[*i].to_ascii_uppercase();
                }
            }
            String::from_utf8(b).unwrap()
        })
        .collect()
}

#[test]
fn headers_forwarding_ones_are_dropped_in_every_letter_case() {
    for name in MUST_DROP {
        for c in casings(name) {
            assert!(dropped_from_client(&c), "{c}");
        }
    }
    for c in casings("x-forwarded-host").into_iter().chain(casings("x-forwarded-proto")) {
        assert!(dropped_from_client(&c), "{c}");
    }
}

#[test]
fn headers_near_misses_are_kept() {
    for name in [
        "x-forwarded-hosts",
        "x-forwarded-prot",
        // `x-forwarded` and `forwarded-for` are client address headers (request-ip,
        // ipware read them), dropped since issue 25.
        "x-forwarded-fo",
        "forwarded-forx",
        "hostname",
        "cookies",
        "x-session",
    ] {
        assert!(!dropped_from_client(name), "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    /// Names drawn mostly from the dropped ones, re-cased and sometimes extended, so
    /// that most cases are near the list's entries: about half the draws are entries
    /// (and must be dropped), the rest differ by one suffix (and must be kept unless
    /// they are `X-Session-*`).
    #[test]
    fn headers_dropped_exactly_when_listed_or_reserved(
        idx in 0..MUST_DROP.len(),
        upper in prop::collection::vec(any::<bool>(), 20),
        suffix in prop::option::of("[a-z0-9-]{1,4}"),
    ) {
        let base = MUST_DROP[idx];
        let mut name: String = base.chars().zip(upper.iter().cycle()).map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c }).collect();
        if let Some(s) = &suffix {
            name.push_str(s);
        }
        let listed = suffix.is_none();
        prop_assert_eq!(dropped_from_client(&name), listed || is_reserved(&name), "{}", name);
    }
}
