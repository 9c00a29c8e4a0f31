//! Small expiring records for edge sign-in, kept in a session Durable Object of their
//! own (named after what they index): the sign-in flow under its state (taken once),
//! who holds a provider session id or subject, the logout tokens' `jti`s seen. Each call
//! is one transaction in its object, so "take" and "claim" are atomic.

use serde_json::{json, Value};

/// The object URL of these calls (session calls use `https://session-store/`).
pub const KV_URL: &str = "https://session-store/kv";

/// A call on an object's records. `until`: Unix seconds after which a record is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

// The wire format is a JSON array through `serde_json::Value` (`["put", key, value,
// until]`): derived serde code for these two enums would add kilobytes to the Wasm.

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

impl KvRequest {
    /// The message sent to the object.
    pub fn to_wire(&self) -> String {
        let v = match self {
            KvRequest::Put { key, value, until } => json!(["put", key, value, until]),
            KvRequest::Take { key } => json!(["take", key]),
            KvRequest::All => json!(["all"]),
            KvRequest::Claim { key, until } => json!(["claim", key, until]),
        };
        crate::core::json::text(&v)
    }

    /// Reads `to_wire`'s output; `None` for anything else.
    pub fn from_wire(s: &str) -> Option<Self> {
        let v: Vec<Value> = serde_json::from_str(s).ok()?;
        match (v.first()?.as_str()?, v.len()) {
            ("put", 4) => Some(KvRequest::Put {
                key: text(&v[1])?,
                value: text(&v[2])?,
                until: v[3].as_u64()?,
            }),
            ("take", 2) => Some(KvRequest::Take { key: text(&v[1])? }),
            ("all", 1) => Some(KvRequest::All),
            ("claim", 3) => Some(KvRequest::Claim {
                key: text(&v[1])?,
                until: v[2].as_u64()?,
            }),
            _ => None,
        }
    }
}

impl KvResponse {
    /// The object's answer.
    pub fn to_wire(&self) -> String {
        let v = match self {
            KvResponse::Done => json!(["done"]),
            KvResponse::Value(v) => json!(["value", v]),
            KvResponse::Values(rows) => json!(["values", rows]),
            KvResponse::Claimed(b) => json!(["claimed", b]),
        };
        crate::core::json::text(&v)
    }

    /// Reads `to_wire`'s output; `None` for anything else.
    pub fn from_wire(s: &str) -> Option<Self> {
        let v: Vec<Value> = serde_json::from_str(s).ok()?;
        match (v.first()?.as_str()?, v.len()) {
            ("done", 1) => Some(KvResponse::Done),
            ("value", 2) if v[1].is_null() => Some(KvResponse::Value(None)),
            ("value", 2) => Some(KvResponse::Value(Some(text(&v[1])?))),
            ("values", 2) => {
                let rows = v[1].as_array()?;
                let pair = |r: &Value| Some((text(r.get(0)?)?, text(r.get(1)?)?));
                Some(KvResponse::Values(rows.iter().map(pair).collect::<Option<_>>()?))
            }
            ("claimed", 2) => Some(KvResponse::Claimed(v[1].as_bool()?)),
            _ => None,
        }
    }
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
        assert_eq!(r.to_wire(), r#"["claim","j",5]"#);
    }

    #[test]
    fn every_message_reads_back_and_junk_is_refused() {
        let requests = [
            KvRequest::Put {
                key: "k".into(),
                value: "a\nb".into(),
                until: 9,
            },
            KvRequest::Take { key: "k".into() },
            KvRequest::All,
            KvRequest::Claim { key: "k".into(), until: 1 },
        ];
        for r in requests {
            assert_eq!(KvRequest::from_wire(&r.to_wire()), Some(r));
        }
        let answers = [
            KvResponse::Done,
            KvResponse::Value(None),
            KvResponse::Value(Some("v".into())),
            KvResponse::Values(vec![("u".into(), "s".into())]),
            KvResponse::Claimed(false),
        ];
        for a in answers {
            assert_eq!(KvResponse::from_wire(&a.to_wire()), Some(a));
        }
        for junk in ["", "{}", "[]", r#"["put","k"]"#, r#"["claim","k",-1]"#, r#"["values",[["a"]]]"#] {
            assert_eq!(KvRequest::from_wire(junk), None, "{junk}");
            assert_eq!(KvResponse::from_wire(junk), None, "{junk}");
        }
    }
}
