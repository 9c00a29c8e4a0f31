//! `SessionStore`: the Durable Object that holds sessions. There is one per user
//! (named `user:<id>`, so "log out everywhere" is one transaction) and one per
//! anonymous guest session (a unique id), so load spreads with the user base and no
//! object is global. Tokens carry their object's id: validation is one round trip.

use super::call;
use super::kv;
use super::sql::SqlStore;
use super::watch;
use crate::core::audit::{AuditEvent, EventKind};
use crate::platform;
use crate::store::cache::Cached;
use crate::store::engine::{ConnectionChange, Engine};
use crate::store::kv::{KvRequest, KV_URL};
use crate::store::policy::{Policy, PolicyError};
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse, STATS_URL};
use crate::store::{Store, StoreError};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State, WebSocket, WebSocketIncomingMessage};

type SessionEngine = Engine<Cached<SqlStore>>;

/// Why the object cannot apply the session rules to a call (the call changes nothing).
#[derive(Debug, thiserror::Error)]
enum Unready {
    /// A session call without the gate's policy.
    #[error("no policy sent with a session call")]
    NotSent,
    /// An alarm (or the stats call) before any session call brought a policy.
    #[error("no policy stored yet")]
    NotStored,
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Unready {
    /// A bad request from the caller is 400; the object's own trouble 500.
    fn status(&self) -> u16 {
        match self {
            Unready::NotSent | Unready::Policy(_) => 400,
            Unready::NotStored | Unready::Store(_) => 500,
        }
    }
}

#[durable_object]
pub struct SessionStore {
    state: State,
    engine: RefCell<Option<Rc<SessionEngine>>>,
    /// The policy in force, as it came on the wire: a call that brings the same text (every
    /// call but the first after a redeployed gate) is not parsed again.
    policy_wire: RefCell<String>,
    /// Store requests this instance answered (the stats call aside): how tests and the
    /// bench see which requests cost a Durable Object round trip.
    requests: std::cell::Cell<u64>,
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<Response> {
    let body = serde_json::to_string(value).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Response::ok(body)
}

fn internal(e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

/// A failure of the object's storage, as a log line (never a token: store errors name
/// what failed, not the data).
fn store_error(detail: &str) {
    worker::console_error!(
        "{}",
        crate::core::json::text(&serde_json::json!({"sessiongate": "store_error", "detail": detail}))
    );
}

fn json_error(status: u16, detail: &str) -> Result<Response> {
    Ok(Response::from_json(&serde_json::json!({"error": "store", "detail": detail}))?.with_status(status))
}

impl SessionStore {
    /// The engine under the policy `sent` with a session call, or, for an alarm or the
    /// stats call (`None`), under the last policy any call brought. The object has no
    /// configuration of its own: the gate's is the only one.
    fn engine(&self, sent: Option<&str>) -> std::result::Result<Rc<SessionEngine>, Unready> {
        let existing = self.engine.borrow().clone();
        let Some(engine) = existing else {
            return self.start(sent);
        };
        if let Some(wire) = sent.filter(|w| *w != self.policy_wire.borrow().as_str()) {
            let policy = Policy::from_wire(wire)?;
            engine.store.inner().set_policy(wire)?;
            engine.set_policy(policy);
            *self.policy_wire.borrow_mut() = wire.to_string();
        }
        Ok(engine)
    }

    /// The first call since the object started: its storage, and the policy it was sent
    /// (kept for alarms) or the one kept.
    fn start(&self, sent: Option<&str>) -> std::result::Result<Rc<SessionEngine>, Unready> {
        let sql = SqlStore::new(self.state.storage().sql())?;
        let wire = match sent {
            Some(w) => w.to_string(),
            None => sql.policy()?.ok_or(Unready::NotStored)?,
        };
        let policy = Policy::from_wire(&wire)?;
        if sent.is_some() {
            sql.set_policy(&wire)?;
        }
        // Decoded sessions stay in the object's memory (store::cache): a validation
        // then costs no SQLite read and no JSON decode once the session is warm.
        let engine = Rc::new(Engine::new(Cached::new(sql), policy));
        *self.engine.borrow_mut() = Some(engine.clone());
        *self.policy_wire.borrow_mut() = wire;
        Ok(engine)
    }

    /// Makes sure an alarm fires no later than the earliest expiry.
    /// `force` (from the alarm itself) sets it whatever is scheduled now.
    async fn schedule(&self, engine: &SessionEngine, force: bool) -> Result<()> {
        let Some(next) = engine.store.next_deadline().map_err(internal)? else {
            return Ok(());
        };
        let next_ms = (next * 1000) as i64;
        let storage = self.state.storage();
        let current = if force { None } else { storage.get_alarm().await? };
        if current.is_none_or(|c| c > next_ms) {
            let offset = next_ms - platform::now_ms() as i64;
            storage.set_alarm(offset.max(0)).await?;
        }
        Ok(())
    }

    /// THE place where a session's end reaches its live connections (WebSockets and
    /// streams relayed by the gate, each holding a watch here): every way a session ends
    /// goes through `Engine::ended`, and every call and alarm of this object ends here,
    /// which pushes `ended:<reason>` to the session's watches and writes one
    /// `connection_closed` event per connection. A new way to end sessions (back-channel
    /// logout) only has to end them in the engine.
    fn end_connections(&self, engine: &SessionEngine) {
        let changes = engine.take_connection_changes();
        if changes.is_empty() {
            return;
        }
        for change in changes {
            match change {
                ConnectionChange::Moved { from, to } => watch::move_watches(&self.state, &from, &to),
                ConnectionChange::Ended { handle, user, reason } => {
                    let n = watch::push_ended(&self.state, &handle, reason.as_str());
                    for _ in 0..n {
                        let mut e = AuditEvent::new(platform::now(), EventKind::ConnectionClosed).reason(reason.as_str());
                        e.user.clone_from(&user);
                        e.session = Some(handle.clone());
                        if let Err(err) = engine.store.append_audit(&e) {
                            store_error(&err.to_string());
                        }
                        worker::console_log!("{}", e.log_line());
                    }
                }
            }
        }
    }
}

impl SessionStore {
    /// Edge sign-in's records (`store::kv`): an object of their own, never a session's.
    async fn kv(&self, text: String) -> Result<Response> {
        let Some(msg) = KvRequest::from_wire(&text) else {
            return json_error(400, "bad kv request");
        };
        let (answer, until) = kv::handle(&self.state.storage().sql(), msg, platform::now())?;
        if let Some(u) = until {
            self.alarm_at(u).await?;
        }
        Response::ok(answer.to_wire())
    }

    /// An alarm no later than `at` (Unix seconds).
    async fn alarm_at(&self, at: u64) -> Result<()> {
        let storage = self.state.storage();
        let at_ms = (at * 1000) as i64;
        if storage.get_alarm().await?.is_none_or(|c| c > at_ms) {
            storage.set_alarm((at_ms - platform::now_ms() as i64).max(0)).await?;
        }
        Ok(())
    }
}

impl DurableObject for SessionStore {
    fn new(state: State, _env: Env) -> Self {
        SessionStore {
            state,
            engine: RefCell::new(None),
            policy_wire: RefCell::new(String::new()),
            requests: std::cell::Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        // URL and headers in one crossing (`call`): a plain comparison of the URL, which
        // `req.path()` would parse (the url crate) on every call.
        let head = match call::head(req.inner()) {
            Ok(h) => h,
            Err(e) => return json_error(400, &e.to_string()),
        };
        if head.url == KV_URL {
            return self.kv(req.text().await?).await;
        }
        if head.url == STATS_URL {
            let rows = match self.engine(None) {
                Ok(engine) => engine.store.inner().rows_written(),
                Err(_) => 0,
            };
            return Response::from_json(&serde_json::json!({"rows_written": rows, "requests": self.requests.get()}));
        }
        let engine = match head.policy.as_deref().ok_or(Unready::NotSent).and_then(|w| self.engine(Some(w))) {
            Ok(e) => e,
            Err(e) => {
                store_error(&e.to_string());
                return json_error(e.status(), &e.to_string());
            }
        };
        self.requests.set(self.requests.get() + 1);
        // A small message comes in a header (no body to await), a larger one as the body.
        // Text + serde_json: much cheaper than walking a JS object (`req.json()`).
        let text = match head.message {
            Some(m) => m,
            None => req.text().await?,
        };
        let msg: StoreRequest = match serde_json::from_str(&text) {
            Ok(m) => m,
            Err(e) => return json_error(400, &format!("bad store request: {e}")),
        };
        // A watch (edge::live): a `touch` that opens a WebSocket on a live session.
        let watch_of = match &msg {
            StoreRequest::Touch { handle, watches_max, .. } => head.upgrade.then(|| (handle.clone(), *watches_max)),
            _ => None,
        };
        let creates = matches!(msg, StoreRequest::Create { .. } | StoreRequest::Regenerate { .. });
        let outcome = match engine.handle(msg, platform::now()) {
            Ok(o) => o,
            Err(e) => {
                let detail = e.to_string();
                store_error(&detail);
                return json_error(500, &detail);
            }
        };
        for e in &outcome.events {
            worker::console_log!("{}", e.log_line());
        }
        self.end_connections(&engine);
        if creates || !outcome.events.is_empty() {
            self.schedule(&engine, false).await?;
        }
        match (watch_of, &outcome.response) {
            (Some((handle, max)), StoreResponse::Done { .. }) => {
                // One object sees every watch of its sessions, whichever isolate opened it.
                if max.is_some_and(|m| watch::count(&self.state, &handle) >= m) {
                    return json_error(429, "the session holds as many live connections as it may");
                }
                Ok(watch::accept(&self.state, &handle))
            }
            // Not live: the answer (`rejected`) tells the relay why.
            _ => json_text(&outcome.response),
        }
    }

    /// Watches carry nothing toward the object (activity goes as a `touch` request):
    /// whatever comes is ignored.
    async fn websocket_message(&self, _ws: WebSocket, _message: WebSocketIncomingMessage) -> Result<()> {
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, _code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        // The relay closed its watch (its connection ended): complete the close.
        let _ = ws.close(Some(1000), Some(""));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        match self.engine(None) {
            Ok(engine) => {
                let (events, _) = engine.sweep(platform::now()).map_err(internal)?;
                for e in &events {
                    worker::console_log!("{}", e.log_line());
                }
                self.end_connections(&engine);
                self.schedule(&engine, true).await?;
            }
            // No session call ever reached this object (edge sign-in's records live in
            // objects of their own): no sessions to sweep.
            Err(Unready::NotStored) => {}
            Err(e) => return Err(internal(e)),
        }
        if let Some(next) = kv::alarm(&self.state.storage().sql(), platform::now())? {
            self.alarm_at(next).await?;
        }
        Response::ok("")
    }
}
