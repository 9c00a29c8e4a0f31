//! Session ID quality from a set of freshly issued IDs: alphabet, length, positions that
//! never change, an entropy estimate, and sequential or time-based patterns.
//!
//! The estimate is an upper bound from what was observed: a position that took the same
//! value in every sample counts 0 bits; a position that varied about as much as random
//! symbols would counts log2(alphabet); a position that varied less counts log2(distinct
//! values seen). Derived parts of a token (e.g. a MAC tag) count as random, so a good
//! estimate is necessary, not sufficient: the pattern checks catch the common failures.

use super::finding::{redact, Check, Finding, Severity};
use serde::Serialize;
use std::collections::HashSet;

/// What a set of fresh session IDs shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdAnalysis {
    /// IDs collected.
    pub samples: usize,
    /// Distinct IDs among them.
    pub distinct: usize,
    /// Shortest ID length.
    pub min_len: usize,
    /// Longest ID length.
    pub max_len: usize,
    /// Name of the smallest standard alphabet covering every character seen.
    pub alphabet: &'static str,
    /// Characters in `alphabet`.
    pub alphabet_size: usize,
    /// Leading characters identical in every sample.
    pub constant_prefix: usize,
    /// Positions (over the shortest sample) that took more than one value.
    pub varying_positions: usize,
    /// Upper bound on the entropy per ID, from what varied.
    pub estimated_bits: f64,
    /// e.g. "decimal counter, values 4711001..4711020"
    pub sequential: Option<String>,
    /// e.g. "unix seconds 1764236400 at offset 0"
    pub time_based: Option<String>,
}

const ALPHABETS: [(&str, &str); 6] = [
    ("decimal", "0123456789"),
    ("hex (lower)", "0123456789abcdef"),
    ("hex (upper)", "0123456789ABCDEF"),
    ("alphanumeric", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("base64url", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"),
    ("base64", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/="),
];

fn alphabet_of(ids: &[String]) -> (&'static str, usize) {
    let seen: HashSet<char> = ids.iter().flat_map(|s| s.chars()).collect();
    for (name, chars) in ALPHABETS {
        if seen.iter().all(|c| chars.contains(*c)) {
            return (name, chars.chars().count());
        }
    }
    // Anything else: printable ASCII cookie-value characters (RFC 6265 cookie-octet).
    ("printable ASCII", 90)
}

/// Expected number of distinct symbols in `n` uniform draws from `a` symbols.
fn expected_distinct(a: usize, n: usize) -> f64 {
    let a = a as f64;
    a * (1.0 - (1.0 - 1.0 / a).powi(n as i32))
}

/// Analyses fresh IDs; `now_unix` helps recognise time-based ones.
pub fn analyze(ids: &[String], now_unix: u64) -> IdAnalysis {
    let chars: Vec<Vec<char>> = ids.iter().map(|s| s.chars().collect()).collect();
    let min_len = chars.iter().map(Vec::len).min().unwrap_or(0);
    let max_len = chars.iter().map(Vec::len).max().unwrap_or(0);
    let (alphabet, alphabet_size) = alphabet_of(ids);
    let distinct = ids.iter().collect::<HashSet<_>>().len();

    let mut constant_prefix = 0;
    let mut prefix_done = false;
    let mut varying_positions = 0;
    let mut bits = 0.0;
    let expected = expected_distinct(alphabet_size, ids.len());
    for i in 0..min_len {
        let column: HashSet<char> = chars.iter().map(|c| c[i]).collect();
        if column.len() <= 1 {
            if !prefix_done {
                constant_prefix += 1;
            }
            continue;
        }
        prefix_done = true;
        varying_positions += 1;
        bits += if column.len() as f64 >= 0.5 * expected {
            (alphabet_size as f64).log2()
        } else {
            (column.len() as f64).log2()
        };
    }
    // One sample shows nothing about variation: report the alphabet's capacity.
    if ids.len() < 2 {
        bits = min_len as f64 * (alphabet_size as f64).log2();
    }

    IdAnalysis {
        samples: ids.len(),
        distinct,
        min_len,
        max_len,
        alphabet,
        alphabet_size,
        constant_prefix,
        varying_positions,
        estimated_bits: (bits * 10.0).round() / 10.0,
        sequential: sequential(ids),
        time_based: time_based(ids, now_unix),
    }
}

/// The part that differs between samples, after the longest common prefix and suffix.
fn cores(ids: &[String]) -> Vec<&str> {
    let first = match ids.first() {
        Some(f) => f.as_str(),
        None => return Vec::new(),
    };
    let mut pre = first.len();
    let mut suf = first.len();
    for s in ids {
        pre = pre.min(common_prefix(first, s));
        suf = suf.min(common_suffix(first, s));
    }
    ids.iter()
        .map(|s| {
            let end = s.len().saturating_sub(suf).max(pre);
            s.get(pre..end).unwrap_or("")
        })
        .collect()
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .take_while(|((_, x), y)| x == y)
        .map(|((i, x), _)| i + x.len_utf8())
        .last()
        .unwrap_or(0)
}

fn common_suffix(a: &str, b: &str) -> usize {
    a.chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum()
}

/// Sequential: the varying cores are all numbers (decimal, or hex up to 32 digits) and
/// fall within a narrow band (at most 1000 per sample apart).
fn sequential(ids: &[String]) -> Option<String> {
    if ids.len() < 3 {
        return None;
    }
    let cores = cores(ids);
    if cores.iter().any(|c| c.is_empty() || c.len() > 32) {
        return None;
    }
    let (radix, kind) = if cores.iter().all(|c| c.bytes().all(|b| b.is_ascii_digit())) {
        (10, "decimal")
    } else if cores.iter().all(|c| c.bytes().all(|b| b.is_ascii_hexdigit())) {
        (16, "hex")
    } else {
        return None;
    };
    let values: Vec<u128> = cores.iter().map(|c| u128::from_str_radix(c, radix).ok()).collect::<Option<_>>()?;
    let lo = *values.iter().min()?;
    let hi = *values.iter().max()?;
    let band = 1000u128.saturating_mul(values.len() as u128);
    (hi - lo <= band).then(|| format!("{kind} counter: the varying part runs {lo}..{hi} across {} samples", values.len()))
}

/// Time-based: every sample holds a decimal unix time (10 or 13 digits) or an 8-hex-digit
/// one at the same offset, within two days of now.
fn time_based(ids: &[String], now: u64) -> Option<String> {
    if ids.is_empty() || now == 0 {
        return None;
    }
    let near = |t: u64| t.abs_diff(now) <= 2 * 86_400;
    let first = ids.first()?;
    for (width, radix, scale, what) in [
        (10, 10, 1, "unix seconds"),
        (13, 10, 1000, "unix milliseconds"),
        (8, 16, 1, "unix seconds (hex)"),
    ] {
        for off in 0..=first.len().saturating_sub(width) {
            let all = ids.iter().all(|s| {
                s.get(off..off + width)
                    .filter(|w| {
                        w.bytes()
                            .all(|b| if radix == 10 { b.is_ascii_digit() } else { b.is_ascii_hexdigit() })
                    })
                    .and_then(|w| u64::from_str_radix(w, radix).ok())
                    .map(|v| near(v / scale))
                    .unwrap_or(false)
            });
            if all {
                let sample = first.get(off..off + width).unwrap_or("");
                return Some(format!("{what} at offset {off} (e.g. {sample})"));
            }
        }
    }
    None
}

/// Findings for the analysis of the session cookie `name`.
pub fn findings(a: &IdAnalysis, name: &str, ids: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let shown: Vec<String> = ids.iter().take(4).map(|s| redact(s)).collect();
    let shown = format!("{}{}", shown.join(", "), if ids.len() > 4 { ", …" } else { "" });
    if let Some(seq) = &a.sequential {
        out.push(Finding::new(
            Check::SessionIdSequential,
            Severity::Critical,
            name,
            format!("{} fresh IDs: {shown}: {seq}", a.samples),
        ));
    }
    if let Some(t) = &a.time_based {
        out.push(Finding::new(
            Check::SessionIdTimeBased,
            Severity::High,
            name,
            format!("{} fresh IDs: {shown}: {t}", a.samples),
        ));
    }
    if a.samples >= 2 && a.distinct < a.samples {
        out.push(Finding::new(
            Check::SessionIdDuplicate,
            Severity::Critical,
            name,
            format!("{} fresh requests got only {} distinct IDs", a.samples, a.distinct),
        ));
    }
    if a.samples >= 2 && a.estimated_bits < 128.0 {
        let severity = if a.estimated_bits < 64.0 {
            Severity::Critical
        } else {
            Severity::High
        };
        out.push(Finding::new(
            Check::SessionIdLowEntropy,
            severity,
            name,
            format!(
                "~{} bits estimated from {} samples: length {}, {} alphabet, {} of {} positions vary ({shown})",
                a.estimated_bits, a.samples, a.min_len, a.alphabet, a.varying_positions, a.min_len
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn rand_ids(seed: u64, n: usize, len: usize, alphabet: &[u8]) -> Vec<String> {
        // xorshift: deterministic test data.
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        alphabet[(x % alphabet.len() as u64) as usize] as char
                    })
                    .collect()
            })
            .collect()
    }

    const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn sequential_counters_are_caught() {
        let ids: Vec<String> = (4711001..4711021).map(|n: u32| n.to_string()).collect();
        let a = analyze(&ids, 0);
        assert_eq!(a.alphabet, "decimal");
        assert!(a.sequential.is_some(), "{a:?}");
        assert!(a.estimated_bits < 10.0, "{a:?}");
        let f: Vec<_> = findings(&a, "SESSIONID", &ids).into_iter().map(|f| f.id).collect();
        assert_eq!(f, ["session-id-sequential", "session-id-low-entropy"]);

        let ids: Vec<String> = (0xfff0u32..0x10004).map(|n| format!("sess-{n:x}-x")).collect();
        assert!(analyze(&ids, 0).sequential.unwrap().starts_with("hex counter"));
        // Variable-length decimal counters too.
        assert!(analyze(&s(&["u98", "u99", "u100", "u101"]), 0).sequential.is_some());
    }

    #[test]
    fn time_based_ids_are_caught() {
        let now = 1_764_236_400u64;
        let ids: Vec<String> = (0..10).map(|i| format!("{}{:04}", now + i, i * 7)).collect();
        assert!(analyze(&ids, now).time_based.unwrap().contains("unix seconds"));
        let ids: Vec<String> = (0..10).map(|i| format!("{:08x}{}", now + i, "a1b2c3d4e5f6a7b8")).collect();
        assert!(analyze(&ids, now).time_based.is_some());
    }

    #[test]
    fn random_base64url_tokens_are_strong_even_with_a_shared_prefix() {
        // Like the gate: a constant 44-character store id, 86 random characters.
        let tail = rand_ids(7, 20, 86, B64URL);
        let ids: Vec<String> = tail.iter().map(|t| format!("AQ{}{t}", "x".repeat(42))).collect();
        let a = analyze(&ids, 1_764_236_400);
        assert_eq!(a.constant_prefix, 44);
        assert_eq!(a.alphabet, "base64url");
        assert!(a.estimated_bits >= 400.0, "{a:?}");
        assert!(a.sequential.is_none() && a.time_based.is_none());
        assert!(findings(&a, "__Host-session", &ids).is_empty());
    }

    #[test]
    fn short_random_ids_are_weak() {
        let ids = rand_ids(3, 20, 8, b"0123456789abcdef");
        let a = analyze(&ids, 0);
        assert!(a.estimated_bits <= 32.0);
        let f = findings(&a, "sid", &ids);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].id, f[0].severity), ("session-id-low-entropy", Severity::Critical));
        // 96 bits of hex: high, not critical.
        let ids = rand_ids(5, 20, 24, b"0123456789abcdef");
        let f = findings(&analyze(&ids, 0), "sid", &ids);
        assert_eq!((f[0].id, f[0].severity), ("session-id-low-entropy", Severity::High));
    }

    #[test]
    fn duplicates_are_caught() {
        let ids = s(&["aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
        let f: Vec<_> = findings(&analyze(&ids, 0), "sid", &ids).into_iter().map(|f| f.id).collect();
        assert!(f.contains(&"session-id-duplicate"));
    }

    #[test]
    fn no_samples_no_panic() {
        let a = analyze(&[], 0);
        assert_eq!(a.samples, 0);
        assert!(findings(&a, "sid", &[]).is_empty());
    }

    #[test]
    fn expected_distinct_symbols_follow_the_birthday_formula() {
        // a * (1 - (1 - 1/a)^n): two draws from two symbols show 1.5 on average.
        assert!((expected_distinct(2, 2) - 1.5).abs() < 1e-12);
        assert!((expected_distinct(16, 1) - 1.0).abs() < 1e-12);
        assert!((expected_distinct(16, 20) - 11.599_059).abs() < 1e-6);
    }

    #[test]
    fn a_position_counts_the_alphabet_only_when_it_varied_like_random() {
        // 20 hex IDs. The first position shows 8 values, at least half of the 11.6 that 20
        // random draws would: 4 bits. The second shows 2, fewer: log2(2) = 1 bit. The third
        // is fixed: 0 bits.
        let ids: Vec<String> = (0..20).map(|i| format!("{}{}f", i % 8, ["a", "b"][i % 2])).collect();
        let a = analyze(&ids, 0);
        assert_eq!(a.alphabet_size, 16);
        assert_eq!((a.constant_prefix, a.varying_positions), (0, 2));
        assert_eq!(a.estimated_bits, 5.0);
    }

    #[test]
    fn one_sample_is_given_the_alphabets_capacity_and_two_are_measured() {
        let one = analyze(&s(&["0123456789abcdef"]), 0);
        assert_eq!(one.estimated_bits, 64.0, "16 hex characters");
        let two = analyze(&s(&["0123456789abcdef", "0123456789abcde0"]), 0);
        assert_eq!((two.constant_prefix, two.varying_positions), (15, 1));
        assert_eq!(two.estimated_bits, 4.0, "one position varied");
    }

    #[test]
    fn a_counter_needs_three_samples() {
        assert_eq!(analyze(&s(&["u1", "u2"]), 0).sequential, None);
        assert!(analyze(&s(&["u1", "u2", "u3"]), 0).sequential.is_some());
    }

    #[test]
    fn a_counter_is_read_up_to_32_digits() {
        let at_bound = [
            format!("1{}", "9".repeat(31)),
            format!("2{}", "0".repeat(31)),
            format!("2{}1", "0".repeat(30)),
        ];
        assert!(at_bound.iter().all(|c| c.len() == 32));
        assert!(analyze(&at_bound, 0).sequential.is_some());
        // Longer numbers are not read as counters (hex beyond 32 digits does not fit u128).
        let longer = ["9".repeat(33), format!("1{}", "0".repeat(33)), format!("1{}1", "0".repeat(32))];
        assert_eq!(analyze(&longer, 0).sequential, None);
    }

    #[test]
    fn time_based_ids_are_recognised_within_two_days_of_now() {
        let now = 1_764_236_400u64;
        let ids_at = |t: u64| -> Vec<String> { (0..5).map(|i| format!("{t}x{i:03}")).collect() };
        assert_eq!(
            analyze(&ids_at(now + 2 * 86_400), now).time_based.as_deref(),
            Some("unix seconds at offset 0 (e.g. 1764409200)")
        );
        assert!(analyze(&ids_at(now - 129_600), now).time_based.is_some(), "a day and a half ago");
        assert_eq!(analyze(&ids_at(now + 2 * 86_400 + 1), now).time_based, None);
        assert_eq!(analyze(&ids_at(now - 2 * 86_400 - 1), now).time_based, None);
    }

    #[test]
    fn without_the_time_nothing_is_called_time_based() {
        // now = 0: the scanner did not know the time; small numbers are not times.
        let ids = s(&["0000000005x1", "0000000006x2", "0000000007x3"]);
        assert_eq!(analyze(&ids, 0).time_based, None);
    }

    #[test]
    fn low_entropy_is_high_below_128_bits_and_critical_below_64() {
        let ids = rand_ids(11, 4, 43, B64URL);
        let severity = |bits: f64| {
            let a = IdAnalysis {
                estimated_bits: bits,
                ..analyze(&ids, 0)
            };
            let f = findings(&a, "sid", &ids);
            f.iter().find(|f| f.id == "session-id-low-entropy").map(|f| f.severity)
        };
        assert_eq!(severity(128.0), None);
        assert_eq!(severity(127.9), Some(Severity::High));
        assert_eq!(severity(64.0), Some(Severity::High));
        assert_eq!(severity(63.9), Some(Severity::Critical));
    }

    proptest! {
        // Each case analyses up to eight IDs; 2,000 cases keep this under a second.
        #![proptest_config(crate::proptest_cases::config(2_000))]
        #[test]
        fn never_panics(ids in proptest::collection::vec(".{0,40}", 0..8), now in 0u64..2_000_000_000) {
            let a = analyze(&ids, now);
            let _ = findings(&a, "x", &ids);
            prop_assert!(a.estimated_bits >= 0.0);
        }

        #[test]
        fn strong_random_ids_never_flagged(seed in 1u64..u64::MAX) {
            let ids = rand_ids(seed, 20, 43, B64URL);
            let a = analyze(&ids, 1_764_236_400);
            prop_assert!(findings(&a, "sid", &ids).is_empty(), "{:?}", a);
        }
    }
}
