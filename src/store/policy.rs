//! `Policy`: the part of the gate's configuration the session rules need, and its wire
//! form. The session object runs in a Worker of its own, with no variables or secrets
//! (docs/performance.md, "The store in a Worker of its own"), so the gate sends the policy
//! with every session call (`POLICY_HEADER`) and the object keeps the last one it was sent
//! for the alarms that fire between calls.

use crate::core::config::{BindMode, Config};
use crate::core::session::Timeouts;
use serde::{Deserialize, Serialize};

/// The header of a session call that carries the gate's policy (`Policy::to_wire`).
pub const POLICY_HEADER: &str = "x-sessiongate-policy";

/// The parts of the configuration the store needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Idle, absolute and elevation limits, slide interval, warning window.
    pub timeouts: Timeouts,
    /// What a change of network does to a session.
    pub bind_ip: BindMode,
    /// What a change of user agent does to a session.
    pub bind_ua: BindMode,
    /// Live sessions per user; 0 for no limit.
    pub max_sessions: u32,
}

/// Why a policy the object was sent is refused (the call then changes nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not the JSON of a `Policy`.
    #[error("malformed policy: {0}")]
    Malformed(String),
    /// A timeout the rules cannot work with (they would end every session at once, or
    /// never write activity).
    #[error("invalid policy: {0} must be at least 1 second")]
    ZeroTimeout(&'static str),
}

impl Policy {
    /// The store's share of the gate's configuration.
    pub fn from_config(c: &Config) -> Self {
        Policy {
            timeouts: Timeouts::from_config(c),
            bind_ip: c.bind_ip,
            bind_ua: c.bind_ua,
            max_sessions: c.max_sessions_per_user,
        }
    }

    /// The form sent in `POLICY_HEADER`: compact JSON, ASCII only.
    pub fn to_wire(&self) -> String {
        // A struct of integers and unit enums: serialising it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads `to_wire`'s form; the configuration's own checks guarantee non-zero idle,
    /// absolute and slide intervals, so anything else did not come from a gate.
    pub fn from_wire(text: &str) -> Result<Self, PolicyError> {
        let p: Policy = serde_json::from_str(text).map_err(|e| PolicyError::Malformed(e.to_string()))?;
        let t = &p.timeouts;
        for (value, name) in [(t.idle, "idle"), (t.absolute, "absolute"), (t.slide_interval, "slide_interval")] {
            if value == 0 {
                return Err(PolicyError::ZeroTimeout(name));
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::session::fixtures::TIMEOUTS;
    use proptest::prelude::*;

    fn policy() -> Policy {
        Policy {
            timeouts: TIMEOUTS,
            bind_ip: BindMode::Flag,
            bind_ua: BindMode::Reject,
            max_sessions: 3,
        }
    }

    #[test]
    fn the_wire_form_is_compact_named_json() {
        let w = policy().to_wire();
        assert!(w.is_ascii() && !w.contains(' '), "{w}");
        assert!(w.contains(r#""bind_ip":"flag""#) && w.contains(r#""bind_ua":"reject""#), "{w}");
        assert!(w.contains(r#""max_sessions":3"#), "{w}");
    }

    #[test]
    fn malformed_and_unknown_fields_are_refused() {
        for text in [
            "",
            "{}",
            "null",
            r#"{"timeouts":1}"#,
            &policy().to_wire().replace("}", r#","extra":1}"#),
        ] {
            assert!(matches!(Policy::from_wire(text), Err(PolicyError::Malformed(_))), "{text}");
        }
        let bad_mode = policy().to_wire().replace(r#""flag""#, r#""sometimes""#);
        assert!(matches!(Policy::from_wire(&bad_mode), Err(PolicyError::Malformed(_))));
    }

    #[test]
    fn zero_timeouts_are_refused_by_name() {
        for name in ["idle", "absolute", "slide_interval"] {
            let mut p = policy();
            match name {
                "idle" => p.timeouts.idle = 0,
                "absolute" => p.timeouts.absolute = 0,
                _ => p.timeouts.slide_interval = 0,
            }
            assert_eq!(Policy::from_wire(&p.to_wire()), Err(PolicyError::ZeroTimeout(name)));
        }
        let mut p = policy();
        p.timeouts.elevated = 0;
        p.timeouts.warning_window = 0;
        assert_eq!(Policy::from_wire(&p.to_wire()), Ok(p), "elevation and warning may be off");
    }

    fn mode() -> impl Strategy<Value = BindMode> {
        prop_oneof![Just(BindMode::Off), Just(BindMode::Flag), Just(BindMode::Reject)]
    }

    proptest! {
        #[test]
        fn every_policy_survives_the_wire(
            idle in 1u64..1 << 40, absolute in 1u64..1 << 40, elevated in 0u64..1 << 40,
            slide in 1u64..1 << 20, warning in 0u64..1 << 40, ip in mode(), ua in mode(), max in any::<u32>(),
        ) {
            let p = Policy {
                timeouts: Timeouts { idle, absolute, elevated, slide_interval: slide, warning_window: warning },
                bind_ip: ip, bind_ua: ua, max_sessions: max,
            };
            prop_assert_eq!(Policy::from_wire(&p.to_wire()), Ok(p));
        }
    }
}
