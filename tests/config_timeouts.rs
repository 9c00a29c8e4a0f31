//! The timeouts as the configuration hands them on: seconds, and milliseconds for the
//! two that bound a fetch (found by cargo-mutants: only the defaults were checked, and
//! at the defaults a wrong unit still looked plausible to no test).

use sessiongate::core::config::Config;
use std::collections::HashMap;

#[test]
fn config_timeouts_in_their_units() {
    let m = HashMap::from([
        ("SESSION_SECRET", "session-secret-of-at-least-32-bytes-0"),
        ("ASSERTION_ALG", "HS256"),
        ("ORIGIN_SECRET", "origin-secret-of-at-least-32-bytes-00"),
        ("IDLE_TIMEOUT", "10m"),
        ("ABSOLUTE_TIMEOUT", "8h"),
        ("ELEVATED_TIMEOUT", "90s"),
        ("WARNING_WINDOW", "0"),
        ("STORE_TIMEOUT", "2s"),
        ("ORIGIN_TIMEOUT", "3m"),
    ]);
    let c = Config::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap();
    assert_eq!(
        (c.idle_timeout, c.absolute_timeout, c.elevated_timeout, c.warning_window),
        (600, 28_800, 90, 0)
    );
    assert_eq!((c.store_timeout_ms, c.origin_timeout_ms), (2_000, 180_000));
}
