//! `DEVICE_BINDING` and `DEVICE_PROOF_INTERVAL`, parsed with the rest of the configuration.

use crate::core::config::ConfigError;
use crate::core::duration::{self, parse_duration};

/// Device binding settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSettings {
    /// `DEVICE_BINDING=on`: logins over HTTPS offer registration, bound sessions need
    /// their device cookie.
    pub enabled: bool,
    /// `DEVICE_PROOF_INTERVAL`, seconds: the device cookie's life.
    pub proof_interval: u64,
    /// `<COOKIE_NAME>-device`.
    pub cookie_name: String,
}

/// The variables with their defaults.
pub const VARIABLES: &[(&str, Option<&str>)] = &[("DEVICE_BINDING", Some("on")), ("DEVICE_PROOF_INTERVAL", Some("10m"))];

/// Longest accepted interval: past a day a stolen pair of cookies lives too long to call
/// the session bound.
pub const MAX_INTERVAL: u64 = 86_400;

fn err(variable: &'static str, problem: impl Into<String>, accepted: &str) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
        accepted: accepted.into(),
    }
}

/// From the variable lookup (blank counts as unset) and the session cookie's name.
pub fn parse(var: impl Fn(&str) -> Option<String>, session_cookie: &str) -> Result<DeviceSettings, ConfigError> {
    let or_default = |name: &'static str| var(name).unwrap_or_else(|| crate::core::config::default_in(VARIABLES, name));
    let enabled = match or_default("DEVICE_BINDING").trim().to_ascii_lowercase().as_str() {
        "on" => true,
        "off" => false,
        other => return Err(err("DEVICE_BINDING", format!("{other:?} is not on or off"), "on or off")),
    };
    const FORM: &str = "a duration from 1s to 24h, such as 10m (short values for tests)";
    let proof_interval =
        parse_duration(&or_default("DEVICE_PROOF_INTERVAL")).map_err(|p| err("DEVICE_PROOF_INTERVAL", p, duration::ACCEPTED))?;
    if !(1..=MAX_INTERVAL).contains(&proof_interval) {
        return Err(err("DEVICE_PROOF_INTERVAL", "must be between 1 second and 24 hours", FORM));
    }
    Ok(DeviceSettings {
        enabled,
        proof_interval,
        cookie_name: format!("{session_cookie}-device"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn parse_map(m: &[(&str, &str)]) -> Result<DeviceSettings, ConfigError> {
        let m: HashMap<String, String> = m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        parse(|k| m.get(k).cloned().filter(|v| !v.trim().is_empty()), "__Host-session")
    }

    #[test]
    fn on_by_default_with_ten_minutes() {
        let s = parse_map(&[]).unwrap();
        assert!(s.enabled);
        assert_eq!(s.proof_interval, 600);
        assert_eq!(s.cookie_name, "__Host-session-device");
    }

    #[test]
    fn off_and_short_intervals() {
        let s = parse_map(&[("DEVICE_BINDING", "OFF"), ("DEVICE_PROOF_INTERVAL", "3s")]).unwrap();
        assert!(!s.enabled);
        assert_eq!(s.proof_interval, 3);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (k, v) in [
            ("DEVICE_BINDING", "yes"),
            ("DEVICE_PROOF_INTERVAL", "0"),
            ("DEVICE_PROOF_INTERVAL", "2d"),
            ("DEVICE_PROOF_INTERVAL", "soon"),
        ] {
            let e = parse_map(&[(k, v)]).unwrap_err();
            assert_eq!(e.variable, k, "{k}={v}");
            assert!(!e.accepted.is_empty());
        }
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(2_000))]
        #[test]
        fn any_interval_parses_into_range_or_is_refused(v in "\\PC{0,12}") {
            if let Ok(s) = parse_map(&[("DEVICE_PROOF_INTERVAL", &v)]) {
                prop_assert!((1..=MAX_INTERVAL).contains(&s.proof_interval));
            }
        }
    }
}
