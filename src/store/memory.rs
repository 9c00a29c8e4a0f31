//! An in-memory `Store` for native tests of the engine and the cache. Counts writes the
//! way the Durable Object's SQL cursor does, so slide-write limits can be asserted; counts
//! session reads, and can be told to fail session writes, so the cache can be tested.

use super::{Store, StoreError, StoreResult};
use crate::core::audit::{self, AuditEvent};
use crate::core::session::{Reason, Session};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// Sessions, tombstones and audit events in maps; nothing persists.
#[derive(Default)]
pub struct MemoryStore {
    sessions: RefCell<BTreeMap<String, (Session, u64)>>,
    tombstones: RefCell<BTreeMap<String, (Reason, u64, bool)>>,
    audit: RefCell<BTreeMap<u64, AuditEvent>>,
    next_id: Cell<u64>,
    writes: Cell<u64>,
    reads: Cell<u64>,
    fail_writes: Cell<bool>,
}

impl MemoryStore {
    /// Session rows written so far.
    pub fn writes(&self) -> u64 {
        self.writes.get()
    }

    /// Session reads (`get`) so far.
    pub fn reads(&self) -> u64 {
        self.reads.get()
    }

    /// While set, `put` and `delete` fail and change nothing (a full or broken disk).
    pub fn fail_writes(&self, fail: bool) {
        self.fail_writes.set(fail);
    }

    fn writable(&self) -> StoreResult<()> {
        if self.fail_writes.get() {
            return Err(StoreError::backend("disk full"));
        }
        Ok(())
    }
}

impl Store for MemoryStore {
    fn get(&self, hash: &str) -> StoreResult<Option<Session>> {
        self.reads.set(self.reads.get() + 1);
        Ok(self.sessions.borrow().get(hash).map(|(s, _)| s.clone()))
    }

    fn put(&self, hash: &str, session: &Session, expires_at: u64) -> StoreResult<()> {
        self.writable()?;
        self.writes.set(self.writes.get() + 1);
        self.sessions.borrow_mut().insert(hash.into(), (session.clone(), expires_at));
        Ok(())
    }

    fn delete(&self, hash: &str) -> StoreResult<()> {
        self.writable()?;
        self.sessions.borrow_mut().remove(hash);
        Ok(())
    }

    fn all(&self) -> StoreResult<Vec<(String, Session)>> {
        Ok(self.sessions.borrow().iter().map(|(h, (s, _))| (h.clone(), s.clone())).collect())
    }

    fn due(&self, now: u64) -> StoreResult<Vec<(String, Session)>> {
        Ok(self
            .sessions
            .borrow()
            .iter()
            .filter(|(_, (_, e))| *e <= now)
            .map(|(h, (s, _))| (h.clone(), s.clone()))
            .collect())
    }

    fn next_deadline(&self) -> StoreResult<Option<u64>> {
        let s = self.sessions.borrow().values().map(|(_, e)| *e).min();
        Ok(s.or_else(|| self.tombstones.borrow().values().map(|(_, u, _)| *u).min()))
    }

    fn tombstone(&self, hash: &str, reason: Reason, until: u64, replaced: bool) -> StoreResult<()> {
        self.tombstones.borrow_mut().insert(hash.into(), (reason, until, replaced));
        Ok(())
    }

    fn tombstone_reason(&self, hash: &str, now: u64) -> StoreResult<Option<(Reason, bool)>> {
        Ok(self
            .tombstones
            .borrow()
            .get(hash)
            .filter(|(_, u, _)| *u > now)
            .map(|(r, _, replaced)| (*r, *replaced)))
    }

    fn purge_tombstones(&self, now: u64) -> StoreResult<()> {
        self.tombstones.borrow_mut().retain(|_, (_, u, _)| *u > now);
        Ok(())
    }

    fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        self.audit.borrow_mut().insert(id, event.clone());
        Ok(())
    }

    fn audit_page(&self, limit: u32, before: Option<u64>) -> StoreResult<Vec<(u64, AuditEvent)>> {
        let before = before.unwrap_or(u64::MAX);
        Ok(self
            .audit
            .borrow()
            .range(..before)
            .rev()
            .take(limit as usize)
            .map(|(i, e)| (*i, e.clone()))
            .collect())
    }

    fn trim_audit(&self, now: u64) -> StoreResult<()> {
        let floor = self.next_id.get().saturating_sub(audit::MAX_EVENTS);
        self.audit
            .borrow_mut()
            .retain(|id, e| *id > floor && e.time + audit::MAX_AGE >= now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQL store's queries (`src/objects/sql.rs`): `until > now` is live, `until <= now`
    /// is purged. The engine's tests rely on this store answering the same at the second.
    #[test]
    fn the_memory_store_ends_a_tombstone_at_its_until_second_as_the_sql_store_does() {
        let store = MemoryStore::default();
        store.tombstone("h", Reason::Revoked, 100, true).unwrap();
        assert_eq!(store.tombstone_reason("h", 99).unwrap(), Some((Reason::Revoked, true)));
        assert_eq!(store.tombstone_reason("h", 100).unwrap(), None, "gone at its until");
        store.purge_tombstones(99).unwrap();
        assert_eq!(store.next_deadline().unwrap(), Some(100), "kept before its until");
        store.purge_tombstones(100).unwrap();
        assert_eq!(store.next_deadline().unwrap(), None, "purged at its until");
    }
}
