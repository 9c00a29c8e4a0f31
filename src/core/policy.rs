//! The gate's decision for one request: forward, send to login, or refuse.

use super::client::login_redirect;
use super::config::Config;
use super::method::Methods;
use super::session::Reason;

/// What a path needs, deny by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Listed in `PUBLIC_PATHS`: forwarded with or without a session.
    Public,
    /// Everything else: needs a valid, authenticated session.
    Protected,
    /// Listed in `SENSITIVE_PATHS`: needs an elevated session (wins over public).
    Sensitive,
}

pub fn classify(cfg: &Config, method: &str, path: &str) -> Access {
    if cfg.sensitive_paths.matches(method, path) {
        Access::Sensitive
    } else if cfg.public_paths.matches(method, path) {
        Access::Public
    } else {
        Access::Protected
    }
}

/// Does a request count as activity (slide the idle timer)? Not on `IDLE_EXEMPT_PATHS`:
/// a page's background polling must not keep an abandoned session alive. Exempt when
/// the method as sent matches under any reading (not sliding is the safe side).
pub fn counts_as_activity(cfg: &Config, method: &str, readings: &[String]) -> bool {
    !readings.iter().any(|p| cfg.idle_exempt_paths.matches(method, p))
}

/// What a request is classified by: every method it may be run as and every reading
/// of its path an origin might act on (see `path::readings`, `method::Methods`).
pub struct Target<'a> {
    pub methods: &'a Methods,
    pub readings: &'a [String],
    /// Readings that may make the path sensitive but nothing else (`path::format_stripped`).
    pub format_stripped: &'a [String],
}

/// Classifies every method and reading and keeps the strictest (sensitive > protected
/// > public): a path that is public only under one reading is not public.
pub fn classify_strictest(cfg: &Config, t: &Target) -> Access {
    let rank = |a: &Access| match a {
        Access::Public => 0,
        Access::Protected => 1,
        Access::Sensitive => 2,
    };
    let strictest = t
        .methods
        .all()
        .flat_map(|m| t.readings.iter().map(move |p| classify(cfg, m, p)))
        .max_by_key(rank)
        .unwrap_or(Access::Protected);
    let sensitive_by_format = || {
        t.methods
            .all()
            .any(|m| t.format_stripped.iter().any(|p| cfg.sensitive_paths.matches(m, p)))
    };
    // An override the gate could not read may name any method: every method-scoped
    // sensitive pattern of the path applies.
    let sensitive_by_any_method = || {
        t.methods.claims_any()
            && t.readings
                .iter()
                .chain(t.format_stripped)
                .any(|p| cfg.sensitive_paths.method_scoped_matches(p))
    };
    if strictest != Access::Sensitive && (sensitive_by_format() || sensitive_by_any_method()) {
        Access::Sensitive
    } else {
        strictest
    }
}

/// What validation found out about the request's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// A live session of a signed-in user.
    Authenticated { elevated: bool },
    /// A live anonymous session (guest data only).
    Anonymous,
    /// No session: cookie missing, or not valid for `Reason`.
    Absent(Reason),
    /// The session store failed or timed out.
    StoreDown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Forward,
    /// 302 to the login page (browser navigation).
    Login {
        location: String,
    },
    /// 401 `{"error":"unauthenticated","reason":...}`.
    Unauthenticated {
        reason: Reason,
    },
    /// 403 `{"error":"reauthentication_required"}`.
    Reauthenticate,
    /// 503 `{"error":"store_unavailable"}`.
    StoreUnavailable,
}

pub fn decide(cfg: &Config, access: Access, state: SessionState, navigation: bool, path_and_query: &str) -> Decision {
    let deny = |reason: Reason| {
        if navigation {
            Decision::Login {
                location: login_redirect(&cfg.login_url, path_and_query, reason.as_str(), false),
            }
        } else {
            Decision::Unauthenticated { reason }
        }
    };
    match (access, state) {
        (Access::Public, _) => Decision::Forward,
        (_, SessionState::StoreDown) => Decision::StoreUnavailable,
        // Signing in again would not help (the planted cookie stays): a 401, even to a
        // navigation.
        (_, SessionState::Absent(reason @ Reason::AmbiguousSession)) => Decision::Unauthenticated { reason },
        (_, SessionState::Absent(reason)) => deny(reason),
        // A guest session carries a cart, not an identity.
        (_, SessionState::Anonymous) => deny(Reason::Missing),
        (Access::Protected, SessionState::Authenticated { .. }) => Decision::Forward,
        (Access::Sensitive, SessionState::Authenticated { elevated: true }) => Decision::Forward,
        (Access::Sensitive, SessionState::Authenticated { elevated: false }) => {
            if navigation {
                Decision::Login {
                    location: login_redirect(&cfg.login_url, path_and_query, "", true),
                }
            } else {
                Decision::Reauthenticate
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg() -> Config {
        let m = HashMap::from([
            ("SESSION_SECRET", "s".repeat(32)),
            ("ORIGIN_SECRET", "o".repeat(32)),
            ("ASSERTION_ALG", "HS256".to_string()),
            ("PUBLIC_PATHS", "/login,/,/static/*".to_string()),
            ("SENSITIVE_PATHS", "POST /account/password,/payments/*".to_string()),
            ("IDLE_EXEMPT_PATHS", "/api/notifications,GET /api/poll/*".to_string()),
        ]);
        Config::from_lookup(|k| m.get(k).cloned()).unwrap()
    }

    #[test]
    fn idle_exempt_paths_do_not_count_as_activity() {
        let c = cfg();
        let r = |p: &str| vec![p.to_string()];
        assert!(!counts_as_activity(&c, "GET", &r("/api/notifications")));
        assert!(!counts_as_activity(&c, "POST", &r("/api/notifications")));
        assert!(!counts_as_activity(&c, "GET", &r("/api/poll/inbox")));
        // Method-scoped: a POST there is the user acting.
        assert!(counts_as_activity(&c, "POST", &r("/api/poll/inbox")));
        assert!(counts_as_activity(&c, "GET", &r("/api/notifications/x")));
        assert!(counts_as_activity(&c, "GET", &r("/app")));
        // Any reading that matches exempts it (not sliding is the safe side).
        assert!(!counts_as_activity(
            &c,
            "GET",
            &["/api/x".to_string(), "/api/notifications".to_string()]
        ));
        // Default: nothing is exempt.
        let plain = Config::from_lookup(|k| match k {
            "SESSION_SECRET" => Some("s".repeat(32)),
            "ORIGIN_SECRET" => Some("o".repeat(32)),
            "ASSERTION_ALG" => Some("HS256".into()),
            _ => None,
        })
        .unwrap();
        assert!(counts_as_activity(&plain, "GET", &r("/api/notifications")));
    }

    #[test]
    fn classification_is_deny_by_default() {
        let c = cfg();
        assert_eq!(classify(&c, "GET", "/"), Access::Public);
        assert_eq!(classify(&c, "GET", "/static/x.css"), Access::Public);
        assert_eq!(classify(&c, "GET", "/app"), Access::Protected);
        assert_eq!(classify(&c, "GET", "/account/password"), Access::Protected);
        assert_eq!(classify(&c, "POST", "/account/password"), Access::Sensitive);
        assert_eq!(classify(&c, "GET", "/payments/42"), Access::Sensitive);
    }

    fn strictest(c: &Config, methods: &[&str], readings: &[&str], format_stripped: &[&str]) -> Access {
        let mut m = Methods::new(methods[0]);
        for o in &methods[1..] {
            m.add_override(o);
        }
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (r, f) = (owned(readings), owned(format_stripped));
        classify_strictest(
            c,
            &Target {
                methods: &m,
                readings: &r,
                format_stripped: &f,
            },
        )
    }

    #[test]
    fn the_strictest_reading_wins() {
        let c = cfg();
        assert_eq!(strictest(&c, &["GET"], &["/static/..%2Fapp", "/app"], &[]), Access::Protected);
        assert_eq!(strictest(&c, &["GET"], &["/static/x", "/static/x"], &[]), Access::Public);
        assert_eq!(strictest(&c, &["GET"], &[], &[]), Access::Protected);
    }

    #[test]
    fn the_strictest_method_wins() {
        let c = cfg();
        assert_eq!(strictest(&c, &["GET"], &["/account/password"], &[]), Access::Protected);
        assert_eq!(strictest(&c, &["GET", "POST"], &["/account/password"], &[]), Access::Sensitive);
        assert_eq!(strictest(&c, &["PUT", "post"], &["/account/password"], &[]), Access::Sensitive);
    }

    #[test]
    fn an_unreadable_override_makes_every_method_scoped_pattern_apply() {
        let c = cfg();
        let mut m = Methods::new("GET");
        m.claim_any();
        let r = vec!["/account/password".to_string()];
        let target = Target {
            methods: &m,
            readings: &r,
            format_stripped: &[],
        };
        assert_eq!(classify_strictest(&c, &target), Access::Sensitive);
        let app = vec!["/app".to_string()];
        let target = Target {
            methods: &m,
            readings: &app,
            format_stripped: &[],
        };
        assert_eq!(classify_strictest(&c, &target), Access::Protected);
    }

    #[test]
    fn head_is_get_for_method_scoped_patterns() {
        let m = HashMap::from([
            ("SESSION_SECRET", "s".repeat(32)),
            ("ORIGIN_SECRET", "o".repeat(32)),
            ("ASSERTION_ALG", "HS256".to_string()),
            ("SENSITIVE_PATHS", "GET /reports/*".to_string()),
        ]);
        let c = Config::from_lookup(|k| m.get(k).cloned()).unwrap();
        assert_eq!(classify(&c, "HEAD", "/reports/q3"), Access::Sensitive);
        assert_eq!(classify(&c, "GET", "/reports/q3"), Access::Sensitive);
        assert_eq!(classify(&c, "POST", "/reports/q3"), Access::Protected);
    }

    #[test]
    fn format_stripped_readings_only_raise_to_sensitive() {
        let c = cfg();
        // `/payments.json` is `/payments` to a Rails origin.
        assert_eq!(strictest(&c, &["GET"], &["/payments.json"], &["/payments"]), Access::Sensitive);
        // A listed public file is not made protected by its stripped reading.
        assert_eq!(strictest(&c, &["GET"], &["/static/app.css"], &["/static/app"]), Access::Public);
        assert_eq!(strictest(&c, &["GET"], &["/"], &["/login"]), Access::Public);
    }

    #[test]
    fn decisions() {
        let c = cfg();
        let auth = SessionState::Authenticated { elevated: false };
        let elev = SessionState::Authenticated { elevated: true };
        assert_eq!(decide(&c, Access::Public, SessionState::StoreDown, true, "/"), Decision::Forward);
        assert_eq!(
            decide(&c, Access::Protected, SessionState::StoreDown, true, "/a"),
            Decision::StoreUnavailable
        );
        assert_eq!(decide(&c, Access::Protected, auth, false, "/a"), Decision::Forward);
        assert_eq!(
            decide(&c, Access::Protected, SessionState::Absent(Reason::IdleTimeout), true, "/a?b=1"),
            Decision::Login {
                location: "/login?return_to=/a%3Fb%3D1&reason=idle_timeout".into()
            }
        );
        assert_eq!(
            decide(&c, Access::Protected, SessionState::Absent(Reason::Revoked), false, "/a"),
            Decision::Unauthenticated { reason: Reason::Revoked }
        );
        assert_eq!(
            decide(&c, Access::Protected, SessionState::Anonymous, false, "/a"),
            Decision::Unauthenticated { reason: Reason::Missing }
        );
        assert_eq!(decide(&c, Access::Sensitive, auth, false, "/payments/1"), Decision::Reauthenticate);
        assert_eq!(
            decide(&c, Access::Sensitive, auth, true, "/payments/1"),
            Decision::Login {
                location: "/login?reauth=1&return_to=/payments/1".into()
            }
        );
        assert_eq!(decide(&c, Access::Sensitive, elev, false, "/payments/1"), Decision::Forward);
    }
}
