//! A read-through cache of decoded sessions in front of any `Store`.
//!
//! A session object answers every request of its user; without the cache each validation
//! would read the row from SQLite and decode its JSON again. Sessions change
//! only through `put` and `delete`, which update the cache after the store accepted the
//! write, so a cached session is always the stored one. A failed write drops the entry
//! (the next read goes to the store). The object's memory goes when it is evicted, and
//! the cache with it: it is never a second source of truth.

use super::{Store, StoreResult};
use crate::core::audit::AuditEvent;
use crate::core::session::{Reason, Session};
use std::cell::RefCell;
use std::collections::HashMap;

/// Sessions kept per object; past it the cache starts over (objects are per user, so
/// only an unusual one gets there).
pub const CAPACITY: usize = 256;

/// A `Store` that keeps decoded sessions in memory in front of `inner`.
pub struct Cached<S> {
    inner: S,
    sessions: RefCell<HashMap<String, Session>>,
}

impl<S: Store> Cached<S> {
    /// An empty cache in front of `inner`.
    pub fn new(inner: S) -> Self {
        Cached {
            inner,
            sessions: RefCell::new(HashMap::new()),
        }
    }

    /// The store underneath.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn remember(&self, hash: &str, session: &Session) {
        let mut cache = self.sessions.borrow_mut();
        if cache.len() >= CAPACITY && !cache.contains_key(hash) {
            cache.clear();
        }
        cache.insert(hash.to_string(), session.clone());
    }

    fn forget(&self, hash: &str) {
        self.sessions.borrow_mut().remove(hash);
    }

    #[cfg(test)]
    fn cached(&self) -> usize {
        self.sessions.borrow().len()
    }
}

impl<S: Store> Store for Cached<S> {
    fn get(&self, hash: &str) -> StoreResult<Option<Session>> {
        if let Some(s) = self.sessions.borrow().get(hash) {
            return Ok(Some(s.clone()));
        }
        let found = self.inner.get(hash)?;
        if let Some(s) = &found {
            self.remember(hash, s);
        }
        Ok(found)
    }

    fn put(&self, hash: &str, session: &Session, expires_at: u64) -> StoreResult<()> {
        self.forget(hash);
        self.inner.put(hash, session, expires_at)?;
        self.remember(hash, session);
        Ok(())
    }

    fn delete(&self, hash: &str) -> StoreResult<()> {
        self.forget(hash);
        self.inner.delete(hash)
    }

    fn all(&self) -> StoreResult<Vec<(String, Session)>> {
        self.inner.all()
    }

    fn due(&self, now: u64) -> StoreResult<Vec<(String, Session)>> {
        self.inner.due(now)
    }

    fn next_deadline(&self) -> StoreResult<Option<u64>> {
        self.inner.next_deadline()
    }

    fn tombstone(&self, hash: &str, reason: Reason, until: u64, replaced: bool) -> StoreResult<()> {
        self.inner.tombstone(hash, reason, until, replaced)
    }

    fn tombstone_reason(&self, hash: &str, now: u64) -> StoreResult<Option<(Reason, bool)>> {
        self.inner.tombstone_reason(hash, now)
    }

    fn purge_tombstones(&self, now: u64) -> StoreResult<()> {
        self.inner.purge_tombstones(now)
    }

    fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        self.inner.append_audit(event)
    }

    fn audit_page(&self, limit: u32, before: Option<u64>) -> StoreResult<Vec<(u64, AuditEvent)>> {
        self.inner.audit_page(limit, before)
    }

    fn trim_audit(&self, now: u64) -> StoreResult<()> {
        self.inner.trim_audit(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::session::fixtures;
    use crate::store::memory::MemoryStore;
    use proptest::prelude::*;

    /// Only `last_seen` varies: the cache must hand back exactly what was stored.
    fn session(handle: &str, last_seen: u64) -> Session {
        Session {
            last_seen,
            ..fixtures::session(handle, 0)
        }
    }

    #[test]
    fn repeated_reads_hit_the_store_once() {
        let c = Cached::new(MemoryStore::default());
        c.put("h", &session("a", 1), 10).unwrap();
        for _ in 0..5 {
            assert_eq!(c.get("h").unwrap(), Some(session("a", 1)));
        }
        assert_eq!(c.inner().reads(), 0, "served from memory after the write");
        assert_eq!(c.get("other").unwrap(), None);
        assert_eq!(c.inner().reads(), 1, "a miss asks the store, and is not cached");
        assert_eq!(c.get("other").unwrap(), None);
        assert_eq!(c.inner().reads(), 2);
    }

    #[test]
    fn a_failed_write_leaves_no_session_the_store_does_not_have() {
        let c = Cached::new(MemoryStore::default());
        c.put("h", &session("a", 1), 10).unwrap();
        c.inner().fail_writes(true);
        assert!(c.put("h", &session("a", 2), 10).is_err());
        // The store still holds the first version; so must every read.
        assert_eq!(c.get("h").unwrap(), Some(session("a", 1)));
        assert!(c.delete("h").is_err());
        assert_eq!(c.get("h").unwrap(), Some(session("a", 1)));
        c.inner().fail_writes(false);
        c.delete("h").unwrap();
        assert_eq!(c.get("h").unwrap(), None);
    }

    #[test]
    fn a_full_cache_starts_over_and_stays_correct() {
        let c = Cached::new(MemoryStore::default());
        for i in 0..(CAPACITY + 10) {
            c.put(&format!("h{i}"), &session(&format!("s{i}"), i as u64), 10).unwrap();
        }
        assert!(c.cached() <= CAPACITY);
        for i in 0..(CAPACITY + 10) {
            assert_eq!(c.get(&format!("h{i}")).unwrap().map(|s| s.last_seen), Some(i as u64));
        }
    }

    #[test]
    fn the_cache_holds_capacity_sessions_at_once_and_starts_over_past_it() {
        let c = Cached::new(MemoryStore::default());
        for i in 0..CAPACITY {
            c.put(&format!("h{i}"), &session("s", i as u64), 10).unwrap();
        }
        assert_eq!(c.cached(), CAPACITY, "no write below the capacity drops another");
        for i in 0..CAPACITY {
            assert_eq!(c.get(&format!("h{i}")).unwrap().map(|s| s.last_seen), Some(i as u64));
        }
        assert_eq!(c.inner().reads(), 0, "every one served from memory");
        c.put("h0", &session("s", 99), 10).unwrap();
        assert_eq!(c.cached(), CAPACITY, "rewriting a cached session is not a new one");
        c.put("one-more", &session("s", 1), 10).unwrap();
        assert_eq!(c.cached(), 1, "past the capacity the cache starts over");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(u8, u64),
        Delete(u8),
        Get(u8),
        Fail(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..6, 0u64..50).prop_map(|(k, v)| Op::Put(k, v)),
            (0u8..6).prop_map(Op::Delete),
            (0u8..6).prop_map(Op::Get),
            any::<bool>().prop_map(Op::Fail),
        ]
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(2_000))]
        /// Whatever the sequence of writes, failures and reads, a read through the cache
        /// gives exactly what the store underneath holds.
        #[test]
        fn reads_always_match_the_store(ops in proptest::collection::vec(op(), 1..60)) {
            let c = Cached::new(MemoryStore::default());
            for op in ops {
                match op {
                    Op::Put(k, v) => { let _ = c.put(&format!("h{k}"), &session("s", v), 10); }
                    Op::Delete(k) => { let _ = c.delete(&format!("h{k}")); }
                    Op::Fail(f) => c.inner().fail_writes(f),
                    Op::Get(k) => {
                        let key = format!("h{k}");
                        prop_assert_eq!(c.get(&key).unwrap(), c.inner().get(&key).unwrap());
                    }
                }
            }
            for k in 0..6u8 {
                let key = format!("h{k}");
                prop_assert_eq!(c.get(&key).unwrap(), c.inner().get(&key).unwrap());
            }
        }
    }
}
