//! Audit retention as the README documents it: per user, the newest 1000 events, none
//! older than 30 days (`core::audit`, applied by the store's `trim_audit`; the
//! in-memory store here, the Durable Object's SQLite with the same constants).

use sessiongate::core::audit::{AuditEvent, EventKind};
use sessiongate::store::memory::MemoryStore;
use sessiongate::store::Store;

const DAY: u64 = 86_400;

#[test]
fn audit_events_are_kept_30_days_and_not_a_second_longer() {
    let store = MemoryStore::default();
    let t = 1_000_000;
    store.append_audit(&AuditEvent::new(t, EventKind::SessionCreated)).unwrap();
    store.trim_audit(t + 30 * DAY).unwrap();
    assert_eq!(store.audit_page(10, None).unwrap().len(), 1, "kept at exactly 30 days");
    store.trim_audit(t + 30 * DAY + 1).unwrap();
    assert_eq!(store.audit_page(10, None).unwrap().len(), 0, "dropped one second later");
}

#[test]
fn audit_keeps_the_newest_1000_events() {
    let store = MemoryStore::default();
    for i in 0..1001 {
        store.append_audit(&AuditEvent::new(1_000 + i, EventKind::SessionCreated)).unwrap();
    }
    store.trim_audit(2_000).unwrap();
    let kept = store.audit_page(2000, None).unwrap();
    assert_eq!(kept.len(), 1000);
    assert_eq!(kept.last().unwrap().1.time, 1_001, "the oldest one went");
}
