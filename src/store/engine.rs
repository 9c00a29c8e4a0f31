//! Applies the session rules to a `Store`. One call = one request to a Durable Object,
//! run without awaiting, so it is atomic with respect to every other call.

use super::protocol::{by, Request, Response, SessionSummary, StoredEvent};
use super::{Store, StoreResult};
use crate::core::audit::AuditEvent;
use crate::core::command::{check_data, merge_data};
use crate::core::config::{BindMode, Config};
use crate::core::session::{check_binding, Client, Expiry, Reason, Session, Timeouts};
use std::cell::RefCell;
use std::collections::HashMap;

/// The parts of the configuration the store needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub timeouts: Timeouts,
    pub bind_ip: BindMode,
    pub bind_ua: BindMode,
    /// Live sessions per user; 0 for no limit.
    pub max_sessions: u32,
}

impl Policy {
    pub fn from_config(c: &Config) -> Self {
        Policy {
            timeouts: Timeouts::from_config(c),
            bind_ip: c.bind_ip,
            bind_ua: c.bind_ua,
            max_sessions: c.max_sessions_per_user,
        }
    }
}

pub struct Engine<S: Store> {
    pub store: S,
    pub policy: Policy,
    /// Activity newer than the stored `last_seen` (which is written at most once per
    /// slide interval). Lost if the object is evicted, so idle expiry is exact to
    /// within one slide interval, and exact while the object stays in memory.
    recent: RefCell<HashMap<String, u64>>,
}

/// What an engine call produced: the answer and the audit events it wrote.
pub struct Outcome {
    pub response: Response,
    pub events: Vec<AuditEvent>,
}

fn event(now: u64, name: &str, s: &Session, client: Option<&Client>) -> AuditEvent {
    let mut e = AuditEvent::new(now, name);
    e.user = s.user.clone();
    e.session = Some(s.handle.clone());
    match client {
        Some(c) => e.client(&c.ip, &c.ua),
        None => e.client(&s.last_ip, &s.last_ua),
    }
}

impl<S: Store> Engine<S> {
    pub fn new(store: S, policy: Policy) -> Self {
        Engine {
            store,
            policy,
            recent: RefCell::new(HashMap::new()),
        }
    }

    fn t(&self) -> &Timeouts {
        &self.policy.timeouts
    }

    fn last_seen(&self, hash: &str, s: &Session) -> u64 {
        let recent = self.recent.borrow().get(hash).copied().unwrap_or(0);
        s.last_seen.max(recent)
    }

    fn expiry(&self, hash: &str, s: &Session) -> Expiry {
        Expiry::of(s, self.last_seen(hash, s), self.t())
    }

    fn put(&self, hash: &str, s: &Session) -> StoreResult<()> {
        self.store.put(hash, s, Expiry::of(s, s.last_seen, self.t()).at())
    }

    /// Removes a session and leaves a tombstone that keeps the reason for later requests.
    fn kill(&self, hash: &str, reason: Reason, now: u64) -> StoreResult<()> {
        self.kill_as(hash, reason, now, false)
    }

    /// `replaced`: the session moves on under a new ID.
    fn kill_as(&self, hash: &str, reason: Reason, now: u64, replaced: bool) -> StoreResult<()> {
        self.store.delete(hash)?;
        self.recent.borrow_mut().remove(hash);
        self.store.tombstone(hash, reason, now.saturating_add(self.t().absolute), replaced)
    }

    /// Before a login adds `new` to this (per-user) object: with a session limit, ends the
    /// user's least recently used live sessions until the new one fits.
    fn make_room(&self, new_hash: &str, new: &Session, now: u64, events: &mut Vec<AuditEvent>) -> StoreResult<()> {
        let max = self.policy.max_sessions as usize;
        if max == 0 {
            return Ok(());
        }
        let mut live: Vec<(u64, String, Session)> = self
            .store
            .all()?
            .into_iter()
            .filter(|(h, s)| h != new_hash && s.user == new.user && self.expiry(h, s).check(now).is_ok())
            .map(|(h, s)| (self.last_seen(&h, &s), h, s))
            .collect();
        if live.len() < max {
            return Ok(());
        }
        // Oldest activity first; the handle breaks ties so the order is stable.
        live.sort_by(|a, b| (a.0, &a.2.handle).cmp(&(b.0, &b.2.handle)));
        for (_, hash, s) in live.iter().take(live.len() + 1 - max) {
            self.kill(hash, Reason::Revoked, now)?;
            events.push(event(now, "revoked", s, None).reason(by::SESSION_LIMIT));
        }
        Ok(())
    }

    /// A live session, or why not. Expired sessions are removed on the way (with their
    /// audit event), so the reason given later stays accurate.
    fn live(&self, hash: &str, now: u64, events: &mut Vec<AuditEvent>) -> StoreResult<Result<Session, (Reason, bool)>> {
        let Some(s) = self.store.get(hash)? else {
            return Ok(Err(self.store.tombstone_reason(hash, now)?.unwrap_or((Reason::Invalid, false))));
        };
        if let Err(reason) = self.expiry(hash, &s).check(now) {
            self.kill(hash, reason, now)?;
            events.push(event(now, reason.as_str(), &s, None));
            return Ok(Err((reason, false)));
        }
        Ok(Ok(s))
    }

    pub fn handle(&self, req: Request, now: u64) -> StoreResult<Outcome> {
        let mut events = Vec::new();
        let response = self.apply(req, now, &mut events)?;
        for e in &events {
            self.store.append_audit(e)?;
        }
        if !events.is_empty() {
            self.store.trim_audit(now)?;
        }
        Ok(Outcome { response, events })
    }

    fn apply(&self, req: Request, now: u64, events: &mut Vec<AuditEvent>) -> StoreResult<Response> {
        match req {
            Request::Validate { hash, client, slide } => self.validate(&hash, &client, slide, now, events),
            Request::Create {
                hash,
                mut session,
                replaces,
                client,
            } => {
                let mut regenerated = false;
                if let Some(old) = replaces.filter(|o| *o != hash) {
                    if self.store.get(&old)?.is_some() {
                        self.kill_as(&old, Reason::Revoked, now, true)?;
                        regenerated = true;
                    }
                }
                session.last_ip = client.ip.clone();
                session.last_ua = client.ua.clone();
                if session.user.is_some() {
                    self.make_room(&hash, &session, now, events)?;
                }
                self.put(&hash, &session)?;
                let name = if regenerated { "session_regenerated" } else { "session_created" };
                events.push(event(now, name, &session, Some(&client)).reason(by::LOGIN));
                Ok(Response::Done {
                    count: 1,
                    session: Some(session),
                })
            }
            Request::Take { hash, client } => match self.live(&hash, now, events)? {
                Ok(s) => {
                    // A login elsewhere replaces this session (another user's or a guest's).
                    self.kill_as(&hash, Reason::Revoked, now, true)?;
                    events.push(event(now, "revoked", &s, Some(&client)).reason(by::LOGIN));
                    Ok(Response::Done {
                        count: 1,
                        session: Some(s),
                    })
                }
                Err((reason, replaced)) => Ok(Response::Rejected { reason, replaced }),
            },
            Request::Regenerate {
                old_hash,
                new_hash,
                reason,
                roles,
                elevate,
                client,
            } => {
                let mut s = match self.live(&old_hash, now, events)? {
                    Ok(s) => s,
                    Err((reason, replaced)) => return Ok(Response::Rejected { reason, replaced }),
                };
                let last = self.last_seen(&old_hash, &s);
                self.kill_as(&old_hash, Reason::Revoked, now, true)?;
                s.last_seen = last;
                if let Some(r) = roles {
                    s.roles = r;
                }
                if elevate {
                    s.elevate(now, self.t());
                    // The user just proved presence from here: bind to this client anew.
                    s.login_ip = client.ip.clone();
                    s.login_ua = client.ua.clone();
                    s.last_ip = client.ip.clone();
                    s.last_ua = client.ua.clone();
                }
                s.via_http = !client.https;
                self.put(&new_hash, &s)?;
                events.push(event(now, "session_regenerated", &s, Some(&client)).reason(reason));
                if elevate {
                    events.push(event(now, "session_elevated", &s, Some(&client)));
                }
                Ok(Response::Done {
                    count: 1,
                    session: Some(s),
                })
            }
            Request::SetData { hash, data, max_bytes } => {
                let mut s = match self.live(&hash, now, events)? {
                    Ok(s) => s,
                    Err((reason, replaced)) => return Ok(Response::Rejected { reason, replaced }),
                };
                merge_data(&mut s.data, &data);
                if let Err(detail) = check_data(&s.data, max_bytes) {
                    return Ok(Response::Invalid { detail });
                }
                s.last_seen = self.last_seen(&hash, &s);
                self.put(&hash, &s)?;
                Ok(Response::Done {
                    count: 1,
                    session: Some(s),
                })
            }
            Request::Destroy { hash, by: who, client } => match self.live(&hash, now, events)? {
                Ok(s) => {
                    self.kill(&hash, Reason::Revoked, now)?;
                    events.push(event(now, "logout", &s, Some(&client)).reason(who));
                    Ok(Response::Done { count: 1, session: None })
                }
                Err((reason, replaced)) => Ok(Response::Rejected { reason, replaced }),
            },
            Request::DestroyAll {
                caller,
                except,
                by: who,
                client,
            } => {
                if let Some(c) = &caller {
                    if let Err((reason, replaced)) = self.live(c, now, events)? {
                        return Ok(Response::Rejected { reason, replaced });
                    }
                }
                let mut count = 0;
                for (hash, s) in self.store.all()? {
                    if except.as_deref() == Some(hash.as_str()) {
                        continue;
                    }
                    self.kill(&hash, Reason::Revoked, now)?;
                    events.push(event(now, "revoked", &s, Some(&client)).reason(who.clone()));
                    count += 1;
                }
                Ok(Response::Done { count, session: None })
            }
            Request::DestroyHandle {
                caller,
                handle,
                by: who,
                client,
            } => {
                if let Some(c) = &caller {
                    if let Err((reason, replaced)) = self.live(c, now, events)? {
                        return Ok(Response::Rejected { reason, replaced });
                    }
                }
                let found = self.store.all()?.into_iter().find(|(_, s)| s.handle == handle);
                match found {
                    Some((hash, s)) => {
                        self.kill(&hash, Reason::Revoked, now)?;
                        events.push(event(now, "revoked", &s, Some(&client)).reason(who));
                        Ok(Response::Done { count: 1, session: None })
                    }
                    None => Ok(Response::NotFound),
                }
            }
            Request::List { caller } => {
                if let Some(c) = &caller {
                    if let Err((reason, replaced)) = self.live(c, now, events)? {
                        return Ok(Response::Rejected { reason, replaced });
                    }
                }
                let mut sessions = Vec::new();
                for (hash, s) in self.store.all()? {
                    if self.expiry(&hash, &s).check(now).is_err() {
                        continue;
                    }
                    sessions.push(SessionSummary {
                        id: s.handle.clone(),
                        created_at: s.created_at,
                        last_seen_at: self.last_seen(&hash, &s),
                        ip: s.last_ip.clone(),
                        user_agent: s.last_ua.clone(),
                        current: caller.as_deref() == Some(hash.as_str()),
                        flagged: s.flagged,
                        elevated_until: s.elevated_until.filter(|u| *u > now),
                    });
                }
                sessions.sort_by(|a, b| b.last_seen_at.cmp(&a.last_seen_at).then(a.id.cmp(&b.id)));
                Ok(Response::Sessions { sessions })
            }
            Request::Audit { limit, before } => {
                let limit = limit.clamp(1, 1000);
                let page = self.store.audit_page(limit, before)?;
                let next_before = if page.len() as u32 == limit {
                    page.last().map(|(id, _)| *id)
                } else {
                    None
                };
                let events = page.into_iter().map(|(id, event)| StoredEvent { id, event }).collect();
                Ok(Response::Events { events, next_before })
            }
            Request::Record { event } => {
                events.push(event);
                Ok(Response::Done { count: 1, session: None })
            }
        }
    }

    fn validate(&self, hash: &str, client: &Client, slide: bool, now: u64, events: &mut Vec<AuditEvent>) -> StoreResult<Response> {
        let mut s = match self.live(hash, now, events)? {
            Ok(s) => s,
            Err((reason, replaced)) => return Ok(Response::Rejected { reason, replaced }),
        };
        let b = check_binding(&s, client, self.policy.bind_ip, self.policy.bind_ua);
        if b.reject {
            self.kill(hash, Reason::Revoked, now)?;
            events.push(event(now, "revoked", &s, Some(client)).reason(by::BINDING));
            return Ok(Response::Rejected {
                reason: Reason::BindingMismatch,
                replaced: false,
            });
        }
        let mut dirty = false;
        if b.ip_new || b.ua_new {
            let what = match (b.ip_new, b.ua_new) {
                (true, true) => "ip-changed,ua-changed",
                (true, false) => "ip-changed",
                _ => "ua-changed",
            };
            events.push(event(now, "binding_changed", &s, Some(client)).reason(what));
            if b.ip_new {
                s.last_ip = client.ip.clone();
            }
            if b.ua_new {
                s.last_ua = client.ua.clone();
            }
            s.flagged = true;
            dirty = true;
        }
        let new_id_required = s.via_http && client.https;
        if !client.https && !s.via_http {
            s.via_http = true;
            dirty = true;
        }
        if slide {
            if s.needs_slide_write(now, self.t()) {
                s.last_seen = now;
                dirty = true;
            } else {
                self.recent.borrow_mut().insert(hash.to_string(), now);
            }
        }
        if dirty {
            s.last_seen = s.last_seen.max(self.last_seen(hash, &s));
            self.put(hash, &s)?;
        }
        let expiry = self.expiry(hash, &s);
        // The binding's addresses and user agents stay here: the gate never reads them,
        // and they are most of a session's bytes (two user agents) on every request.
        for field in [&mut s.login_ip, &mut s.login_ua, &mut s.last_ip, &mut s.last_ua] {
            field.clear();
        }
        Ok(Response::Valid {
            session: s,
            expiry,
            binding: b.header().into(),
            bind_claim: b.claim().map(Into::into),
            new_id_required,
        })
    }

    /// The alarm: ends every session whose time has come (writing its timeout event at
    /// that moment), drops old tombstones, and says when to run next.
    pub fn sweep(&self, now: u64) -> StoreResult<(Vec<AuditEvent>, Option<u64>)> {
        let mut events = Vec::new();
        for (hash, s) in self.store.due(now)? {
            let expiry = self.expiry(&hash, &s);
            match expiry.check(now) {
                Err(reason) => {
                    self.kill(&hash, reason, now)?;
                    events.push(event(now, reason.as_str(), &s, None));
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

#[cfg(test)]
mod tests {
    use super::super::memory::MemoryStore;
    use super::*;
    use serde_json::{json, Map};

    const T: Timeouts = Timeouts {
        idle: 1800,
        absolute: 86_400,
        elevated: 900,
        slide_interval: 60,
        warning_window: 120,
    };

    fn engine(bind: BindMode) -> Engine<MemoryStore> {
        limited(bind, 0)
    }

    fn limited(bind: BindMode, max_sessions: u32) -> Engine<MemoryStore> {
        Engine::new(
            MemoryStore::default(),
            Policy {
                timeouts: T,
                bind_ip: bind,
                bind_ua: bind,
                max_sessions,
            },
        )
    }

    fn client() -> Client {
        Client {
            ip: "203.0.113.5".into(),
            ua: "UA/1".into(),
            https: true,
        }
    }

    fn session(handle: &str, now: u64) -> Session {
        Session {
            handle: handle.into(),
            user: Some("alice".into()),
            roles: vec!["user".into()],
            data: Map::new(),
            created_at: now,
            auth_time: now,
            last_seen: now,
            absolute_expiry: now + T.absolute,
            elevated_until: None,
            login_ip: "203.0.113.5".into(),
            login_ua: "UA/1".into(),
            last_ip: String::new(),
            last_ua: String::new(),
            flagged: false,
            via_http: false,
            persistent: false,
        }
    }

    fn create(e: &Engine<MemoryStore>, hash: &str, handle: &str, now: u64) {
        let r = e
            .handle(
                Request::Create {
                    hash: hash.into(),
                    session: session(handle, now),
                    replaces: None,
                    client: client(),
                },
                now,
            )
            .unwrap();
        assert!(matches!(r.response, Response::Done { .. }));
    }

    /// A sliding validation, with its audit events.
    fn validated(e: &Engine<MemoryStore>, hash: &str, c: Client, now: u64) -> Outcome {
        e.handle(
            Request::Validate {
                hash: hash.into(),
                client: c,
                slide: true,
            },
            now,
        )
        .unwrap()
    }

    fn validate(e: &Engine<MemoryStore>, hash: &str, c: Client, now: u64) -> Response {
        validated(e, hash, c, now).response
    }

    fn reason(r: Response) -> Option<Reason> {
        match r {
            Response::Rejected { reason, .. } => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn a_valid_reply_leaves_the_client_fields_in_the_object() {
        let e = engine(BindMode::Flag);
        create(&e, "h1", "a", 1000);
        let moved = Client {
            ip: "198.51.100.7".into(),
            ..client()
        };
        let moved_again = moved.clone();
        let Response::Valid { session, .. } = validate(&e, "h1", moved, 1010) else {
            panic!("expected Valid");
        };
        assert_eq!((session.handle.as_str(), session.user.as_deref()), ("a", Some("alice")));
        for f in [&session.login_ip, &session.login_ua, &session.last_ip, &session.last_ua] {
            assert!(f.is_empty(), "client field sent to the gate: {f}");
        }
        let json = serde_json::to_string(&session).unwrap();
        assert!(!json.contains("_ip") && !json.contains("_ua"), "{json}");
        // Storage still has them: the binding is checked against them next time, and a
        // second request from the new address writes no second binding_changed event.
        let stored = e.store.get("h1").unwrap().unwrap();
        assert_eq!((stored.login_ip.as_str(), stored.last_ip.as_str()), ("203.0.113.5", "198.51.100.7"));
        assert_eq!(stored.login_ua, "UA/1");
        let again = validated(&e, "h1", moved_again, 1011);
        assert!(again.events.is_empty(), "{:?}", again.events);
    }

    #[test]
    fn a_login_past_the_session_limit_ends_the_least_recently_used() {
        let e = limited(BindMode::Flag, 2);
        create(&e, "h1", "a", 1000);
        create(&e, "h2", "b", 1010);
        // h1 is used after h2 was created: h2 is now the least recently used.
        assert!(matches!(validate(&e, "h1", client(), 1020), Response::Valid { .. }));
        let out = e
            .handle(
                Request::Create {
                    hash: "h3".into(),
                    session: session("c", 1030),
                    replaces: None,
                    client: client(),
                },
                1030,
            )
            .unwrap();
        assert_eq!(reason(validate(&e, "h2", client(), 1031)), Some(Reason::Revoked));
        assert!(matches!(validate(&e, "h1", client(), 1031), Response::Valid { .. }));
        assert!(matches!(validate(&e, "h3", client(), 1031), Response::Valid { .. }));
        let ended: Vec<_> = out.events.iter().filter(|ev| ev.event == "revoked").collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].session.as_deref(), Some("b"));
        assert_eq!(ended[0].reason.as_deref(), Some(by::SESSION_LIMIT));
    }

    #[test]
    fn expired_sessions_do_not_count_toward_the_limit_and_no_limit_means_none() {
        let e = limited(BindMode::Flag, 2);
        create(&e, "h1", "a", 1000);
        create(&e, "h2", "b", 1000 + T.idle + 10);
        // h1 idled out before the third login: only h2 is live, so nothing is ended.
        create(&e, "h3", "c", 1000 + T.idle + 20);
        assert!(matches!(validate(&e, "h2", client(), 1000 + T.idle + 21), Response::Valid { .. }));
        assert!(matches!(validate(&e, "h3", client(), 1000 + T.idle + 21), Response::Valid { .. }));

        let free = engine(BindMode::Flag);
        for i in 0..20u64 {
            create(&free, &format!("h{i}"), &format!("s{i}"), 1000 + i);
        }
        assert!(matches!(validate(&free, "h0", client(), 1030), Response::Valid { .. }));
    }

    #[test]
    fn slides_with_at_most_one_write_per_interval() {
        let e = engine(BindMode::Flag);
        create(&e, "h1", "a", 1000);
        let writes = e.store.writes();
        for t in 1001..1060 {
            assert!(matches!(validate(&e, "h1", client(), t), Response::Valid { .. }));
        }
        assert_eq!(e.store.writes(), writes, "no writes inside the slide interval");
        validate(&e, "h1", client(), 1060);
        assert_eq!(e.store.writes(), writes + 1);
        // Idle timeout counts from the last activity, even the unwritten one (1100).
        validate(&e, "h1", client(), 1100);
        assert_eq!(e.store.writes(), writes + 1);
        assert!(matches!(validate(&e, "h1", client(), 1100 + 1799), Response::Valid { .. }));
        assert_eq!(reason(validate(&e, "h1", client(), 2899 + 1800)), Some(Reason::IdleTimeout));
        assert_eq!(
            reason(validate(&e, "h1", client(), 5000)),
            Some(Reason::IdleTimeout),
            "tombstone keeps the reason"
        );
    }

    #[test]
    fn absolute_timeout_wins_over_activity() {
        let e = engine(BindMode::Flag);
        create(&e, "h1", "a", 0);
        let mut t = 0;
        while t < 86_400 - 100 {
            t += 1000;
            validate(&e, "h1", client(), t);
        }
        assert_eq!(reason(validate(&e, "h1", client(), 86_400)), Some(Reason::AbsoluteTimeout));
    }

    #[test]
    fn sweep_writes_timeout_events_and_schedules_the_next_run() {
        let e = engine(BindMode::Flag);
        create(&e, "h1", "a", 0);
        create(&e, "h2", "b", 500);
        let (events, next) = e.sweep(1800).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, "idle_timeout");
        assert_eq!(events[0].session.as_deref(), Some("a"));
        assert_eq!(next, Some(2300));
        assert_eq!(reason(validate(&e, "h1", client(), 1801)), Some(Reason::IdleTimeout));
        // A session active only in memory is not killed by the alarm.
        validate(&e, "h2", client(), 520);
        let (events, next) = e.sweep(2300).unwrap();
        assert!(events.is_empty());
        assert_eq!(next, Some(2320));
    }

    #[test]
    fn regenerate_kills_the_old_id_and_keeps_the_data() {
        let e = engine(BindMode::Flag);
        create(&e, "old", "a", 0);
        e.handle(
            Request::SetData {
                hash: "old".into(),
                data: json!({"cart": [1]}).as_object().cloned().unwrap(),
                max_bytes: 100,
            },
            10,
        )
        .unwrap();
        let r = e
            .handle(
                Request::Regenerate {
                    old_hash: "old".into(),
                    new_hash: "new".into(),
                    reason: "permission_change".into(),
                    roles: Some(vec!["admin".into()]),
                    elevate: false,
                    client: client(),
                },
                20,
            )
            .unwrap();
        assert_eq!(r.events[0].event, "session_regenerated");
        assert_eq!(reason(validate(&e, "old", client(), 21)), Some(Reason::Revoked));
        match validate(&e, "new", client(), 21) {
            Response::Valid { session, .. } => {
                assert_eq!(session.roles, vec!["admin".to_string()]);
                assert_eq!(session.data["cart"], json!([1]));
                assert_eq!(session.handle, "a");
            }
            other => panic!("{other:?}"),
        }
        // A second regeneration from the dead ID cannot bring it back.
        let again = e
            .handle(
                Request::Regenerate {
                    old_hash: "old".into(),
                    new_hash: "x".into(),
                    reason: "password_change".into(),
                    roles: None,
                    elevate: false,
                    client: client(),
                },
                22,
            )
            .unwrap();
        assert_eq!(reason(again.response), Some(Reason::Revoked));
    }

    #[test]
    fn binding_flags_once_per_change_or_rejects() {
        let e = engine(BindMode::Flag);
        create(&e, "h", "a", 0);
        let moved = Client {
            ip: "198.51.100.9".into(),
            ..client()
        };
        let r = validated(&e, "h", moved.clone(), 1);
        assert_eq!(r.events.len(), 1);
        assert!(matches!(r.response, Response::Valid { ref binding, .. } if binding == "ip-changed"));
        let r = validated(&e, "h", moved.clone(), 2);
        assert!(r.events.is_empty(), "no second event for the same change");
        assert!(matches!(r.response, Response::Valid { ref session, .. } if session.flagged));

        let e = engine(BindMode::Reject);
        create(&e, "h", "a", 0);
        assert_eq!(reason(validate(&e, "h", moved, 1)), Some(Reason::BindingMismatch));
        assert_eq!(reason(validate(&e, "h", client(), 2)), Some(Reason::Revoked));
    }

    #[test]
    fn logout_others_and_all() {
        let e = engine(BindMode::Flag);
        for (h, n) in [("h1", "a"), ("h2", "b"), ("h3", "c")] {
            create(&e, h, n, 0);
        }
        let r = e
            .handle(
                Request::DestroyAll {
                    caller: Some("h1".into()),
                    except: Some("h1".into()),
                    by: by::LOGOUT_OTHERS.into(),
                    client: client(),
                },
                5,
            )
            .unwrap();
        assert!(matches!(r.response, Response::Done { count: 2, .. }));
        assert!(matches!(validate(&e, "h1", client(), 6), Response::Valid { .. }));
        assert_eq!(reason(validate(&e, "h2", client(), 6)), Some(Reason::Revoked));
        e.handle(
            Request::DestroyAll {
                caller: None,
                except: None,
                by: by::ADMIN.into(),
                client: client(),
            },
            7,
        )
        .unwrap();
        assert_eq!(reason(validate(&e, "h1", client(), 8)), Some(Reason::Revoked));
    }

    #[test]
    fn list_and_destroy_by_handle() {
        let e = engine(BindMode::Flag);
        create(&e, "h1", "a", 0);
        create(&e, "h2", "b", 0);
        match e.handle(Request::List { caller: Some("h1".into()) }, 1).unwrap().response {
            Response::Sessions { sessions } => {
                assert_eq!(sessions.len(), 2);
                assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
            }
            other => panic!("{other:?}"),
        }
        let r = e
            .handle(
                Request::DestroyHandle {
                    caller: Some("h1".into()),
                    handle: "zz".into(),
                    by: by::USER.into(),
                    client: client(),
                },
                2,
            )
            .unwrap();
        assert_eq!(r.response, Response::NotFound);
        let r = e
            .handle(
                Request::DestroyHandle {
                    caller: Some("h1".into()),
                    handle: "b".into(),
                    by: by::USER.into(),
                    client: client(),
                },
                2,
            )
            .unwrap();
        assert!(matches!(r.response, Response::Done { count: 1, .. }));
        assert_eq!(reason(validate(&e, "h2", client(), 3)), Some(Reason::Revoked));
    }

    #[test]
    fn set_data_is_bounded_and_changes_nothing_when_too_big() {
        let e = engine(BindMode::Flag);
        create(&e, "h", "a", 0);
        let big = json!({"x": "y".repeat(200)}).as_object().cloned().unwrap();
        let r = e
            .handle(
                Request::SetData {
                    hash: "h".into(),
                    data: big,
                    max_bytes: 100,
                },
                1,
            )
            .unwrap();
        assert!(matches!(r.response, Response::Invalid { .. }));
        match validate(&e, "h", client(), 2) {
            Response::Valid { session, .. } => assert!(session.data.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn audit_pages_newest_first() {
        let e = engine(BindMode::Flag);
        for i in 0..5 {
            create(&e, &format!("h{i}"), &format!("s{i}"), i);
        }
        let Response::Events { events, next_before } = e.handle(Request::Audit { limit: 2, before: None }, 10).unwrap().response else {
            panic!()
        };
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].event.session.as_deref(), Some("s4"));
        let Response::Events { events, .. } = e
            .handle(
                Request::Audit {
                    limit: 10,
                    before: next_before,
                },
                10,
            )
            .unwrap()
            .response
        else {
            panic!()
        };
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].event.session.as_deref(), Some("s2"));
    }

    #[test]
    fn http_then_https_requires_a_new_id() {
        let e = engine(BindMode::Flag);
        create(&e, "h", "a", 0);
        let http = Client { https: false, ..client() };
        assert!(matches!(
            validate(&e, "h", http, 1),
            Response::Valid {
                new_id_required: false,
                ..
            }
        ));
        assert!(matches!(
            validate(&e, "h", client(), 2),
            Response::Valid { new_id_required: true, .. }
        ));
    }
}
