//! Step 2: validate the session cookie. The HMAC tag is checked first, so a forged or
//! altered token costs no storage access; a genuine one costs one Durable Object call.

use super::parse::{CookieValue, Incoming};
use super::store;
use crate::core::audit::{AuditEvent, EventKind, Regeneration};
use crate::core::config::Config;
use crate::core::policy::SessionState;
use crate::core::session::{Client, Expiry, Reason, Session, Timeouts};
use crate::core::token;
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
    pub binding: String,
    pub bind_claim: Option<String>,
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

pub struct Validation {
    pub state: SessionState,
    pub live: Option<Live>,
    /// A cookie was sent but is not valid: the response clears it.
    pub clear_cookie: bool,
    /// The session got a new ID on the way (HTTP -> HTTPS, or key rotation).
    pub new_token: Option<String>,
}

impl Validation {
    fn absent(reason: Reason, clear_cookie: bool) -> Self {
        Validation {
            state: SessionState::Absent(reason),
            live: None,
            clear_cookie,
            new_token: None,
        }
    }
}

pub fn log_event(e: &AuditEvent) {
    worker::console_log!("{}", e.log_line());
}

thread_local! {
    // (second, lines written in it, lines suppressed) for events anyone can trigger.
    static FLOOD: std::cell::Cell<(u64, u32, u32)> = const { std::cell::Cell::new((0, 0, 0)) };
}

/// Events that anyone can trigger for free (a forged cookie, a cross-site POST) are
/// logged at most `PER_SECOND` times a second per isolate, so an attacker cannot flood
/// the log stream; the next line written says how many were suppressed.
pub fn log_untrusted_event(mut e: AuditEvent) {
    const PER_SECOND: u32 = 20;
    let now = platform::now();
    let written = FLOOD.with(|f| {
        let (sec, n, dropped) = f.get();
        if sec != now {
            f.set((now, 1, 0));
            Some(dropped)
        } else if n < PER_SECOND {
            f.set((sec, n + 1, 0));
            Some(dropped)
        } else {
            f.set((sec, n, dropped + 1));
            None
        }
    });
    if let Some(dropped) = written {
        if dropped > 0 {
            e.reason = Some(format!("{} (+{dropped} similar events suppressed)", e.reason.unwrap_or_default()));
        }
        log_event(&e);
    }
}

/// A new token in the given object, signed with the current key, and its storage hash.
pub fn new_token(cfg: &Config, store_id: &[u8; 32]) -> worker::Result<(String, String)> {
    let secret = platform::random::<32>()?;
    Ok((
        token::mint(store_id, &secret, cfg.session_secret.bytes()),
        token::storage_hash(&secret),
    ))
}

pub fn live_from(store_id: [u8; 32], hash: String, session: Session, cfg: &Config) -> Live {
    let expiry = Expiry::of(&session, session.last_seen, &Timeouts::from_config(cfg));
    Live {
        store_id,
        hash,
        session,
        expiry,
        binding: "ok".into(),
        bind_claim: None,
    }
}

pub enum Regenerated {
    Done(Box<Live>, String),
    Dead,
}

/// Moves a live session to a fresh ID; the old one is dead once this returns.
pub async fn regenerate(
    env: &Env,
    cfg: &Config,
    live: &Live,
    reason: Regeneration,
    roles: Option<Vec<String>>,
    elevate: bool,
    client: &Client,
) -> Result<Regenerated, StoreError> {
    let (tok, hash) = new_token(cfg, &live.store_id).map_err(StoreError::backend)?;
    let msg = StoreRequest::Regenerate {
        old_hash: live.hash.clone(),
        new_hash: hash.clone(),
        reason,
        roles,
        elevate,
        client: client.clone(),
    };
    match store::call(env, &live.store_id, &msg, cfg.store_timeout_ms).await? {
        StoreResponse::Done { session: Some(s), .. } => {
            let mut next = live_from(live.store_id, hash, s, cfg);
            next.binding = live.binding.clone();
            next.bind_claim = live.bind_claim.clone();
            Ok(Regenerated::Done(Box::new(next), tok))
        }
        StoreResponse::Rejected { .. } => Ok(Regenerated::Dead),
        other => Err(StoreError::Unexpected(format!("{other:?}"))),
    }
}

pub async fn validate(env: &Env, cfg: &Config, inc: &Incoming, slide: bool) -> Validation {
    let raw = match &inc.session_cookie {
        CookieValue::Absent => return Validation::absent(Reason::Missing, false),
        CookieValue::Several => return Validation::absent(Reason::Invalid, true),
        CookieValue::One(v) => v,
    };
    let verified = match token::verify(raw, &cfg.token_keys()) {
        Ok(t) => t,
        Err(e) => {
            log_untrusted_event(
                AuditEvent::new(platform::now(), EventKind::ForgedToken)
                    .reason(e.as_str())
                    .client(&inc.client.ip, &inc.client.ua),
            );
            return Validation::absent(Reason::Invalid, true);
        }
    };
    // Signed by us but naming an object this deployment does not have (another
    // environment sharing the key, a renamed class): invalid, not a store outage.
    let stub = match store::stub(env, &verified.store_id) {
        Ok(Some(stub)) => Ok(stub),
        Ok(None) => return Validation::absent(Reason::Invalid, true),
        Err(e) => Err(e),
    };
    let hash = verified.storage_hash();
    let msg = StoreRequest::Validate {
        hash: hash.clone(),
        client: inc.client.clone(),
        slide,
    };
    let result = match stub {
        Ok(stub) => store::call_stub(stub, &msg, cfg.store_timeout_ms).await,
        Err(e) => Err(e),
    };
    let answer = match result {
        Ok(a) => a,
        Err(e) => {
            worker::console_error!(
                "{}",
                serde_json::json!({"sessiongate": "store_unavailable", "detail": e.to_string()})
            );
            return Validation {
                state: SessionState::StoreDown,
                live: None,
                clear_cookie: false,
                new_token: None,
            };
        }
    };
    let live = match answer {
        StoreResponse::Valid {
            session,
            expiry,
            binding,
            bind_claim,
            new_id_required,
        } => {
            let live = Live {
                store_id: verified.store_id,
                hash,
                session,
                expiry,
                binding,
                bind_claim,
            };
            // A token under the retired key is re-signed under the current one: same
            // secret, same storage hash, so parallel requests with either token agree.
            if verified.key_index > 0 && !new_id_required {
                let token = token::mint(&verified.store_id, &verified.secret, cfg.session_secret.bytes());
                return Validation {
                    state: live.state(platform::now()),
                    live: Some(live),
                    clear_cookie: false,
                    new_token: Some(token),
                };
            }
            // Plain HTTP -> HTTPS: the ID may have been seen on the wire, so a fresh one.
            if new_id_required {
                return match regenerate(env, cfg, &live, Regeneration::HttpsUpgrade, None, false, &inc.client).await {
                    Ok(Regenerated::Done(next, tok)) => Validation {
                        state: next.state(platform::now()),
                        live: Some(*next),
                        clear_cookie: false,
                        new_token: Some(tok),
                    },
                    // A parallel request moved it first: this one validated before that
                    // move, so it goes through as it was, and leaves the cookie alone.
                    Ok(Regenerated::Dead) => Validation {
                        state: live.state(platform::now()),
                        live: Some(live),
                        clear_cookie: false,
                        new_token: None,
                    },
                    Err(_) => Validation {
                        state: SessionState::StoreDown,
                        live: None,
                        clear_cookie: false,
                        new_token: None,
                    },
                };
            }
            live
        }
        // The contract: a cookie that was sent but is not valid is cleared, even for an ID
        // that was replaced (the new cookie of a parallel response may race this clear).
        StoreResponse::Rejected { reason, .. } => return Validation::absent(reason, true),
        other => {
            worker::console_error!(
                "{}",
                serde_json::json!({"sessiongate": "store_unexpected", "detail": format!("{other:?}")})
            );
            return Validation {
                state: SessionState::StoreDown,
                live: None,
                clear_cookie: false,
                new_token: None,
            };
        }
    };
    Validation {
        state: live.state(platform::now()),
        live: Some(live),
        clear_cookie: false,
        new_token: None,
    }
}
