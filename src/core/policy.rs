//! The gate's decision for one request: forward, send to login, or refuse.

use super::client::login_redirect;
use super::config::Config;
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

/// Classifies every reading of a path and keeps the strictest (sensitive > protected >
/// public): a path that is public only under one reading is not public.
pub fn classify_strictest(cfg: &Config, method: &str, paths: &[&str]) -> Access {
    let rank = |a: Access| match a {
        Access::Public => 0,
        Access::Protected => 1,
        Access::Sensitive => 2,
    };
    paths
        .iter()
        .map(|p| classify(cfg, method, p))
        .max_by_key(|a| rank(*a))
        .unwrap_or(Access::Protected)
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
            ("PUBLIC_PATHS", "/login,/,/static/*".to_string()),
            ("SENSITIVE_PATHS", "POST /account/password,/payments/*".to_string()),
        ]);
        Config::from_lookup(|k| m.get(k).cloned()).unwrap()
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

    #[test]
    fn the_strictest_reading_wins() {
        let c = cfg();
        assert_eq!(classify_strictest(&c, "GET", &["/static/..%2Fapp", "/app"]), Access::Protected);
        assert_eq!(classify_strictest(&c, "GET", &["/static/x", "/static/x"]), Access::Public);
        assert_eq!(classify_strictest(&c, "GET", &[]), Access::Protected);
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
