//! Step 5: apply the origin's `X-Session-Command`, then finish the response: strip the
//! command and any `X-Session-*` / gate cookie the origin set, add the gate's cookie
//! and the expiry headers.

use super::io::{self, Edits, RawResponse};
use super::parse::Incoming;
use super::store;
use super::validate::{live_from, new_token, regenerate, Live, Regenerated, Validation};
use crate::core::audit::{EndedBy, Regeneration};
use crate::core::command::{self, Command};
use crate::core::config::Config;
use crate::core::cookie;
use crate::core::headers::is_reserved;
use crate::core::session::Session;
use crate::core::token;
use crate::platform;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use serde_json::Map;
use worker::{web_sys, Env, Headers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieChange {
    Keep,
    Set { token: String, max_age: Option<u64> },
    Clear,
}

pub enum ApplyError {
    /// 502 `invalid_origin_command`.
    Invalid(String),
    /// 503 `store_unavailable`.
    Store(StoreError),
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        ApplyError::Store(e)
    }
}

fn internal(e: worker::Error) -> ApplyError {
    ApplyError::Store(StoreError::backend(e))
}

/// A fresh session bound to this client; `user` is `None` for a guest.
fn new_session(
    inc: &Incoming,
    cfg: &Config,
    now: u64,
    user: Option<String>,
    roles: Vec<String>,
    data: Map<String, serde_json::Value>,
    persistent: bool,
) -> worker::Result<Session> {
    Ok(Session {
        handle: token::handle(&platform::random::<16>()?),
        user,
        roles,
        data,
        created_at: now,
        auth_time: now,
        last_seen: now,
        absolute_expiry: now + cfg.absolute_timeout,
        elevated_until: None,
        login_ip: inc.client.ip.clone(),
        login_ua: inc.client.ua.clone(),
        last_ip: inc.client.ip.clone(),
        last_ua: inc.client.ua.clone(),
        flagged: false,
        via_http: !inc.https,
        persistent,
    })
}

impl CookieChange {
    /// What validation itself asks for: a re-issued token, or clearing a dead cookie.
    pub fn after(v: &Validation) -> Self {
        match (&v.new_token, v.clear_cookie) {
            (Some(token), _) => CookieChange::Set {
                token: token.clone(),
                max_age: v.live.as_ref().and_then(|l| max_age(&l.session, platform::now())),
            },
            (None, true) => CookieChange::Clear,
            (None, false) => CookieChange::Keep,
        }
    }
}

/// Cookie lifetime: a browser-session cookie, or the session's remaining absolute life.
fn max_age(s: &Session, now: u64) -> Option<u64> {
    s.persistent.then(|| s.absolute_expiry.saturating_sub(now))
}

pub struct Applied {
    pub live: Option<Live>,
    pub cookie: CookieChange,
}

pub async fn apply(
    env: &Env,
    cfg: &Config,
    inc: &Incoming,
    cmds: Vec<Command>,
    mut live: Option<Live>,
    mut cookie: CookieChange,
) -> Result<Applied, ApplyError> {
    let signed_in = live.as_ref().is_some_and(|l| l.session.user.is_some());
    command::check_sequence(&cmds, signed_in).map_err(ApplyError::Invalid)?;
    let now = platform::now();
    let t = cfg.store_timeout_ms;
    for cmd in cmds {
        match cmd {
            Command::Login {
                user,
                roles,
                data,
                persistent,
            } => {
                let store_id = store::user_store(env, &user)?;
                let (tok, hash) = new_token(cfg, &store_id).map_err(internal)?;
                let mut carried = Map::new();
                let mut replaces = None;
                if let Some(cur) = live.take() {
                    let same_owner = cur.session.user.is_none() || cur.session.user.as_deref() == Some(user.as_str());
                    if cur.store_id == store_id {
                        replaces = Some(cur.hash.clone());
                        if same_owner {
                            carried = cur.session.data.clone();
                        }
                    } else {
                        // Another object: take the old session out first (it dies now) and
                        // carry its latest data, if it may be carried.
                        let taken = store::call(
                            env,
                            &cur.store_id,
                            &StoreRequest::Take {
                                hash: cur.hash.clone(),
                                client: inc.client.clone(),
                            },
                            t,
                        )
                        .await?;
                        if let (StoreResponse::Done { session: Some(old), .. }, true) = (taken, same_owner) {
                            carried = old.data;
                        }
                    }
                }
                command::merge_data(&mut carried, &data);
                command::check_data(&carried, cfg.session_data_max).map_err(ApplyError::Invalid)?;
                let session = new_session(inc, cfg, now, Some(user), roles, carried, persistent).map_err(internal)?;
                let msg = StoreRequest::Create {
                    hash: hash.clone(),
                    session: session.clone(),
                    replaces,
                    client: inc.client.clone(),
                };
                match store::call(env, &store_id, &msg, t).await? {
                    StoreResponse::Done { .. } => {}
                    other => return Err(ApplyError::Store(StoreError::Unexpected(format!("create answered {other:?}")))),
                }
                cookie = CookieChange::Set {
                    token: tok,
                    max_age: max_age(&session, now),
                };
                live = Some(live_from(store_id, hash, session, cfg));
            }
            Command::SetData { data } => match live.as_mut() {
                Some(cur) => {
                    let msg = StoreRequest::SetData {
                        hash: cur.hash.clone(),
                        data,
                        max_bytes: cfg.session_data_max,
                    };
                    match store::call(env, &cur.store_id, &msg, t).await? {
                        StoreResponse::Done { session: Some(s), .. } => cur.session = s,
                        StoreResponse::Invalid { detail } => return Err(ApplyError::Invalid(detail)),
                        // Ended meanwhile (logout elsewhere): never brought back.
                        _ => {
                            live = None;
                            cookie = CookieChange::Clear;
                        }
                    }
                }
                None => {
                    let store_id = store::guest_store(env)?;
                    let (tok, hash) = new_token(cfg, &store_id).map_err(internal)?;
                    let session = new_session(inc, cfg, now, None, vec![], data, false).map_err(internal)?;
                    let msg = StoreRequest::Create {
                        hash: hash.clone(),
                        session: session.clone(),
                        replaces: None,
                        client: inc.client.clone(),
                    };
                    store::call(env, &store_id, &msg, t).await?;
                    cookie = CookieChange::Set { token: tok, max_age: None };
                    live = Some(live_from(store_id, hash, session, cfg));
                }
            },
            Command::Logout => {
                if let Some(cur) = live.take() {
                    let msg = StoreRequest::Destroy {
                        hash: cur.hash,
                        by: EndedBy::User,
                        client: inc.client.clone(),
                    };
                    store::call(env, &cur.store_id, &msg, t).await?;
                }
                cookie = CookieChange::Clear;
            }
            Command::Regenerate { reason, roles } => {
                let cur = live
                    .take()
                    .ok_or_else(|| ApplyError::Invalid("regenerate needs a session".into()))?;
                match regenerate(env, cfg, &cur, reason.into(), roles, false, &inc.client).await? {
                    Regenerated::Done(next, tok) => {
                        cookie = CookieChange::Set {
                            token: tok,
                            max_age: max_age(&next.session, now),
                        };
                        live = Some(*next);
                    }
                    Regenerated::Dead => cookie = CookieChange::Clear,
                }
            }
            Command::Elevate => {
                let cur = live.take().ok_or_else(|| ApplyError::Invalid("elevate needs a session".into()))?;
                match regenerate(env, cfg, &cur, Regeneration::Elevation, None, true, &inc.client).await? {
                    Regenerated::Done(next, tok) => {
                        cookie = CookieChange::Set {
                            token: tok,
                            max_age: max_age(&next.session, now),
                        };
                        live = Some(*next);
                    }
                    Regenerated::Dead => cookie = CookieChange::Clear,
                }
            }
            Command::LogoutOthers => {
                // A new ID for this session too (after a password change the old one may
                // be known to whoever made the change necessary), then end every other.
                let cur = live
                    .take()
                    .ok_or_else(|| ApplyError::Invalid("logout_others needs a session".into()))?;
                match regenerate(env, cfg, &cur, Regeneration::LogoutOthers, None, false, &inc.client).await? {
                    Regenerated::Done(next, tok) => {
                        let msg = StoreRequest::DestroyAll {
                            caller: Some(next.hash.clone()),
                            except: Some(next.hash.clone()),
                            by: EndedBy::LogoutOthers,
                            client: inc.client.clone(),
                        };
                        store::call(env, &next.store_id, &msg, t).await?;
                        cookie = CookieChange::Set {
                            token: tok,
                            max_age: max_age(&next.session, now),
                        };
                        live = Some(*next);
                    }
                    Regenerated::Dead => cookie = CookieChange::Clear,
                }
            }
            Command::LogoutAll => {
                if let Some(cur) = live.take() {
                    let msg = StoreRequest::DestroyAll {
                        caller: None,
                        except: None,
                        by: EndedBy::LogoutAll,
                        client: inc.client.clone(),
                    };
                    store::call(env, &cur.store_id, &msg, t).await?;
                }
                cookie = CookieChange::Clear;
            }
        }
    }
    Ok(Applied { live, cookie })
}

/// The origin's response with the gate's changes (applied in one call, see `io`).
pub fn finish(
    resp: web_sys::Response,
    raw: &RawResponse,
    cfg: &Config,
    https: bool,
    live: Option<&Live>,
    cookie: &CookieChange,
) -> web_sys::Response {
    let mut out = Edits::default();
    for name in raw.names.iter().filter(|n| is_reserved(n)) {
        out.drop(name);
    }
    // The origin may set its own cookies, never the gate's.
    let theirs = |sc: &&String| cookie::set_cookie_name(sc) != cfg.cookie_name;
    let replace = (!raw.set_cookies.iter().all(|sc| theirs(&sc))).then(|| raw.set_cookies.iter().filter(theirs).cloned().collect());
    stamp_edits(&mut out, cfg, live, cookie);
    // With HTTPS required, tell browsers never to try plain HTTP (unless the origin set it).
    if https && cfg.require_https && !raw.names.iter().any(|n| n == "strict-transport-security") {
        out.set("strict-transport-security", "max-age=31536000");
    }
    io::finish(resp, &out, replace)
}

/// Adds the gate's cookie change and, with a live session, the expiry headers.
pub fn stamp(out: &Headers, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) -> worker::Result<()> {
    let mut edits = Edits::default();
    stamp_edits(&mut edits, cfg, live, cookie);
    edits.apply_to(out)
}

fn stamp_edits(out: &mut Edits, cfg: &Config, live: Option<&Live>, cookie: &CookieChange) {
    match cookie {
        CookieChange::Keep => {}
        CookieChange::Set { token, max_age } => {
            out.append("set-cookie", &cookie::set(&cfg.cookie_name, token, cfg.cookie_samesite, *max_age))
        }
        CookieChange::Clear => out.append("set-cookie", &cookie::clear(&cfg.cookie_name, cfg.cookie_samesite)),
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
