//! The session store: the messages the gate sends to a session Durable Object, the
//! `Store` trait over its storage, and the engine that applies the session rules.
//! All pure: the Durable Object (`crate::objects`) only supplies SQLite and the clock.

#![warn(missing_docs)]

pub mod cache;
pub mod call_url;
pub mod engine;
mod error;
pub mod kv;
pub mod memory;
pub mod policy;
pub mod protocol;

pub use error::StoreError;

use crate::core::audit::AuditEvent;
use crate::core::session::{Reason, Session};

/// The result of every storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// What a session store must do. Synchronous on purpose: Durable Object SQLite calls are
/// synchronous, so one engine call runs as one implicit transaction with no interleaving.
pub trait Store {
    /// The session stored under `hash`, if any.
    fn get(&self, hash: &str) -> StoreResult<Option<Session>>;
    /// Insert or replace; `expires_at` is when the alarm should look at it again.
    fn put(&self, hash: &str, session: &Session, expires_at: u64) -> StoreResult<()>;
    /// Removes a session (no error when there is none).
    fn delete(&self, hash: &str) -> StoreResult<()>;
    /// Every stored session with its hash, expired or not.
    fn all(&self) -> StoreResult<Vec<(String, Session)>>;
    /// Sessions whose `expires_at` is at or before `now`.
    fn due(&self, now: u64) -> StoreResult<Vec<(String, Session)>>;
    /// Earliest `expires_at`, or, with no sessions left, the earliest tombstone end.
    fn next_deadline(&self) -> StoreResult<Option<u64>>;
    /// `replaced`: the session lives on under a new ID (regeneration); reported back with
    /// the rejection so a late request with the old ID can be told from a logout.
    fn tombstone(&self, hash: &str, reason: Reason, until: u64, replaced: bool) -> StoreResult<()>;
    /// The reason a tombstone for `hash` keeps until its end, and whether the session
    /// was replaced.
    fn tombstone_reason(&self, hash: &str, now: u64) -> StoreResult<Option<(Reason, bool)>>;
    /// Drops tombstones whose end has passed.
    fn purge_tombstones(&self, now: u64) -> StoreResult<()>;
    /// Appends an event to the audit log.
    fn append_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Newest first, ids strictly below `before`.
    fn audit_page(&self, limit: u32, before: Option<u64>) -> StoreResult<Vec<(u64, AuditEvent)>>;
    /// Keeps the newest `audit::MAX_EVENTS`, none older than `audit::MAX_AGE`.
    fn trim_audit(&self, now: u64) -> StoreResult<()>;
}
