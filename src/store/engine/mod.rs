//! Applies the session rules to a `Store`. One call = one request to a Durable Object,
//! run without awaiting, so it is atomic with respect to every other call.
//!
//! `Engine` holds what outlives a call (the store, the policy, recent activity); a
//! `Call` is one request being applied, with its clock and the audit events it writes,
//! and has one method per kind of store request.

pub use super::policy::Policy;
use super::protocol::{Request, Response, SessionSummary, StoredEvent};
use super::{Store, StoreError, StoreResult};
use crate::core::audit::{AuditEvent, EndedBy, EventKind, Regeneration};
use crate::core::command::{check_data, merge_data};
use crate::core::session::{check_binding, Binding, Client, Expiry, Reason, Session, Timeouts};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// The session rules over one object's storage.
pub struct Engine<S: Store> {
    /// The object's storage (SQLite behind a cache in the Durable Object).
    pub store: S,
    /// The rules, from the gate's configuration; replaced when a call brings another
    /// (a redeployed gate), between calls, never during one.
    policy: Cell<Policy>,
    /// Activity newer than the stored `last_seen` (which is written at most once per
    /// slide interval). Lost if the object is evicted, so idle expiry is exact to
    /// within one slide interval, and exact while the object stays in memory.
    recent: RefCell<HashMap<String, u64>>,
    /// What the calls since the last `take_connection_changes` did to sessions that live
    /// connections may follow (see `ConnectionChange`).
    changes: RefCell<Vec<ConnectionChange>>,
}

/// What live connections (WebSockets, streams) of a session must learn from a call.
/// Recorded where it happens (`Engine::ended`, a login over a session), taken by the
/// Durable Object after every call and alarm, which pushes it to the connections
/// (`objects::SessionStore::end_connections`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionChange {
    /// The session ended: its connections close with this reason. A regeneration is not
    /// an end (the session lives on under the same handle).
    Ended {
        /// The session's public handle.
        handle: String,
        /// Its user, for the audit event.
        user: Option<String>,
        /// As in the 401 body.
        reason: Reason,
    },
    /// A login replaced the session by a new one in the same object: its connections
    /// follow the new handle.
    Moved {
        /// The replaced session's handle.
        from: String,
        /// The new session's handle.
        to: String,
    },
}

/// What an engine call produced: the answer and the audit events it wrote.
pub struct Outcome {
    /// The reply to the gate.
    pub response: Response,
    /// Audit events written by this call, to be logged too.
    pub events: Vec<AuditEvent>,
}

/// Why a request stops before it has done its work.
enum Halt {
    /// The session it acts on (or on whose behalf it acts) is not live: the request is
    /// answered `Rejected`, and the call still succeeds (with its audit events).
    Rejected { reason: Reason, replaced: bool },
    /// Storage failed: the whole call fails.
    Store(StoreError),
}

impl From<StoreError> for Halt {
    fn from(e: StoreError) -> Self {
        Halt::Store(e)
    }
}

/// A request's result before `Halt::Rejected` becomes an answer.
type Step<T> = Result<T, Halt>;

/// The event of a session that timed out (`Expiry::check` fails with the two timeouts only).
fn timed_out(reason: Reason) -> EventKind {
    match reason {
        Reason::AbsoluteTimeout => EventKind::AbsoluteTimeout,
        _ => EventKind::IdleTimeout,
    }
}

fn event(now: u64, kind: EventKind, s: &Session, client: Option<&Client>) -> AuditEvent {
    let mut e = AuditEvent::new(now, kind);
    e.user = s.user.clone();
    e.session = Some(s.handle.clone());
    match client {
        Some(c) => e.client(&c.ip, &c.ua),
        None => e.client(&s.last_ip, &s.last_ua),
    }
}

impl<S: Store> Engine<S> {
    /// An engine over `store` with no recent activity in memory.
    pub fn new(store: S, policy: Policy) -> Self {
        Engine {
            store,
            policy: Cell::new(policy),
            recent: RefCell::new(HashMap::new()),
            changes: RefCell::new(Vec::new()),
        }
    }

    /// The rules in force.
    pub fn policy(&self) -> Policy {
        self.policy.get()
    }

    /// Applies the rules a call brought (the gate's configuration may have changed).
    pub fn set_policy(&self, policy: Policy) {
        self.policy.set(policy);
    }

    /// The connection changes since the last take, oldest first.
    pub fn take_connection_changes(&self) -> Vec<ConnectionChange> {
        std::mem::take(&mut *self.changes.borrow_mut())
    }

    /// Every end of a session passes here, whatever ended it (logout, revocation, a
    /// timeout, a binding rejection, a session limit, a login elsewhere taking it over):
    /// its live connections are closed with `reason`. Anything new that ends sessions
    /// (back-channel logout) must end them through `kill` + `ended` like the rest.
    fn ended(&self, s: &Session, reason: Reason) {
        self.changes.borrow_mut().push(ConnectionChange::Ended {
            handle: s.handle.clone(),
            user: s.user.clone(),
            reason,
        });
    }

    fn t(&self) -> Timeouts {
        self.policy.get().timeouts
    }

    fn last_seen(&self, hash: &str, s: &Session) -> u64 {
        let recent = self.recent.borrow().get(hash).copied().unwrap_or(0);
        s.last_seen.max(recent)
    }

    fn expiry(&self, hash: &str, s: &Session) -> Expiry {
        Expiry::of(s, self.last_seen(hash, s), &self.t())
    }

    fn put(&self, hash: &str, s: &Session) -> StoreResult<()> {
        self.store.put(hash, s, Expiry::of(s, s.last_seen, &self.t()).at())
    }

    /// Removes a session and leaves a tombstone that keeps the reason for later requests.
    /// `replaced`: the session moves on under a new ID.
    fn kill(&self, hash: &str, reason: Reason, now: u64, replaced: bool) -> StoreResult<()> {
        self.store.delete(hash)?;
        self.recent.borrow_mut().remove(hash);
        self.store.tombstone(hash, reason, now.saturating_add(self.t().absolute), replaced)
    }

    /// Applies one request: its answer, and its audit events appended to storage.
    pub fn handle(&self, req: Request, now: u64) -> StoreResult<Outcome> {
        let mut call = Call {
            engine: self,
            now,
            events: Vec::new(),
        };
        let response = call.apply(req)?;
        let events = call.events;
        for e in &events {
            self.store.append_audit(e)?;
        }
        if !events.is_empty() {
            self.store.trim_audit(now)?;
        }
        Ok(Outcome { response, events })
    }

    /// The alarm: ends every session whose time has come (writing its timeout event at
    /// that moment), drops old tombstones, and says when to run next.
    pub fn sweep(&self, now: u64) -> StoreResult<(Vec<AuditEvent>, Option<u64>)> {
        let mut events = Vec::new();
        for (hash, s) in self.store.due(now)? {
            let expiry = self.expiry(&hash, &s);
            match expiry.check(now) {
                Err(reason) => {
                    self.kill(&hash, reason, now, false)?;
                    self.ended(&s, reason);
                    events.push(event(now, timed_out(reason), &s, None));
                }
                // Active in memory since the last write: look again at its real deadline.
                Ok(()) => self.store.put(&hash, &s, expiry.at())?,
            }
        }
        self.store.purge_tombstones(now)?;
        for e in &events {
            self.store.append_audit(e)?;
        }
        self.store.trim_audit(now)?;
        Ok((events, self.store.next_deadline()?))
    }
}

/// One request being applied: the engine, the clock, and the audit events so far.
struct Call<'e, S: Store> {
    engine: &'e Engine<S>,
    now: u64,
    events: Vec<AuditEvent>,
}

impl<S: Store> Call<'_, S> {
    /// Dispatches to the request's method; a `Halt::Rejected` becomes the answer here.
    fn apply(&mut self, req: Request) -> StoreResult<Response> {
        let step = match req {
            Request::Validate { hash, client, slide } => self.validate(&hash, &client, slide),
            Request::Create {
                hash,
                session,
                replaces,
                client,
            } => self.create(&hash, session, replaces, &client),
            Request::Take { hash, client } => self.take(&hash, &client),
            Request::Regenerate {
                old_hash,
                new_hash,
                reason,
                roles,
                elevate,
                client,
            } => self.regenerate(&old_hash, &new_hash, reason, roles, elevate, &client),
            Request::SetData { hash, data, max_bytes } => self.set_data(&hash, &data, max_bytes),
            Request::Destroy { hash, by, client } => self.destroy(&hash, by, &client),
            Request::DestroyAll {
                caller,
                except,
                by,
                client,
            } => self.destroy_all(caller.as_deref(), except.as_deref(), by, &client),
            Request::DestroyHandle {
                caller,
                handle,
                by,
                client,
            } => self.destroy_handle(caller.as_deref(), &handle, by, &client),
            Request::DestroyIdp { iss, sub, sid, by, client } => self.destroy_idp(&iss, sub.as_deref(), sid.as_deref(), by, &client),
            Request::List { caller } => self.list(caller.as_deref()),
            Request::Audit { limit, before } => self.audit(limit, before),
            Request::Touch { handle, slide, .. } => self.touch(&handle, slide),
            Request::Record { event } => Ok(self.record(event)),
            Request::DeviceBind {
                hash,
                alg,
                jwk,
                jti,
                jti_until,
                client,
            } => self.device_bind(&hash, alg, jwk, &jti, jti_until, &client),
            Request::DeviceProof {
                hash,
                handle,
                jti,
                jti_until,
                client,
            } => self.device_proof(&hash, handle.as_deref(), &jti, jti_until, &client),
            Request::DeviceProofFailed { hash, detail, client } => self.device_proof_failed(&hash, &detail, &client),
        };
        match step {
            Ok(response) => Ok(response),
            Err(Halt::Rejected { reason, replaced }) => Ok(Response::Rejected { reason, replaced }),
            Err(Halt::Store(e)) => Err(e),
        }
    }

    fn t(&self) -> Timeouts {
        self.engine.t()
    }

    fn store(&self) -> &S {
        &self.engine.store
    }

    /// Ends a session for good (logout, revocation, binding mismatch); its connections
    /// close with `reason` (later requests are told `revoked`).
    fn kill(&self, hash: &str, s: &Session, reason: Reason) -> StoreResult<()> {
        self.engine.kill(hash, Reason::Revoked, self.now, false)?;
        self.engine.ended(s, reason);
        Ok(())
    }

    /// Ends a session that lives on under another ID (or in another object, after a login).
    fn replace(&self, hash: &str) -> StoreResult<()> {
        self.engine.kill(hash, Reason::Revoked, self.now, true)
    }

    /// An audit event about `s`, for `client` or, without one, its last client.
    fn event(&self, kind: EventKind, s: &Session, client: Option<&Client>) -> AuditEvent {
        event(self.now, kind, s, client)
    }

    /// A live session, or why not. Expired sessions are removed on the way (with their
    /// audit event), so the reason given later stays accurate.
    fn live(&mut self, hash: &str) -> Step<Session> {
        let Some(s) = self.store().get(hash)? else {
            let (reason, replaced) = self.store().tombstone_reason(hash, self.now)?.unwrap_or((Reason::Invalid, false));
            return Err(Halt::Rejected { reason, replaced });
        };
        if let Err(reason) = self.engine.expiry(hash, &s).check(self.now) {
            self.engine.kill(hash, reason, self.now, false)?;
            self.engine.ended(&s, reason);
            self.events.push(self.event(timed_out(reason), &s, None));
            return Err(Halt::Rejected { reason, replaced: false });
        }
        Ok(s)
    }

    /// Requests made on behalf of a session (`caller`) need it live; admin ones have none.
    fn caller_live(&mut self, caller: Option<&str>) -> Step<()> {
        if let Some(c) = caller {
            self.live(c)?;
        }
        Ok(())
    }

    /// A session handed back after a write.
    fn done(session: Session) -> Response {
        Response::Done {
            count: 1,
            session: Some(session),
        }
    }

    /// Stores a new session bound to `client`. A login's `replaces` (the guest or older
    /// session it supersedes, in this object) dies in the same transaction.
    fn create(&mut self, hash: &str, mut session: Session, replaces: Option<String>, client: &Client) -> Step<Response> {
        let mut regenerated = false;
        if let Some(old) = replaces.filter(|o| o != hash) {
            if let Some(old_session) = self.store().get(&old)? {
                self.replace(&old)?;
                regenerated = true;
                self.engine.changes.borrow_mut().push(ConnectionChange::Moved {
                    from: old_session.handle,
                    to: session.handle.clone(),
                });
            }
        }
        session.last_ip.clone_from(&client.ip);
        session.last_ua.clone_from(&client.ua);
        // The idle clock starts when the object stores the session, by the object's clock,
        // which every timeout and audit event uses: the gate stamped `last_seen` before
        // the call, and the two may straddle a second (or, across machines, disagree).
        session.last_seen = session.last_seen.max(self.now);
        if session.user.is_some() {
            self.make_room(hash, &session)?;
        }
        self.engine.put(hash, &session)?;
        let kind = if regenerated {
            EventKind::SessionRegenerated
        } else {
            EventKind::SessionCreated
        };
        self.events
            .push(self.event(kind, &session, Some(client)).reason(Regeneration::Login.as_str()));
        Ok(Self::done(session))
    }

    /// Before a login adds `new` to this (per-user) object: with a session limit, ends the
    /// user's least recently used live sessions until the new one fits.
    fn make_room(&mut self, new_hash: &str, new: &Session) -> StoreResult<()> {
        let max = self.engine.policy().max_sessions as usize;
        if max == 0 {
            return Ok(());
        }
        let engine = self.engine;
        let mut live: Vec<(u64, String, Session)> = self
            .store()
            .all()?
            .into_iter()
            .filter(|(h, s)| h != new_hash && s.user == new.user && engine.expiry(h, s).check(self.now).is_ok())
            .map(|(h, s)| (engine.last_seen(&h, &s), h, s))
            .collect();
        if live.len() < max {
            return Ok(());
        }
        // Oldest activity first; the handle breaks ties so the order is stable.
        live.sort_by(|a, b| (a.0, &a.2.handle).cmp(&(b.0, &b.2.handle)));
        for (_, hash, s) in live.iter().take(live.len() + 1 - max) {
            self.kill(hash, s, Reason::Revoked)?;
            self.events
                .push(self.event(EventKind::Revoked, s, None).reason(EndedBy::SessionLimit.as_str()));
        }
        Ok(())
    }

    /// Removes a live session and hands it back: a login elsewhere replaces it (another
    /// user's session, or a guest's whose data moves to the user's object).
    fn take(&mut self, hash: &str, client: &Client) -> Step<Response> {
        let s = self.live(hash)?;
        self.replace(hash)?;
        // It lives on in another object, under a new handle its connections cannot follow.
        self.engine.ended(&s, Reason::Revoked);
        self.events
            .push(self.event(EventKind::Revoked, &s, Some(client)).reason(EndedBy::Login.as_str()));
        Ok(Self::done(s))
    }

    /// Moves a live session to `new_hash`, with new roles if given. `elevate`: the user
    /// just proved presence from this client, so the session is elevated and bound to it.
    fn regenerate(
        &mut self,
        old_hash: &str,
        new_hash: &str,
        reason: Regeneration,
        roles: Option<Vec<String>>,
        elevate: bool,
        client: &Client,
    ) -> Step<Response> {
        let mut s = self.live(old_hash)?;
        let last = self.engine.last_seen(old_hash, &s);
        self.replace(old_hash)?;
        s.last_seen = last;
        if let Some(r) = roles {
            s.roles = r;
        }
        if elevate {
            s.elevate(self.now, &self.t());
            // The user just proved presence from here: bind to this client anew.
            s.login_ip.clone_from(&client.ip);
            s.login_ua.clone_from(&client.ua);
            s.last_ip.clone_from(&client.ip);
            s.last_ua.clone_from(&client.ua);
        }
        s.via_http = !client.https;
        self.engine.put(new_hash, &s)?;
        self.events
            .push(self.event(EventKind::SessionRegenerated, &s, Some(client)).reason(reason.as_str()));
        if elevate {
            self.events.push(self.event(EventKind::SessionElevated, &s, Some(client)));
        }
        Ok(Self::done(s))
    }

    /// Merges `data` into a live session's data; too big a result changes nothing.
    fn set_data(&mut self, hash: &str, data: &Map<String, Value>, max_bytes: usize) -> Step<Response> {
        let mut s = self.live(hash)?;
        merge_data(&mut s.data, data);
        if let Err(detail) = check_data(&s.data, max_bytes) {
            return Ok(Response::Invalid { detail });
        }
        s.last_seen = self.engine.last_seen(hash, &s);
        self.engine.put(hash, &s)?;
        Ok(Self::done(s))
    }

    /// Ends one live session (logout). The session is handed back without its client
    /// fields: RP-initiated logout needs its provider link.
    fn destroy(&mut self, hash: &str, by: EndedBy, client: &Client) -> Step<Response> {
        let mut s = self.live(hash)?;
        self.kill(hash, &s, Reason::Revoked)?;
        self.events
            .push(self.event(EventKind::Logout, &s, Some(client)).reason(by.as_str()));
        for field in [&mut s.login_ip, &mut s.login_ua, &mut s.last_ip, &mut s.last_ua] {
            field.clear();
        }
        Ok(Self::done(s))
    }

    /// Ends the sessions of this object that a provider's logout token names.
    fn destroy_idp(&mut self, iss: &str, sub: Option<&str>, sid: Option<&str>, by: EndedBy, client: &Client) -> Step<Response> {
        self.revoke_where(|_, s| s.idp.as_ref().is_some_and(|l| l.matches(iss, sub, sid)), by, client)
    }

    /// Ends every session in the object but `except`.
    fn destroy_all(&mut self, caller: Option<&str>, except: Option<&str>, by: EndedBy, client: &Client) -> Step<Response> {
        self.caller_live(caller)?;
        self.revoke_where(|hash, _| except != Some(hash), by, client)
    }

    /// Revokes every session in the object that `ends` picks, each with its own event.
    fn revoke_where(&mut self, ends: impl Fn(&str, &Session) -> bool, by: EndedBy, client: &Client) -> Step<Response> {
        let mut count = 0;
        for (hash, s) in self.store().all()? {
            if !ends(&hash, &s) {
                continue;
            }
            self.kill(&hash, &s, Reason::Revoked)?;
            self.events
                .push(self.event(EventKind::Revoked, &s, Some(client)).reason(by.as_str()));
            count += 1;
        }
        Ok(Response::Done { count, session: None })
    }

    /// Ends the session with this public handle (from a session list).
    fn destroy_handle(&mut self, caller: Option<&str>, handle: &str, by: EndedBy, client: &Client) -> Step<Response> {
        self.caller_live(caller)?;
        let found = self.store().all()?.into_iter().find(|(_, s)| s.handle == handle);
        let Some((hash, s)) = found else {
            return Ok(Response::NotFound);
        };
        self.kill(&hash, &s, Reason::Revoked)?;
        self.events
            .push(self.event(EventKind::Revoked, &s, Some(client)).reason(by.as_str()));
        Ok(Response::Done { count: 1, session: None })
    }

    /// The live sessions, most recently used first; `caller`'s is marked `current`.
    fn list(&mut self, caller: Option<&str>) -> Step<Response> {
        self.caller_live(caller)?;
        let (engine, now) = (self.engine, self.now);
        let mut sessions = Vec::new();
        for (hash, s) in self.store().all()? {
            if engine.expiry(&hash, &s).check(now).is_err() {
                continue;
            }
            sessions.push(SessionSummary {
                id: s.handle.clone(),
                created_at: s.created_at,
                last_seen_at: engine.last_seen(&hash, &s),
                ip: s.last_ip.clone(),
                user_agent: s.last_ua.clone(),
                current: caller == Some(hash.as_str()),
                flagged: s.flagged,
                elevated_until: s.elevated_until.filter(|u| *u > now),
                device_bound: s.is_device_bound(),
            });
        }
        sessions.sort_by(|a, b| b.last_seen_at.cmp(&a.last_seen_at).then(a.id.cmp(&b.id)));
        Ok(Response::Sessions { sessions })
    }

    /// A page of the audit log, newest first, with the cursor for the next page.
    fn audit(&self, limit: u32, before: Option<u64>) -> Step<Response> {
        let limit = limit.clamp(1, 1000);
        let page = self.store().audit_page(limit, before)?;
        let next_before = if page.len() as u32 == limit {
            page.last().map(|(id, _)| *id)
        } else {
            None
        };
        let events = page.into_iter().map(|(id, event)| StoredEvent { id, event }).collect();
        Ok(Response::Events { events, next_before })
    }

    /// A live connection's check of its session, by handle; with `slide`, activity.
    /// No session with that handle: it ended (a push already told its connections).
    fn touch(&mut self, handle: &str, slide: bool) -> Step<Response> {
        let found = self.store().all()?.into_iter().find(|(_, s)| s.handle == handle);
        let Some((hash, _)) = found else {
            return Err(Halt::Rejected {
                reason: Reason::Revoked,
                replaced: false,
            });
        };
        let mut s = self.live(&hash)?;
        if slide && self.slide(&hash, &mut s) {
            self.engine.put(&hash, &s)?;
        }
        Ok(Response::Done { count: 1, session: None })
    }

    /// An event the gate observed (it is written with the call's other events).
    fn record(&mut self, event: AuditEvent) -> Response {
        self.events.push(event);
        Response::Done { count: 1, session: None }
    }

    /// Checks a session for this client and request: binding, HTTP -> HTTPS, activity.
    /// The answer carries the session without its client fields.
    fn validate(&mut self, hash: &str, client: &Client, slide: bool) -> Step<Response> {
        let mut s = self.live(hash)?;
        let b = self.unless_rebound(hash, &s, client)?;
        let mut dirty = self.note_binding_change(&mut s, &b, client);
        let new_id_required = s.via_http && client.https;
        if !client.https && !s.via_http {
            s.via_http = true;
            dirty = true;
        }
        if slide {
            dirty |= self.slide(hash, &mut s);
        }
        if dirty {
            s.last_seen = s.last_seen.max(self.engine.last_seen(hash, &s));
            self.engine.put(hash, &s)?;
        }
        let expiry = self.engine.expiry(hash, &s);
        // The binding's addresses and user agents stay here: the gate never reads them,
        // and they are most of a session's bytes (two user agents) on every request.
        for field in [&mut s.login_ip, &mut s.login_ua, &mut s.last_ip, &mut s.last_ua] {
            field.clear();
        }
        // The ID token (about a kilobyte) is needed only at logout, which reads it then.
        if let Some(l) = s.idp.as_mut() {
            l.id_token.clear();
        }
        // That the session is bound is all the gate needs to check the device cookie.
        if let Some(d) = s.device.as_mut() {
            *d = d.summary();
        }
        Ok(Response::Valid {
            session: s,
            expiry,
            binding: b.since_login(),
            new_id_required,
        })
    }

    /// Strict binding (`BIND_IP`/`BIND_UA` = `reject`): a request from another network or
    /// user agent ends the session, whichever of its calls it makes (a request, a device
    /// registration or refresh); otherwise what changed since login.
    pub(super) fn unless_rebound(&mut self, hash: &str, s: &Session, client: &Client) -> Step<Binding> {
        let p = self.engine.policy();
        let b = check_binding(s, client, p.bind_ip, p.bind_ua);
        if b.reject {
            self.kill(hash, s, Reason::BindingMismatch)?;
            self.events
                .push(self.event(EventKind::Revoked, s, Some(client)).reason(EndedBy::Binding.as_str()));
            return Err(Halt::Rejected {
                reason: Reason::BindingMismatch,
                replaced: false,
            });
        }
        Ok(b)
    }

    /// A network or user agent not seen before on this session: one `binding_changed`
    /// event per change, and the session is flagged. True when `s` changed.
    fn note_binding_change(&mut self, s: &mut Session, b: &Binding, client: &Client) -> bool {
        if !b.ip_new && !b.ua_new {
            return false;
        }
        let what = b.since_last_event();
        self.events
            .push(self.event(EventKind::BindingChanged, s, Some(client)).reason(what.as_str()));
        if b.ip_new {
            s.last_ip.clone_from(&client.ip);
        }
        if b.ua_new {
            s.last_ua.clone_from(&client.ua);
        }
        s.flagged = true;
        true
    }

    /// Counts this request as activity: written at most once per slide interval, kept in
    /// memory in between. True when `s` changed.
    fn slide(&self, hash: &str, s: &mut Session) -> bool {
        if s.needs_slide_write(self.now, &self.t()) {
            s.last_seen = self.now;
            return true;
        }
        self.engine.recent.borrow_mut().insert(hash.to_string(), self.now);
        false
    }
}

mod device;
#[cfg(test)]
mod tests;
