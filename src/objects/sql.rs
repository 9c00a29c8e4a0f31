//! `Store` over Durable Object SQLite. Rows keep the session as JSON plus the columns
//! the alarm and lookups need; the key is the hash of the token's secret.

use crate::core::audit::{self, AuditEvent};
use crate::core::session::{Reason, Session};
use crate::store::{Store, StoreError, StoreResult};
use serde::Deserialize;
use std::cell::Cell;
use worker::{SqlCursor, SqlStorage, SqlStorageValue};

pub struct SqlStore {
    sql: SqlStorage,
    rows_written: Cell<u64>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, handle TEXT NOT NULL, expires_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions(expires_at);
CREATE TABLE IF NOT EXISTS tombstones (hash TEXT PRIMARY KEY, reason TEXT NOT NULL, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS policy (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
";

#[derive(Deserialize)]
struct Row {
    hash: String,
    body: String,
}

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

#[derive(Deserialize)]
struct AuditRow {
    id: f64,
    body: String,
}

#[derive(Deserialize)]
struct NumRow {
    n: Option<f64>,
}

#[derive(Deserialize)]
struct ReasonRow {
    reason: String,
}

fn int(v: u64) -> SqlStorageValue {
    // Unix seconds and row ids stay far below 2^53.
    SqlStorageValue::Integer(v.min(1 << 52) as i64)
}

fn e(err: impl std::fmt::Display) -> StoreError {
    StoreError::backend(err)
}

fn decode(body: &str) -> StoreResult<Session> {
    serde_json::from_str(body).map_err(|err| StoreError::decode("session row", err))
}

impl SqlStore {
    pub fn new(sql: SqlStorage) -> StoreResult<Self> {
        sql.exec(SCHEMA, None).map_err(e)?;
        Ok(SqlStore {
            sql,
            rows_written: Cell::new(0),
        })
    }

    /// Session rows written since this object started (for the benchmark).
    pub fn rows_written(&self) -> u64 {
        self.rows_written.get()
    }

    /// The policy (`Policy::to_wire`) the last session call brought: what alarms run by.
    pub fn policy(&self) -> StoreResult<Option<String>> {
        let rows: Vec<BodyRow> = self.exec("SELECT body FROM policy WHERE id = 1", vec![])?.to_array().map_err(e)?;
        Ok(rows.into_iter().next().map(|r| r.body))
    }

    /// Keeps the policy a call brought, for the alarms that fire before the next call.
    pub fn set_policy(&self, wire: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO policy (id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
            vec![wire.into()],
        )?;
        Ok(())
    }

    fn exec(&self, q: &str, args: Vec<SqlStorageValue>) -> StoreResult<SqlCursor> {
        self.sql.exec(q, args).map_err(e)
    }

    fn sessions(&self, q: &str, args: Vec<SqlStorageValue>) -> StoreResult<Vec<(String, Session)>> {
        let rows: Vec<Row> = self.exec(q, args)?.to_array().map_err(e)?;
        rows.into_iter().map(|r| Ok((r.hash, decode(&r.body)?))).collect()
    }

    fn number(&self, q: &str, args: Vec<SqlStorageValue>) -> StoreResult<Option<u64>> {
        let rows: Vec<NumRow> = self.exec(q, args)?.to_array().map_err(e)?;
        Ok(rows.into_iter().next().and_then(|r| r.n).map(|n| n as u64))
    }
}

impl Store for SqlStore {
    fn get(&self, hash: &str) -> StoreResult<Option<Session>> {
        let rows: Vec<BodyRow> = self
            .exec("SELECT body FROM sessions WHERE hash = ?", vec![hash.into()])?
            .to_array()
            .map_err(e)?;
        rows.into_iter().next().map(|r| decode(&r.body)).transpose()
    }

    fn put(&self, hash: &str, session: &Session, expires_at: u64) -> StoreResult<()> {
        let body = serde_json::to_string(session).map_err(|err| StoreError::encode("session", err))?;
        let c = self.exec(
            "INSERT INTO sessions (hash, handle, expires_at, body) VALUES (?, ?, ?, ?) \
             ON CONFLICT(hash) DO UPDATE SET handle = excluded.handle, expires_at = excluded.expires_at, body = excluded.body",
            vec![hash.into(), session.handle.as_str().into(), int(expires_at), body.into()],
        )?;
        self.rows_written.set(self.rows_written.get() + c.rows_written() as u64);
        Ok(())
    }

    fn delete(&self, hash: &str) -> StoreResult<()> {
        self.exec("DELETE FROM sessions WHERE hash = ?", vec![hash.into()])?;
        Ok(())
    }

    fn all(&self) -> StoreResult<Vec<(String, Session)>> {
        self.sessions("SELECT hash, body FROM sessions", vec![])
    }

    fn due(&self, now: u64) -> StoreResult<Vec<(String, Session)>> {
        self.sessions("SELECT hash, body FROM sessions WHERE expires_at <= ?", vec![int(now)])
    }

    fn next_deadline(&self) -> StoreResult<Option<u64>> {
        match self.number("SELECT MIN(expires_at) AS n FROM sessions", vec![])? {
            Some(n) => Ok(Some(n)),
            None => self.number("SELECT MIN(until) AS n FROM tombstones", vec![]),
        }
    }

    fn tombstone(&self, hash: &str, reason: Reason, until: u64, replaced: bool) -> StoreResult<()> {
        // "replaced" reads back as `revoked` (no schema change for the flag).
        let stored = if replaced { "replaced" } else { reason.as_str() };
        self.exec(
            "INSERT INTO tombstones (hash, reason, until) VALUES (?, ?, ?) \
             ON CONFLICT(hash) DO UPDATE SET reason = excluded.reason, until = excluded.until",
            vec![hash.into(), stored.into(), int(until)],
        )?;
        Ok(())
    }

    fn tombstone_reason(&self, hash: &str, now: u64) -> StoreResult<Option<(Reason, bool)>> {
        let rows: Vec<ReasonRow> = self
            .exec(
                "SELECT reason FROM tombstones WHERE hash = ? AND until > ?",
                vec![hash.into(), int(now)],
            )?
            .to_array()
            .map_err(e)?;
        Ok(rows.into_iter().next().and_then(|r| match r.reason.as_str() {
            "replaced" => Some((Reason::Revoked, true)),
            other => serde_json::from_value(serde_json::Value::String(other.into()))
                .ok()
                .map(|reason| (reason, false)),
        }))
    }

    fn purge_tombstones(&self, now: u64) -> StoreResult<()> {
        self.exec("DELETE FROM tombstones WHERE until <= ?", vec![int(now)])?;
        Ok(())
    }

    fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        let body = serde_json::to_string(event).map_err(|err| StoreError::encode("audit event", err))?;
        self.exec("INSERT INTO audit (time, body) VALUES (?, ?)", vec![int(event.time), body.into()])?;
        Ok(())
    }

    fn audit_page(&self, limit: u32, before: Option<u64>) -> StoreResult<Vec<(u64, AuditEvent)>> {
        let rows: Vec<AuditRow> = self
            .exec(
                "SELECT id, body FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?",
                vec![int(before.unwrap_or(1 << 52)), int(limit as u64)],
            )?
            .to_array()
            .map_err(e)?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.id as u64,
                    serde_json::from_str(&r.body).map_err(|err| StoreError::decode("audit row", err))?,
                ))
            })
            .collect()
    }

    fn trim_audit(&self, now: u64) -> StoreResult<()> {
        self.exec(
            "DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ? OR time < ?",
            vec![int(audit::MAX_EVENTS), int(now.saturating_sub(audit::MAX_AGE))],
        )?;
        Ok(())
    }
}
