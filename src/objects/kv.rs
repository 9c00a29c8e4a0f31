//! `store::kv` over the object's SQLite: one table, created on first use, expired rows
//! dropped on every call and by the alarm.

use crate::store::kv::{KvRequest, KvResponse};
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS oidc_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, until INTEGER NOT NULL)";

#[derive(Deserialize)]
struct Row {
    key: String,
    value: String,
}

fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(v.min(1 << 52) as i64)
}

fn rows(sql: &SqlStorage, q: &str, args: Vec<SqlStorageValue>) -> worker::Result<Vec<Row>> {
    sql.exec(q, args)?.to_array()
}

/// Applies one call at `now`; returns the answer and the latest `until` written (for the alarm).
pub fn handle(sql: &SqlStorage, req: KvRequest, now: u64) -> worker::Result<(KvResponse, Option<u64>)> {
    sql.exec(SCHEMA, None)?;
    sweep(sql, now)?;
    Ok(match req {
        KvRequest::Put { key, value, until } => {
            sql.exec(
                "INSERT INTO oidc_kv (key, value, until) VALUES (?, ?, ?) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value, until = excluded.until",
                vec![key.into(), value.into(), int(until)],
            )?;
            (KvResponse::Done, Some(until))
        }
        KvRequest::Take { key } => {
            let found = rows(sql, "SELECT key, value FROM oidc_kv WHERE key = ?", vec![key.clone().into()])?;
            sql.exec("DELETE FROM oidc_kv WHERE key = ?", vec![key.into()])?;
            (KvResponse::Value(found.into_iter().next().map(|r| r.value)), None)
        }
        KvRequest::All => {
            let all = rows(sql, "SELECT key, value FROM oidc_kv", vec![])?;
            (KvResponse::Values(all.into_iter().map(|r| (r.key, r.value)).collect()), None)
        }
        KvRequest::Claim { key, until } => {
            let seen = !rows(sql, "SELECT key, value FROM oidc_kv WHERE key = ?", vec![key.clone().into()])?.is_empty();
            if seen {
                (KvResponse::Claimed(false), None)
            } else {
                sql.exec(
                    "INSERT INTO oidc_kv (key, value, until) VALUES (?, '', ?)",
                    vec![key.into(), int(until)],
                )?;
                (KvResponse::Claimed(true), Some(until))
            }
        }
    })
}

fn sweep(sql: &SqlStorage, now: u64) -> worker::Result<()> {
    sql.exec("DELETE FROM oidc_kv WHERE until <= ?", vec![int(now)])?;
    Ok(())
}

#[derive(Deserialize)]
struct Next {
    n: Option<f64>,
}

/// The alarm's share: drops expired records in an object that has any (a session
/// object has no table and gets none), and says when the next one expires.
pub fn alarm(sql: &SqlStorage, now: u64) -> worker::Result<Option<u64>> {
    let exists: Vec<Next> = sql
        .exec(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'oidc_kv'",
            None,
        )?
        .to_array()?;
    if exists.first().and_then(|r| r.n).unwrap_or(0.0) < 1.0 {
        return Ok(None);
    }
    sweep(sql, now)?;
    let next: Vec<Next> = sql.exec("SELECT MIN(until) AS n FROM oidc_kv", None)?.to_array()?;
    Ok(next.first().and_then(|r| r.n).map(|n| n as u64))
}
