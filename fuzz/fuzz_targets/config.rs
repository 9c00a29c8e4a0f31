//! Configuration: `Config::from_lookup` over arbitrary values for arbitrary variables
//! (known names picked by the input, so every parser is reached), plus
//! `duration::parse_duration` / `format_duration` on the raw input.
//!
//! Input: records `index byte, value bytes..., 0xFF` ; the index picks one of
//! `VARIABLES` (or, for high values, an unknown name that must be ignored).
//! Invariants on an accepted configuration: positive timeouts of at most 10 years,
//! secrets of at least 32 bytes, `ORIGIN_SECRET` != `SESSION_SECRET`, SameSite never
//! None (the type cannot say it), a valid cookie name, a local `LOGIN_URL` matched by
//! `PUBLIC_PATHS`, allowed origins without a path, a slide interval in 1..=60 s and no
//! more than IDLE_TIMEOUT / 30 (or 1 s); a refused one names a known variable and does
//! not echo a secret. Durations: accepted values are at most 10 years and round-trip
//! through `format_duration`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessiongate::core::config::{Config, VARIABLES};
use sessiongate::core::duration;
use sessiongate::core::path;
use std::collections::HashMap;

const TEN_YEARS: u64 = 10 * 365 * 86_400;
const SECRETS: [&str; 4] = ["SESSION_SECRET", "SESSION_SECRET_PREVIOUS", "ORIGIN_SECRET", "ADMIN_TOKEN"];

/// A secret's value, when seeing it in output would be a leak: long enough to be a
/// key, and not also the text of some other (non-secret) variable that may be echoed.
fn leakable<'a>(vars: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    let v = vars.get(name)?;
    if v.trim().len() < 32 {
        return None;
    }
    let elsewhere = vars
        .iter()
        .any(|(k, other)| !SECRETS.contains(&k.as_str()) && other.contains(v.as_str()));
    (!elsewhere).then_some(v.as_str())
}

fuzz_target!(|data: &[u8]| {
    // Durations straight from the input.
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(v) = duration::parse_duration(s) {
            assert!(v <= TEN_YEARS);
            assert_eq!(duration::parse_duration(&duration::format_duration(v)), Ok(v));
        }
    }

    let mut vars: HashMap<String, String> = HashMap::new();
    // Valid secrets by default, so the other variables are reached; the input may
    // override them.
    vars.insert("SESSION_SECRET".into(), "S".repeat(32));
    vars.insert("ORIGIN_SECRET".into(), "O".repeat(32));
    // HS256, so ORIGIN_SECRET is in play; the input may pick another algorithm.
    vars.insert("ASSERTION_ALG".into(), "HS256".into());
    for rec in data.split(|b| *b == 0xFF) {
        let Some((idx, val)) = rec.split_first() else { continue };
        let Ok(val) = std::str::from_utf8(val) else { continue };
        let name = match VARIABLES.get(*idx as usize % (VARIABLES.len() + 2)) {
            Some((n, _)) => n.to_string(),
            None => format!("UNKNOWN_{idx}"),
        };
        vars.insert(name, val.to_string());
    }

    match Config::from_lookup(|k| vars.get(k).cloned()) {
        Ok(c) => {
            for t in [c.idle_timeout, c.absolute_timeout, c.elevated_timeout] {
                assert!(t > 0 && t <= TEN_YEARS);
            }
            assert!(c.warning_window <= TEN_YEARS);
            assert!(c.store_timeout_ms >= 1000 && c.origin_timeout_ms >= 1000);
            assert!(c.session_secret.bytes().len() >= 32);
            // ORIGIN_SECRET is set exactly with HS256, which has no signing key.
            assert_eq!(c.origin_secret.is_some(), c.assertion.current.is_none());
            if let Some(o) = &c.origin_secret {
                assert!(o.bytes().len() >= 32);
                assert_ne!(&c.session_secret, o);
            }
            if let Some(p) = &c.session_secret_previous {
                assert!(p.bytes().len() >= 32);
            }
            if let Some(a) = &c.admin_token {
                assert!(a.bytes().len() >= 32);
            }
            assert!(sessiongate::core::cookie::valid_name(&c.cookie_name));
            assert!((1..=1_048_576).contains(&c.session_data_max));
            let si = c.slide_interval();
            assert!((1..=60).contains(&si));
            assert!(si <= (c.idle_timeout / 30).max(1));
            assert!(!c.login_url.chars().any(|ch| ch.is_control() || ch == ' '));
            assert!(!c.login_url.starts_with("//") && !c.login_url.starts_with("/\\"));
            if c.login_url.starts_with('/') {
                let lp = c.login_url.split(['?', '#']).next().unwrap_or("/");
                if let Ok(n) = path::normalize(lp) {
                    assert!(c.public_paths.matches("GET", &n), "LOGIN_URL would loop");
                }
            } else {
                assert!(c.login_url.starts_with("https://") || c.login_url.starts_with("http://"));
            }
            for o in &c.allowed_origins {
                assert!(o.starts_with("http://") || o.starts_with("https://"));
                assert!(!o.ends_with('/'));
                assert_eq!(o, &o.to_ascii_lowercase());
            }
            if let Some(u) = &c.origin_url {
                assert!(u.scheme == "http" || u.scheme == "https");
                assert!(!u.authority.is_empty());
                assert!(!u.authority.contains(['/', '?', '#', '@']));
                let _ = u.host();
                let _ = u.url_for("/x", "?y");
            }
            assert_eq!(c.token_keys().len(), 1 + c.session_secret_previous.is_some() as usize);
            // Debug never prints key material (unless another variable holds the same text).
            let dbg = format!("{c:?}");
            for name in SECRETS {
                if let Some(v) = leakable(&vars, name) {
                    assert!(!dbg.contains(v), "Debug leaks {name}");
                }
            }
        }
        Err(e) => {
            assert!(VARIABLES.iter().any(|(n, _)| *n == e.variable), "unknown variable {}", e.variable);
            assert!(!e.accepted.is_empty());
            let msg = e.to_string();
            for name in SECRETS {
                if let Some(v) = leakable(&vars, name) {
                    assert!(!msg.contains(v), "error for {} echoes {name}", e.variable);
                }
            }
        }
    }
});
