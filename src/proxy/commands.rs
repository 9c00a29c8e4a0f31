//! The origin's `X-Session-Command` applied, one function per command. The whole list
//! was parsed and validated before (`core::command`), so a malformed command changes
//! nothing; each function leaves the session and the cookie change as the next one
//! needs them.

use crate::core::audit::{EndedBy, Regeneration};
use crate::core::command::{self, Command};
use crate::core::config::Config;
use crate::core::session::{self, IdpLink, Session};
use crate::core::token;
use crate::edge::cookie::CookieChange;
use crate::edge::request::Incoming;
use crate::edge::session_id::{self, new_token, Regenerated};
use crate::edge::session_object;
use crate::edge::validate::{live_from, Live};
use crate::platform;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use serde_json::{Map, Value};
use worker::Env;

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
    ApplyError::Store(StoreError::Unexpected(e.to_string()))
}

/// The session and the cookie change as the commands so far left them.
pub struct Applied {
    pub live: Option<Live>,
    pub cookie: CookieChange,
}

impl Applied {
    /// After a regeneration: the new ID in the cookie, or the session ended meanwhile.
    fn moved(&mut self, r: Regenerated, now: u64) -> Option<Live> {
        match r {
            Regenerated::Done(next, tok) => {
                self.cookie = CookieChange::set(tok, &next.session, now);
                self.live = Some(*next);
                self.live.clone()
            }
            Regenerated::Dead => {
                self.cookie = CookieChange::Clear;
                None
            }
        }
    }

    fn take(&mut self, action: &str) -> Result<Live, ApplyError> {
        self.live
            .take()
            .ok_or_else(|| ApplyError::Invalid(format!("{action} needs a session")))
    }
}

/// What every command needs from the request, and one clock reading for the whole list.
struct Ctx<'a> {
    env: &'a Env,
    cfg: &'a Config,
    inc: &'a Incoming,
    now: u64,
}

impl<'a> Ctx<'a> {
    /// The context of one request's commands, at the time they are applied.
    fn at_now(env: &'a Env, cfg: &'a Config, inc: &'a Incoming) -> Self {
        Ctx {
            env,
            cfg,
            inc,
            now: platform::now(),
        }
    }

    async fn call(&self, store_id: &[u8; 32], msg: &StoreRequest) -> Result<StoreResponse, StoreError> {
        session_object::call(self.env, self.cfg, store_id, msg).await
    }

    async fn regenerate(
        &self,
        cur: &Live,
        reason: Regeneration,
        roles: Option<Vec<String>>,
        elevate: bool,
    ) -> Result<Regenerated, StoreError> {
        session_id::regenerate(self.env, self.cfg, cur, reason, roles, elevate, &self.inc.client).await
    }
}

pub async fn apply(
    env: &Env,
    cfg: &Config,
    inc: &Incoming,
    cmds: Vec<Command>,
    live: Option<Live>,
    cookie: CookieChange,
) -> Result<Applied, ApplyError> {
    let signed_in = live.as_ref().is_some_and(|l| l.session.user.is_some());
    command::check_sequence(&cmds, signed_in).map_err(ApplyError::Invalid)?;
    let cx = Ctx::at_now(env, cfg, inc);
    let mut st = Applied { live, cookie };
    for cmd in cmds {
        match cmd {
            Command::Login {
                user,
                roles,
                data,
                persistent,
            } => login(&cx, &mut st, user, roles, data, persistent, None).await?,
            Command::SetData { data } => set_data(&cx, &mut st, data).await?,
            Command::Logout => logout(&cx, &mut st).await?,
            Command::Regenerate { reason, roles } => {
                let cur = st.take("regenerate")?;
                let r = cx.regenerate(&cur, reason.into(), roles, false).await?;
                st.moved(r, cx.now);
            }
            Command::Elevate => elevate(&cx, &mut st).await?,
            Command::LogoutOthers => logout_others(&cx, &mut st).await?,
            Command::LogoutAll => logout_all(&cx, &mut st).await?,
        }
    }
    Ok(st)
}

/// A new ID for an elevated session (the user just proved presence).
async fn elevate(cx: &Ctx<'_>, st: &mut Applied) -> Result<(), ApplyError> {
    let cur = st.take("elevate")?;
    let r = cx.regenerate(&cur, Regeneration::Elevation, None, true).await?;
    st.moved(r, cx.now);
    Ok(())
}

/// Edge sign-in's step-up: the `elevate` command's own path.
pub async fn elevate_from_idp(env: &Env, cfg: &Config, inc: &Incoming, live: Live, cookie: CookieChange) -> Result<Applied, ApplyError> {
    let cx = Ctx::at_now(env, cfg, inc);
    let mut st = Applied { live: Some(live), cookie };
    elevate(&cx, &mut st).await?;
    Ok(st)
}

/// What edge sign-in adds to a login: the provider link, and when the provider says the
/// user authenticated.
pub struct FromIdp {
    pub link: IdpLink,
    pub auth_time: Option<u64>,
}

/// Edge sign-in's session start: the `login` command's own path (a new ID, the request's
/// session dead at once, guest data carried over, never across users), with the provider
/// link on the new session.
pub async fn login_from_idp(
    env: &Env,
    cfg: &Config,
    inc: &Incoming,
    live: Option<Live>,
    cookie: CookieChange,
    l: IdpLogin,
) -> Result<Applied, ApplyError> {
    let cx = Ctx::at_now(env, cfg, inc);
    let mut st = Applied { live, cookie };
    login(&cx, &mut st, l.user, l.roles, l.data, false, Some(l.idp)).await?;
    Ok(st)
}

/// The session edge sign-in starts.
pub struct IdpLogin {
    pub user: String,
    pub roles: Vec<String>,
    pub data: Map<String, Value>,
    pub idp: FromIdp,
}

/// Always a new ID in the user's object; the request's session (if any) dies at once,
/// its data carried over unless it belonged to another user.
async fn login(
    cx: &Ctx<'_>,
    st: &mut Applied,
    user: String,
    roles: Vec<String>,
    data: Map<String, Value>,
    persistent: bool,
    idp: Option<FromIdp>,
) -> Result<(), ApplyError> {
    let store_id = session_object::user_store(cx.env, &user)?;
    let (tok, hash) = new_token(cx.cfg, &store_id).map_err(internal)?;
    let (mut carried, replaces) = match st.live.take() {
        Some(cur) => carry_over(cx, cur, &user, &store_id).await?,
        None => (Map::new(), None),
    };
    command::merge_data(&mut carried, &data);
    command::check_data(&carried, cx.cfg.session_data_max).map_err(ApplyError::Invalid)?;
    let mut session = new_session(cx, Some(user), roles, carried, persistent).map_err(internal)?;
    if let Some(idp) = idp {
        // The provider's word on when the user authenticated, never later than now.
        session.auth_time = idp.auth_time.map_or(cx.now, |t| t.min(cx.now));
        session.idp = Some(idp.link);
    }
    let msg = StoreRequest::Create {
        hash: hash.clone(),
        session: session.clone(),
        replaces,
        client: cx.inc.client.clone(),
    };
    match cx.call(&store_id, &msg).await? {
        StoreResponse::Done { .. } => {}
        other => {
            return Err(ApplyError::Store(StoreError::Unexpected(format!(
                "create answered {}",
                other.kind()
            ))))
        }
    }
    st.cookie = CookieChange::set(tok, &session, cx.now);
    st.live = Some(live_from(store_id, hash, session, cx.cfg));
    Ok(())
}

/// The data a login keeps from the request's session, and the hash the new session
/// replaces in the same object (a session in another object is taken out first).
async fn carry_over(cx: &Ctx<'_>, cur: Live, user: &str, store_id: &[u8; 32]) -> Result<(Map<String, Value>, Option<String>), ApplyError> {
    let same_owner = cur.session.user.is_none() || cur.session.user.as_deref() == Some(user);
    if cur.store_id == *store_id {
        let data = if same_owner { cur.session.data.clone() } else { Map::new() };
        return Ok((data, Some(cur.hash)));
    }
    let take = StoreRequest::Take {
        hash: cur.hash.clone(),
        client: cx.inc.client.clone(),
    };
    match cx.call(&cur.store_id, &take).await? {
        StoreResponse::Done { session: Some(old), .. } if same_owner && carries(&old, cx) => Ok((old.data, None)),
        _ => Ok((Map::new(), None)),
    }
}

/// A user's own earlier session carries its data; a guest session only to a login from
/// where it was started (`session::guest_data_carries`).
fn carries(old: &Session, cx: &Ctx<'_>) -> bool {
    old.user.is_some() || session::guest_data_carries(old, &cx.inc.client)
}

/// Merges into the session's data; with no session, starts a guest session (a cart).
async fn set_data(cx: &Ctx<'_>, st: &mut Applied, data: Map<String, Value>) -> Result<(), ApplyError> {
    let Some(cur) = st.live.as_mut() else {
        let store_id = session_object::guest_store(cx.env)?;
        let (tok, hash) = new_token(cx.cfg, &store_id).map_err(internal)?;
        let session = new_session(cx, None, vec![], data, false).map_err(internal)?;
        let msg = StoreRequest::Create {
            hash: hash.clone(),
            session: session.clone(),
            replaces: None,
            client: cx.inc.client.clone(),
        };
        cx.call(&store_id, &msg).await?;
        st.cookie = CookieChange::set(tok, &session, cx.now);
        st.live = Some(live_from(store_id, hash, session, cx.cfg));
        return Ok(());
    };
    let msg = StoreRequest::SetData {
        hash: cur.hash.clone(),
        data,
        max_bytes: cx.cfg.session_data_max,
    };
    match cx.call(&cur.store_id, &msg).await? {
        StoreResponse::Done { session: Some(s), .. } => cur.session = s,
        StoreResponse::Invalid { detail } => return Err(ApplyError::Invalid(detail)),
        // Ended meanwhile (logout elsewhere): never brought back.
        _ => {
            st.live = None;
            st.cookie = CookieChange::Clear;
        }
    }
    Ok(())
}

async fn logout(cx: &Ctx<'_>, st: &mut Applied) -> Result<(), ApplyError> {
    if let Some(cur) = st.live.take() {
        let msg = StoreRequest::Destroy {
            hash: cur.hash,
            by: EndedBy::User,
            client: cx.inc.client.clone(),
        };
        cx.call(&cur.store_id, &msg).await?;
    }
    st.cookie = CookieChange::Clear;
    Ok(())
}

/// A new ID for this session too (after a password change the old one may be known to
/// whoever made the change necessary), then every other session of the user ends.
async fn logout_others(cx: &Ctx<'_>, st: &mut Applied) -> Result<(), ApplyError> {
    let cur = st.take("logout_others")?;
    let r = cx.regenerate(&cur, Regeneration::LogoutOthers, None, false).await?;
    if let Some(next) = st.moved(r, cx.now) {
        let msg = StoreRequest::DestroyAll {
            caller: Some(next.hash.clone()),
            except: Some(next.hash.clone()),
            by: EndedBy::LogoutOthers,
            client: cx.inc.client.clone(),
        };
        cx.call(&next.store_id, &msg).await?;
    }
    Ok(())
}

async fn logout_all(cx: &Ctx<'_>, st: &mut Applied) -> Result<(), ApplyError> {
    if let Some(cur) = st.live.take() {
        let msg = StoreRequest::DestroyAll {
            caller: None,
            except: None,
            by: EndedBy::LogoutAll,
            client: cx.inc.client.clone(),
        };
        cx.call(&cur.store_id, &msg).await?;
    }
    st.cookie = CookieChange::Clear;
    Ok(())
}

/// A fresh session bound to this client; `user` is `None` for a guest.
fn new_session(
    cx: &Ctx<'_>,
    user: Option<String>,
    roles: Vec<String>,
    data: Map<String, Value>,
    persistent: bool,
) -> worker::Result<Session> {
    let now = cx.now;
    let client = &cx.inc.client;
    Ok(Session {
        handle: token::handle(&platform::random::<16>()?),
        user,
        roles,
        data,
        created_at: now,
        auth_time: now,
        last_seen: now,
        absolute_expiry: now + cx.cfg.absolute_timeout,
        elevated_until: None,
        login_ip: client.ip.clone(),
        login_ua: client.ua.clone(),
        last_ip: client.ip.clone(),
        last_ua: client.ua.clone(),
        flagged: false,
        via_http: !cx.inc.https,
        persistent,
        idp: None,
        device: None,
    })
}
