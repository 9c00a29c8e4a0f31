//! Small expiring records for edge sign-in, kept in a session Durable Object of their
//! own (named after what they index): the sign-in flow under its state (taken once),
//! who holds a provider session id or subject, the logout tokens' `jti`s seen. Each call
//! is one transaction in its object, so "take" and "claim" are atomic.

use serde::{Deserialize, Serialize};

/// The object URL of these calls (session calls use `https://session-store/`).
pub const KV_URL: &str = "https://session-store/kv";

/// A call on an object's records. `until`: Unix seconds after which a record is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvRequest {
    /// Insert or replace.
    Put {
        /// The record's key.
        key: String,
        /// Its value.
        value: String,
        /// Its end.
        until: u64,
    },
    /// Remove and hand back (single use): the sign-in flow under its state.
    Take {
        /// The record's key.
        key: String,
    },
    /// Every live record.
    All,
    /// Insert unless a live record has that key: `Claimed(false)` for a replay.
    Claim {
        /// The record's key.
        key: String,
        /// Its end.
        until: u64,
    },
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvResponse {
    /// Written.
    Done,
    /// The record taken, if it was there and live.
    Value(Option<String>),
    /// Every live record, `(key, value)`.
    Values(Vec<(String, String)>),
    /// `true`: the key was new and is now claimed.
    Claimed(bool),
}

/// Object names: one object per flow, per (issuer, sid), per (issuer, sub), and one per
/// issuer for `jti`s. Hashed, so no provider value becomes an object name as such.
pub fn object_name(kind: &str, parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("oidc-{kind}:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unambiguous_and_wire_is_stable() {
        assert_ne!(object_name("sid", &["ab", "c"]), object_name("sid", &["a", "bc"]));
        assert!(object_name("flow", &["x"]).starts_with("oidc-flow:"));
        let r = KvRequest::Claim { key: "j".into(), until: 5 };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"claim":{"key":"j","until":5}}"#);
    }
}
