//! The session cookie checked. The HMAC tag is checked first, so a forged or altered
//! token costs no storage access; a genuine one costs one Durable Object call.

use super::log;
use super::request::Incoming;
use super::session_id::{self, Regenerated};
use super::session_object;
use crate::core::audit::{AuditEvent, EventKind, Regeneration};
use crate::core::config::Config;
use crate::core::cookie::SessionCookie;
use crate::core::policy::SessionState;
use crate::core::session::{BindingChange, Expiry, Reason, Session, Timeouts};
use crate::core::token::{self, VerifiedToken};
use crate::platform;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use worker::Env;

/// A validated, live session.
#[derive(Debug, Clone)]
pub struct Live {
    pub store_id: [u8; 32],
    pub hash: String,
    pub session: Session,
    pub expiry: Expiry,
    pub binding: BindingChange,
}

impl Live {
    pub fn state(&self, now: u64) -> SessionState {
        if self.session.user.is_some() {
            SessionState::Authenticated {
                elevated: self.session.is_elevated(now),
            }
        } else {
            SessionState::Anonymous
        }
    }
}

/// What validation found; each variant carries exactly what it means.
// One value per request, moved twice: boxing `Live` would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Validation {
    /// No cookie was sent (or, on STATIC_PATHS, none was read): nothing to clear.
    NoCookie,
    /// A cookie was sent but is not valid for this reason: the response clears it.
    Invalid(Reason),
    /// The session store failed or did not answer in time.
    StoreDown,
    /// A live session; `new_token` when it got a new ID on the way (HTTP -> HTTPS, or a
    /// token under the retired key re-signed under the current one).
    Valid { live: Live, new_token: Option<String> },
}

impl Validation {
    pub fn state(&self, now: u64) -> SessionState {
        match self {
            Validation::NoCookie => SessionState::Absent(Reason::Missing),
            Validation::Invalid(reason) => SessionState::Absent(*reason),
            Validation::StoreDown => SessionState::StoreDown,
            Validation::Valid { live, .. } => live.state(now),
        }
    }

    pub fn live(&self) -> Option<&Live> {
        match self {
            Validation::Valid { live, .. } => Some(live),
            _ => None,
        }
    }

    pub fn into_live(self) -> Option<Live> {
        match self {
            Validation::Valid { live, .. } => Some(live),
            _ => None,
        }
    }

    fn valid(live: Live) -> Self {
        Validation::Valid { live, new_token: None }
    }
}

pub fn live_from(store_id: [u8; 32], hash: String, session: Session, cfg: &Config) -> Live {
    let expiry = Expiry::of(&session, session.last_seen, &Timeouts::from_config(cfg));
    Live {
        store_id,
        hash,
        session,
        expiry,
        binding: BindingChange::Unchanged,
    }
}

/// The session cookie checked, and for a device-bound session its device cookie too
/// (`Reason::DeviceProofRequired` without a good one).
pub async fn validate(env: &Env, cfg: &Config, inc: &Incoming, slide: bool) -> Validation {
    let raw = match &inc.session_cookie {
        SessionCookie::Absent => return Validation::NoCookie,
        SessionCookie::Several(values) => match one_session(cfg, inc, values) {
            Ok(v) => v,
            Err(reason) => return Validation::Invalid(reason),
        },
        SessionCookie::One(v) => v,
    };
    let verified = match token::verify_keyed(raw, cfg.token_macs()) {
        Ok(t) => t,
        Err(e) => {
            log::untrusted_event(
                AuditEvent::new(platform::now(), EventKind::ForgedToken)
                    .reason(e.as_str())
                    .client(&inc.client.ip, &inc.client.ua),
            );
            return Validation::Invalid(Reason::Invalid);
        }
    };
    // The key the object knows the session by, computed once (a SHA-256 each time).
    let hash = verified.storage_hash();
    let answer = match ask_object(env, cfg, inc, &verified, &hash, slide).await {
        Ok(Some(a)) => a,
        // Signed by us but naming an object this deployment does not have (another
        // environment sharing the key, a renamed class): invalid, not a store outage.
        Ok(None) => return Validation::Invalid(Reason::Invalid),
        Err(e) => {
            log::failure("store_unavailable", &e.to_string());
            return Validation::StoreDown;
        }
    };
    match answer {
        StoreResponse::Valid {
            session,
            expiry,
            binding,
            new_id_required,
        } => {
            // Before any renewal: a request that cannot prove the device changes nothing.
            if !super::dbsc::proven(cfg, inc.cookie_header.as_deref(), &session, platform::now()) {
                return Validation::Invalid(Reason::DeviceProofRequired);
            }
            let live = Live {
                store_id: verified.store_id,
                hash,
                session,
                expiry,
                binding,
            };
            renew(env, cfg, inc, &verified, live, new_id_required).await
        }
        // The contract: a cookie that was sent but is not valid is cleared, even for an ID
        // that was replaced (the new cookie of a parallel response may race this clear).
        StoreResponse::Rejected { reason, .. } => Validation::Invalid(reason),
        other => {
            log::failure("store_unexpected", other.kind());
            Validation::StoreDown
        }
    }
}

/// The one value to validate among several of the gate's cookie. Values that are not
/// ours are ignored; those that are must all name the same session. Two sessions mean a
/// cookie planted beside the user's (a sibling host under `COOKIE_DOMAIN`, a more
/// specific `Path`): `AmbiguousSession`, logged, and neither cleared (clearing one may
/// leave the planted one in place and the user signed in as its owner).
fn one_session<'a>(cfg: &Config, inc: &Incoming, values: &'a [String]) -> Result<&'a str, Reason> {
    let mut ours = values.iter().filter_map(|v| {
        token::verify_keyed(v, cfg.token_macs())
            .ok()
            .map(|t| (v.as_str(), t.storage_hash()))
    });
    let Some((first, hash)) = ours.next() else {
        return Err(Reason::Invalid);
    };
    if ours.all(|(_, h)| h == hash) {
        return Ok(first);
    }
    log::untrusted_event(
        AuditEvent::new(platform::now(), EventKind::AmbiguousSession)
            .reason(format!("{} values of the session cookie", values.len()))
            .client(&inc.client.ip, &inc.client.ua),
    );
    Err(Reason::AmbiguousSession)
}

/// The one Durable Object call of a validation; `None` when the object does not exist here.
async fn ask_object(
    env: &Env,
    cfg: &Config,
    inc: &Incoming,
    verified: &VerifiedToken,
    hash: &str,
    slide: bool,
) -> Result<Option<StoreResponse>, StoreError> {
    let msg = StoreRequest::Validate {
        hash: hash.to_string(),
        client: inc.client.clone(),
        slide,
    };
    session_object::ask(env, cfg, &verified.store_id, &msg).await
}

/// A valid session whose token must change on the way: re-signed under the current key
/// (same secret, same storage hash, so parallel requests with either token agree), or a
/// new ID after plain HTTP (the old one may have been seen on the wire).
async fn renew(env: &Env, cfg: &Config, inc: &Incoming, verified: &VerifiedToken, live: Live, new_id_required: bool) -> Validation {
    if new_id_required {
        return match session_id::regenerate(env, cfg, &live, Regeneration::HttpsUpgrade, None, false, &inc.client).await {
            Ok(Regenerated::Done(next, tok)) => Validation::Valid {
                live: *next,
                new_token: Some(tok),
            },
            // A parallel request moved it first: this one validated before that move, so
            // it goes through as it was, and leaves the cookie alone.
            Ok(Regenerated::Dead) => Validation::valid(live),
            Err(_) => Validation::StoreDown,
        };
    }
    if verified.key_index > 0 {
        let token = token::mint(&verified.store_id, &verified.secret, cfg.session_secret.bytes());
        return Validation::Valid {
            live,
            new_token: Some(token),
        };
    }
    Validation::valid(live)
}
