//! Audit events: stored per user (bounded) and printed as one JSON line each, so that
//! Workers Logs / Logpush can ship them.

use serde::{Deserialize, Serialize};

/// Retention per user: the newest `MAX_EVENTS`, none older than `MAX_AGE` seconds.
pub const MAX_EVENTS: u64 = 1000;
pub const MAX_AGE: u64 = 30 * 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub time: u64,
    pub event: String,
    pub user: Option<String>,
    /// Public handle, never the token.
    pub session: Option<String>,
    pub ip: String,
    pub user_agent: String,
    pub reason: Option<String>,
}

impl AuditEvent {
    pub fn new(time: u64, event: &str) -> Self {
        AuditEvent {
            time,
            event: event.into(),
            user: None,
            session: None,
            ip: String::new(),
            user_agent: String::new(),
            reason: None,
        }
    }

    pub fn reason(mut self, r: impl Into<String>) -> Self {
        self.reason = Some(r.into());
        self
    }

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
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_line_is_one_json_object() {
        let e = AuditEvent::new(5, "logout").reason("user").client("1.2.3.4", "UA\nx");
        let line = e.log_line();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"], "logout");
        assert_eq!(v["sessiongate"], "audit");
        assert_eq!(v["reason"], "user");
    }
}
