//! Durations as operators write them: `90s`, `30m`, `24h`, `7d`, or plain seconds.

/// The accepted form, quoted in every error so a bad value is easy to fix.
pub const ACCEPTED: &str = "a whole number of seconds, or a number followed by s, m, h or d (e.g. 90s, 30m, 24h, 7d)";

/// Parses a duration into whole seconds. Zero is allowed here; callers that need a
/// positive value say so themselves.
pub fn parse_duration(raw: &str) -> Result<u64, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("is empty".into());
    }
    let (digits, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{raw:?} is not a duration"));
    }
    let n: u64 = digits.parse().map_err(|_| format!("{raw:?} is too large"))?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        other => return Err(format!("{raw:?} has an unknown unit {other:?}")),
    };
    // Ten years is far beyond any sane session lifetime and keeps all later
    // arithmetic (now + timeout, milliseconds) far from overflow.
    n.checked_mul(mult)
        .filter(|v| *v <= 10 * 365 * 86_400)
        .ok_or_else(|| format!("{raw:?} is too large (at most 10 years)"))
}

/// Formats seconds back into the shortest exact form, for logs and docs.
pub fn format_duration(secs: u64) -> String {
    for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60)] {
        if secs > 0 && secs.is_multiple_of(size) {
            return format!("{}{}", secs / size, unit);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_each_unit_and_plain_seconds() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("3600"), Ok(3_600));
        assert_eq!(parse_duration(" 5m "), Ok(300));
    }

    #[test]
    fn refuses_garbage_with_a_reason() {
        for bad in ["", "m", "5x", "-5m", "1.5h", "5 m", "five", "99999999999999999999", "5000d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn never_panics(s in "\\PC*") { let _ = parse_duration(&s); }

        #[test]
        fn format_round_trips(secs in 0u64..(10 * 365 * 86_400)) {
            prop_assert_eq!(parse_duration(&format_duration(secs)), Ok(secs));
        }
    }
}
