//! Messages between the gate and a session Durable Object (JSON over the stub's fetch).

use crate::core::audit::{AuditEvent, EndedBy, Regeneration};
use crate::core::session::{Client, Expiry, Reason, Session};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Small store messages travel in this request header instead of a POST body (the gate
/// decides, the object accepts both).
pub const MESSAGE_HEADER: &str = "x-store-message";

/// The object's row-write counter (benchmark, admin API); every other call carries a `Request`.
pub const STATS_URL: &str = "https://session-store/stats";

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
        hash: String,
        client: Client,
        slide: bool,
    },
    /// Store a new session; `replaces` (same object) dies in the same transaction.
    Create {
        hash: String,
        session: Session,
        replaces: Option<String>,
        client: Client,
    },
    /// Remove a session and hand it back (login moving a guest's data to another object).
    Take {
        hash: String,
        client: Client,
    },
    /// Move a live session to a new ID. `reason` is the audit reason.
    Regenerate {
        old_hash: String,
        new_hash: String,
        reason: Regeneration,
        roles: Option<Vec<String>>,
        elevate: bool,
        client: Client,
    },
    SetData {
        hash: String,
        data: Map<String, Value>,
        max_bytes: usize,
    },
    /// End one session (logout).
    Destroy {
        hash: String,
        by: EndedBy,
        client: Client,
    },
    /// End every session, or every one but `except`. `caller` must be live when given.
    DestroyAll {
        caller: Option<String>,
        except: Option<String>,
        by: EndedBy,
        client: Client,
    },
    /// End the session with this public handle. `caller` must be live when given.
    DestroyHandle {
        caller: Option<String>,
        handle: String,
        by: EndedBy,
        client: Client,
    },
    /// Live sessions. `caller` must be live when given; it is marked `current`.
    List {
        caller: Option<String>,
    },
    Audit {
        limit: u32,
        before: Option<u64>,
    },
    Record {
        event: AuditEvent,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: String,
    pub created_at: u64,
    pub last_seen_at: u64,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
    pub flagged: bool,
    pub elevated_until: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: u64,
    #[serde(flatten)]
    pub event: AuditEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Valid {
        session: Session,
        expiry: Expiry,
        /// `X-Session-Binding` value and the assertion's `bind` claim.
        binding: String,
        bind_claim: Option<String>,
        /// The session's last request was plain HTTP and this one is HTTPS.
        new_id_required: bool,
    },
    /// `replaced`: the ID was regenerated and the session lives on under a new one. The
    /// gate still clears the cookie (the contract: an invalid cookie is cleared); the flag
    /// tells the two cases apart for diagnostics.
    Rejected {
        reason: Reason,
        #[serde(default)]
        replaced: bool,
    },
    Done {
        count: u32,
        session: Option<Session>,
    },
    Sessions {
        sessions: Vec<SessionSummary>,
    },
    Events {
        events: Vec<StoredEvent>,
        next_before: Option<u64>,
    },
    NotFound,
    Invalid {
        detail: String,
    },
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
