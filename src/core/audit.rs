//! Audit events: stored per user (bounded) and printed as one JSON line each, so that
//! Workers Logs / Logpush can ship them.

#![warn(missing_docs)]

use super::command::RegenerateReason;
use serde::{Deserialize, Serialize};

/// Retention per user: the newest `MAX_EVENTS`, none older than `MAX_AGE` seconds.
pub const MAX_EVENTS: u64 = 1000;
/// See `MAX_EVENTS`.
pub const MAX_AGE: u64 = 30 * 86_400;

/// What happened. The snake_case names are the `event` field of stored rows and log
/// lines (README, "Audit log"): never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A login stored a new session (reason: `login`).
    SessionCreated,
    /// A session moved to a new ID (reason: a `Regeneration`).
    SessionRegenerated,
    /// The user re-authenticated; the session is elevated for a while.
    SessionElevated,
    /// The session was idle too long.
    IdleTimeout,
    /// The session reached its absolute lifetime.
    AbsoluteTimeout,
    /// The user logged out (reason: `EndedBy`).
    Logout,
    /// A session was ended by someone or something else (reason: `EndedBy`).
    Revoked,
    /// The client's network or user agent changed (reason: a `BindingChange`).
    BindingChanged,
    /// A cookie whose signature did not verify (log line only).
    ForgedToken,
    /// Two values of the gate's cookie, both signed by us, naming different sessions: a
    /// sibling host under `COOKIE_DOMAIN` may have planted one (log line only).
    AmbiguousSession,
    /// The origin sent a command the gate refused (reason: what was wrong).
    InvalidOriginCommand,
    /// A state-changing request from another site (reason: its `Origin`).
    CrossSiteRequest,
    /// An edge sign-in that failed (reason: `state`, `idp_error`, `token_exchange`,
    /// `id_token` or `reauth_user_mismatch`, then the detail; log line only).
    LoginFailed,
    /// A live connection (WebSocket, stream) closed because its session ended (reason:
    /// the session's end, as in the 401 body).
    ConnectionClosed,
    /// The browser registered a device key for the session (reason: its algorithm).
    DeviceBound,
    /// A device proof was refused (reason: the check that failed, as in the 403 body).
    DeviceProofFailed,
}

impl EventKind {
    /// The event's name in rows and log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SessionCreated => "session_created",
            EventKind::SessionRegenerated => "session_regenerated",
            EventKind::SessionElevated => "session_elevated",
            EventKind::IdleTimeout => "idle_timeout",
            EventKind::AbsoluteTimeout => "absolute_timeout",
            EventKind::Logout => "logout",
            EventKind::Revoked => "revoked",
            EventKind::BindingChanged => "binding_changed",
            EventKind::ForgedToken => "forged_token",
            EventKind::AmbiguousSession => "ambiguous_session",
            EventKind::InvalidOriginCommand => "invalid_origin_command",
            EventKind::CrossSiteRequest => "cross_site_request",
            EventKind::LoginFailed => "login_failed",
            EventKind::ConnectionClosed => "connection_closed",
            EventKind::DeviceBound => "device_bound",
            EventKind::DeviceProofFailed => "device_proof_failed",
        }
    }
}

/// Compares with an event's name as it appears in rows and log lines.
impl PartialEq<&str> for EventKind {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

/// Who or what ended a session: the reason of `logout` and `revoked` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// The user, from the session list or by logging out.
    User,
    /// An administrator, through the admin API.
    Admin,
    /// The origin's `logout_all` command (every session of the user).
    LogoutAll,
    /// The origin's `logout_others` command (every session but the current one).
    LogoutOthers,
    /// The client no longer matches the session's binding (`BIND_*=reject`).
    Binding,
    /// A login in another object took the session over.
    Login,
    /// A newer login past `MAX_SESSIONS_PER_USER`.
    SessionLimit,
    /// The identity provider signed the user out (OIDC Back-Channel Logout).
    BackchannelLogout,
}

impl EndedBy {
    /// The reason as written in audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::User => "user",
            EndedBy::Admin => "admin",
            EndedBy::LogoutAll => "logout_all",
            EndedBy::LogoutOthers => "logout_others",
            EndedBy::Binding => "binding",
            EndedBy::Login => "login",
            EndedBy::SessionLimit => "session_limit",
            EndedBy::BackchannelLogout => "backchannel_logout",
        }
    }
}

/// Why a session got a new ID: the reason of `session_created` (always `login`) and
/// `session_regenerated` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regeneration {
    /// A login (the guest or older session it replaces dies).
    Login,
    /// The origin's `regenerate` command after a password change.
    PasswordChange,
    /// The origin's `regenerate` command after a change of roles.
    PermissionChange,
    /// The origin's `elevate` command.
    Elevation,
    /// A session last used over plain HTTP, now used over HTTPS.
    HttpsUpgrade,
    /// The origin's `logout_others` command: the current session moves on too.
    LogoutOthers,
}

impl Regeneration {
    /// The reason as written in audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            Regeneration::Login => "login",
            Regeneration::PasswordChange => "password_change",
            Regeneration::PermissionChange => "permission_change",
            Regeneration::Elevation => "elevation",
            Regeneration::HttpsUpgrade => "https_upgrade",
            Regeneration::LogoutOthers => "logout_others",
        }
    }
}

/// The origin's reasons for a `regenerate` command.
impl From<RegenerateReason> for Regeneration {
    fn from(r: RegenerateReason) -> Self {
        match r {
            RegenerateReason::PasswordChange => Regeneration::PasswordChange,
            RegenerateReason::PermissionChange => Regeneration::PermissionChange,
        }
    }
}

/// One audit event, as stored per user and printed as a log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unix seconds.
    pub time: u64,
    /// What happened.
    pub event: EventKind,
    /// The session's user, when there is one.
    pub user: Option<String>,
    /// Public handle, never the token.
    pub session: Option<String>,
    /// The client's address.
    pub ip: String,
    /// The client's user agent, at most 512 characters.
    pub user_agent: String,
    /// Why, in the vocabulary of the event kind (`EndedBy`, `Regeneration`,
    /// `BindingChange`), or a detail for the events that come from outside.
    pub reason: Option<String>,
}

impl AuditEvent {
    /// An event of `kind` at `time`, with no user, session, client or reason yet.
    pub fn new(time: u64, kind: EventKind) -> Self {
        AuditEvent {
            time,
            event: kind,
            user: None,
            session: None,
            ip: String::new(),
            user_agent: String::new(),
            reason: None,
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, r: impl Into<String>) -> Self {
        self.reason = Some(r.into());
        self
    }

    /// Sets the client (the user agent is cut to 512 characters).
    pub fn client(mut self, ip: &str, ua: &str) -> Self {
        self.ip = ip.into();
        self.user_agent = ua.chars().take(512).collect();
        self
    }

    /// The log line: `{"sessiongate":"audit", ...event}`.
    pub fn log_line(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("sessiongate".into(), "audit".into());
        }
        crate::core::json::text(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_line_is_one_json_object() {
        let e = AuditEvent::new(5, EventKind::Logout).reason("user").client("1.2.3.4", "UA\nx");
        let line = e.log_line();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"], "logout");
        assert_eq!(v["sessiongate"], "audit");
        assert_eq!(v["reason"], "user");
    }

    #[test]
    fn names_are_the_serde_names_and_rows_written_before_read_back_unchanged() {
        use EventKind::*;
        let kinds = [
            SessionCreated,
            SessionRegenerated,
            SessionElevated,
            IdleTimeout,
            AbsoluteTimeout,
            Logout,
            Revoked,
            BindingChanged,
            ForgedToken,
            InvalidOriginCommand,
            CrossSiteRequest,
            LoginFailed,
            ConnectionClosed,
            DeviceBound,
            DeviceProofFailed,
        ];
        for k in kinds {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for b in [
            EndedBy::User,
            EndedBy::Admin,
            EndedBy::LogoutAll,
            EndedBy::LogoutOthers,
            EndedBy::Binding,
            EndedBy::Login,
            EndedBy::SessionLimit,
            EndedBy::BackchannelLogout,
        ] {
            assert_eq!(serde_json::to_value(b).unwrap(), b.as_str());
        }
        for r in [
            Regeneration::Login,
            Regeneration::PasswordChange,
            Regeneration::PermissionChange,
            Regeneration::Elevation,
            Regeneration::HttpsUpgrade,
            Regeneration::LogoutOthers,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        let row =
            r#"{"time":5,"event":"revoked","user":"alice","session":"h","ip":"1.2.3.4","user_agent":"UA/1","reason":"session_limit"}"#;
        let e: AuditEvent = serde_json::from_str(row).unwrap();
        assert_eq!(e.event, Revoked);
        assert_eq!(serde_json::to_string(&e).unwrap(), row);
    }

    /// `event == "revoked"` (how the engine's tests pick events) holds for the kind's own
    /// name only.
    #[test]
    fn an_event_kind_equals_its_own_name_and_no_other() {
        assert_eq!(EventKind::Logout, "logout");
        assert_eq!(EventKind::LoginFailed, "login_failed");
        assert_ne!(EventKind::Logout, "revoked");
        assert_ne!(EventKind::Logout, "Logout");
        assert_ne!(EventKind::Revoked, "");
    }
}
