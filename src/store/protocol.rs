//! Messages between the gate and a session Durable Object (JSON over the stub's fetch).

use crate::core::audit::{AuditEvent, EndedBy, Regeneration};
use crate::core::dbsc::jwk::DeviceAlg;
use crate::core::session::{BindingChange, Client, Expiry, Reason, Session};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Small store messages travel in this request header instead of a POST body (the gate
/// decides, the object accepts both).
pub const MESSAGE_HEADER: &str = "x-store-message";

/// The object's row-write counter (benchmark, admin API); every other call carries a `Request`.
pub const STATS_URL: &str = "https://session-store/stats";

/// A request to a session object. Every `hash` is the storage hash of a token's secret
/// (never the token); `client` is who makes the request, for binding and audit.
#[allow(
    clippy::large_enum_variant,
    reason = "one Request per object call, serialised at once: a box would only add an allocation"
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Externally tagged (`{"validate": {...}}`): serde reads it in one pass, where an
// internally tagged enum buffers the whole message first, on every request, both ways.
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Check a session; with `slide`, count this request as activity.
    Validate {
        /// The session.
        hash: String,
        /// Checked against the session's binding.
        client: Client,
        /// Count the request as activity (not for the gate's own status calls).
        slide: bool,
    },
    /// Store a new session; `replaces` (same object) dies in the same transaction.
    Create {
        /// The new session's key.
        hash: String,
        /// The session as the gate built it at login.
        session: Session,
        /// The session this login supersedes in the same object, if any.
        replaces: Option<String>,
        /// The client the session is bound to.
        client: Client,
    },
    /// Remove a session and hand it back (login moving a guest's data to another object).
    Take {
        /// The session.
        hash: String,
        /// The client logging in.
        client: Client,
    },
    /// Move a live session to a new ID.
    Regenerate {
        /// The current ID's hash; dead once this succeeds.
        old_hash: String,
        /// The new ID's hash.
        new_hash: String,
        /// The audit reason.
        reason: Regeneration,
        /// New roles, if they change.
        roles: Option<Vec<String>>,
        /// Elevate the session and bind it to `client` anew.
        elevate: bool,
        /// The client asking.
        client: Client,
    },
    /// Merge the origin's `set_data` into a live session's data.
    SetData {
        /// The session.
        hash: String,
        /// Keys to set; a `null` value removes its key.
        data: Map<String, Value>,
        /// `SESSION_DATA_MAX`: a merge past it changes nothing.
        max_bytes: usize,
    },
    /// End one session (logout).
    Destroy {
        /// The session.
        hash: String,
        /// Who ends it, for the audit event.
        by: EndedBy,
        /// The client asking.
        client: Client,
    },
    /// End every session, or every one but `except`.
    DestroyAll {
        /// The session asking; must be live when given (admin calls have none).
        caller: Option<String>,
        /// A session to keep.
        except: Option<String>,
        /// Who ends them, for the audit events.
        by: EndedBy,
        /// The client asking.
        client: Client,
    },
    /// End the session with this public handle.
    DestroyHandle {
        /// The session asking; must be live when given (admin calls have none).
        caller: Option<String>,
        /// The public handle of the session to end.
        handle: String,
        /// Who ends it, for the audit event.
        by: EndedBy,
        /// The client asking.
        client: Client,
    },
    /// End every session signed in at the edge by `iss` whose provider link matches
    /// `sub` and/or `sid` (OIDC Back-Channel Logout; see `IdpLink::matches`).
    DestroyIdp {
        /// The issuer.
        iss: String,
        /// The provider's subject, if the logout token names one.
        sub: Option<String>,
        /// The provider's session id, if the logout token names one.
        sid: Option<String>,
        /// Who ends them, for the audit events.
        by: EndedBy,
        /// The client asking (the provider's server).
        client: Client,
    },
    /// The live sessions.
    List {
        /// The session asking, marked `current`; must be live when given.
        caller: Option<String>,
    },
    /// A page of the object's audit log, newest first.
    Audit {
        /// Events per page (clamped to 1..=1000).
        limit: u32,
        /// Only events with a smaller id (the previous page's `next_before`).
        before: Option<u64>,
    },
    /// For a live connection (WebSocket, stream): is the session with this public handle
    /// live? A watch opens only on a live session. With `slide`, a message from the
    /// client counts as activity (written at most once per slide interval).
    Touch {
        /// The session's public handle (a connection keeps it across regenerations).
        handle: String,
        /// Count as activity.
        slide: bool,
        /// On a watch's opening: the most watches the session may hold; the object
        /// refuses one more (`MAX_CONNECTIONS_PER_SESSION`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        watches_max: Option<u32>,
    },
    /// Store an event the gate observed.
    Record {
        /// The event.
        event: AuditEvent,
    },
    /// Bind a live, unbound session to the device key whose proof the gate verified,
    /// spending the registration's challenge.
    DeviceBind {
        /// The session.
        hash: String,
        /// The key's algorithm.
        alg: DeviceAlg,
        /// The public JWK, as `dbsc::jwk` rewrote it.
        jwk: String,
        /// The challenge answered.
        jti: String,
        /// Its expiry.
        jti_until: u64,
        /// The client registering.
        client: Client,
    },
    /// A refresh's proof: the live, bound session named by `handle` spends `jti` and
    /// hands back its key, which the gate verifies the signature with. Not activity.
    DeviceProof {
        /// The session.
        hash: String,
        /// `Sec-Secure-Session-Id`, when sent: must be the session's handle.
        handle: Option<String>,
        /// The challenge answered.
        jti: String,
        /// Its expiry.
        jti_until: u64,
        /// The client refreshing.
        client: Client,
    },
    /// A refused device proof, audited on the session (if live) as `device_proof_failed`.
    DeviceProofFailed {
        /// The session.
        hash: String,
        /// The check that failed (`dbsc::proof::ProofError`).
        detail: String,
        /// The client.
        client: Client,
    },
}

/// One live session in a session list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The public handle.
    pub id: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last activity.
    pub last_seen_at: u64,
    /// The last client's address.
    pub ip: String,
    /// The last client's user agent.
    pub user_agent: String,
    /// The session that asked for the list.
    pub current: bool,
    /// Used from another network or user agent since login.
    pub flagged: bool,
    /// End of the elevation, while elevated.
    pub elevated_until: Option<u64>,
    /// Bound to a device key (Device Bound Session Credentials).
    #[serde(default)]
    pub device_bound: bool,
}

/// An audit event with its row id (the cursor for the next page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Row id, increasing.
    pub id: u64,
    /// The event, its fields inline.
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// A session object's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// The session is live for this client.
    Valid {
        /// The session, without its client fields.
        session: Session,
        /// When it ends.
        expiry: Expiry,
        /// What changed of the client since login: `X-Session-Binding`, and the
        /// assertion's `bind` claim when anything did.
        binding: BindingChange,
        /// The session's last request was plain HTTP and this one is HTTPS.
        new_id_required: bool,
    },
    /// The session is not live. `replaced`: the ID was regenerated and the session lives
    /// on under a new one. The gate still clears the cookie (the contract: an invalid
    /// cookie is cleared); the flag tells the two cases apart for diagnostics.
    Rejected {
        /// Why.
        reason: Reason,
        /// The ID was replaced by a new one.
        #[serde(default)]
        replaced: bool,
    },
    /// A write succeeded.
    Done {
        /// Sessions affected.
        count: u32,
        /// The session as stored now, for requests that return one.
        session: Option<Session>,
    },
    /// Answer to `List`.
    Sessions {
        /// Most recently used first.
        sessions: Vec<SessionSummary>,
    },
    /// Answer to `Audit`.
    Events {
        /// Newest first.
        events: Vec<StoredEvent>,
        /// `before` for the next page; none on the last page.
        next_before: Option<u64>,
    },
    /// No session has that handle.
    NotFound,
    /// The request cannot be applied (session data over its limit).
    Invalid {
        /// What is wrong.
        detail: String,
    },
}

impl Response {
    /// The answer's variant, as written on the wire: what an unexpected answer is called
    /// in errors and logs. Its `Debug` would print the session with its data, and costs
    /// the gate's Wasm the `Debug` of every type in it (float formatting included).
    pub fn kind(&self) -> &'static str {
        match self {
            Response::Valid { .. } => "valid",
            Response::Rejected { .. } => "rejected",
            Response::Done { .. } => "done",
            Response::Sessions { .. } => "sessions",
            Response::Events { .. } => "events",
            Response::NotFound => "not_found",
            Response::Invalid { .. } => "invalid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reasons_keep_their_wire_strings() {
        let client = Client {
            ip: "203.0.113.5".into(),
            ua: "UA/1".into(),
            https: true,
        };
        let destroy = Request::Destroy {
            hash: "h".into(),
            by: EndedBy::LogoutAll,
            client: client.clone(),
        };
        assert_eq!(
            serde_json::to_string(&destroy).unwrap(),
            r#"{"destroy":{"hash":"h","by":"logout_all","client":{"ip":"203.0.113.5","ua":"UA/1","https":true}}}"#
        );
        let regenerate = r#"{"regenerate":{"old_hash":"a","new_hash":"b","reason":"https_upgrade","roles":null,"elevate":false,"client":{"ip":"203.0.113.5","ua":"UA/1","https":true}}}"#;
        let parsed: Request = serde_json::from_str(regenerate).unwrap();
        assert!(matches!(
            parsed,
            Request::Regenerate {
                reason: Regeneration::HttpsUpgrade,
                ..
            }
        ));
        assert_eq!(serde_json::to_string(&parsed).unwrap(), regenerate);
    }
}
