//! Where the gate's cookie is set or cleared: every response that changes it goes
//! through `CookieChange` and `stamp_edits`, which also add the expiry headers a
//! response to a live session carries.

use super::io::Edits;
use super::validate::{Live, Validation};
use crate::core::config::Config;
use crate::core::cookie;
use crate::core::session::{Reason, Session};
use crate::platform;
use worker::Headers;

/// What a response does to the gate's cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieChange {
    Keep,
    Set { token: String, max_age: Option<u64> },
    Clear,
}

impl CookieChange {
    /// What validation itself asks for: a re-issued token, or clearing a dead cookie.
    pub fn after(v: &Validation) -> Self {
        match v {
            Validation::Valid {
                live,
                new_token: Some(token),
            } => CookieChange::set(token.clone(), &live.session, platform::now()),
            // Which of several values is the user's is unknown: clear none. A device-bound
            // session without its device cookie lives on: the browser holding its key
            // renews the cookie.
            Validation::Invalid(Reason::AmbiguousSession | Reason::DeviceProofRequired) => CookieChange::Keep,
            Validation::Invalid(_) => CookieChange::Clear,
            _ => CookieChange::Keep,
        }
    }

    /// The cookie for `session`'s (new) token: a browser-session cookie, or the
    /// session's remaining absolute life at `now` when it is persistent (the `now` the
    /// session was created with, so a new session's cookie lives exactly as long).
    pub fn set(token: String, session: &Session, now: u64) -> Self {
        CookieChange::Set {
            token,
            max_age: session.persistent.then(|| session.absolute_expiry.saturating_sub(now)),
        }
    }
}

/// Adds the cookie change and, with a live session, the expiry headers to the gate's own
/// response.
pub fn stamp(out: &Headers, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) -> worker::Result<()> {
    let mut edits = Edits::default();
    stamp_edits(&mut edits, cfg, live, cookie);
    edits.apply_to(out)
}

/// The same as header edits, for a response that is finished in one `io` call.
pub fn stamp_edits(out: &mut Edits, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) {
    match cookie {
        CookieChange::Keep => {}
        CookieChange::Set { token, max_age } => out.append(
            "set-cookie",
            &cookie::set(&cfg.cookie_name, &cfg.cookie_scope, token, cfg.cookie_samesite, *max_age),
        ),
        CookieChange::Clear => out.append(
            "set-cookie",
            &cookie::clear(&cfg.cookie_name, &cfg.cookie_scope, cfg.cookie_samesite),
        ),
    }
    if let (CookieChange::Set { .. }, Some(l)) = (cookie, live) {
        // A new session cookie: the moment to offer binding it to the device.
        super::dbsc::offer(out, cfg, l);
    }
    if let Some(l) = live {
        let now = platform::now();
        out.set("x-session-expires-in", &l.expiry.expires_in(now).to_string());
        if let Some(w) = l.expiry.warning(now, cfg.warning_window) {
            out.set("x-session-warning", w.as_str());
        }
        if cookie != &CookieChange::Keep {
            out.set("cache-control", "no-store");
        }
    }
}
