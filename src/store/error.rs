//! Why a session store call failed. Every variant means the same to the gate (the store
//! is unavailable: fail closed, 503); they differ in what a log reader should look at.

/// A failed store operation, on either side of the Durable Object boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A value could not be written as JSON (a session, an event, a message).
    #[error("cannot encode {what}: {detail}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's message.
        detail: String,
    },
    /// Stored or received JSON does not read back: a corrupt row or a garbled reply.
    #[error("corrupt {what}: {detail}")]
    Decode {
        /// What was being read (`session row`, `audit row`, `store reply`).
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// The storage or the platform under it failed (SQLite, the Durable Object binding).
    #[error("storage: {0}")]
    Backend(String),
    /// The session object did not answer usefully: it failed, answered with an error
    /// status, or missed the deadline (the JS side reports which, as text).
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The object answered, but not with a reply this request can have.
    #[error("unexpected store answer: {0}")]
    Unexpected(String),
}

impl StoreError {
    /// A platform or storage failure, keeping its message.
    pub fn backend(e: impl std::fmt::Display) -> Self {
        StoreError::Backend(e.to_string())
    }

    /// A serde failure while reading `what`.
    pub fn decode(what: &'static str, e: impl std::fmt::Display) -> Self {
        StoreError::Decode {
            what,
            detail: e.to_string(),
        }
    }

    /// A serde failure while writing `what`.
    pub fn encode(what: &'static str, e: impl std::fmt::Display) -> Self {
        StoreError::Encode {
            what,
            detail: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_kind_of_failure() {
        let bad = serde_json::from_str::<u8>("x").unwrap_err();
        assert!(StoreError::decode("session row", &bad)
            .to_string()
            .starts_with("corrupt session row: "));
        assert_eq!(StoreError::backend("disk full").to_string(), "storage: disk full");
        assert_eq!(
            StoreError::Unavailable("no answer within 50 ms".into()).to_string(),
            "session store unavailable: no answer within 50 ms"
        );
    }
}
