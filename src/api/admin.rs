//! The admin API: `Authorization: Bearer <ADMIN_TOKEN>`. Without the secret configured
//! it does not exist (404); a missing or wrong token is 401.

use crate::core::audit::EndedBy;
use crate::core::config::Config;
use crate::core::path::decode_segment;
use crate::core::session::Client;
use crate::core::token;
use crate::edge::log;
use crate::edge::request::Incoming;
use crate::edge::respond;
use crate::edge::session_object;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::{Env, Request, Response, Result};

/// Constant-time: both sides are hashed first, so neither length nor content leaks.
fn authorized(req: &Request, expected: &[u8]) -> bool {
    let given = req.headers().get("authorization").ok().flatten().unwrap_or_default();
    // The scheme is case-insensitive (RFC 9110 11.1).
    let Some((scheme, tok)) = given.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let a = Sha256::digest(tok.trim().as_bytes());
    let b = Sha256::digest(expected);
    a.ct_eq(&b).into()
}

fn query_param(q: &str, name: &str) -> Option<String> {
    q.trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn admin_client(inc: &Incoming) -> Client {
    Client {
        ip: inc.client.ip.clone(),
        ua: format!("admin: {}", inc.client.ua),
        https: inc.https,
    }
}

fn answer(r: std::result::Result<StoreResponse, StoreError>) -> Result<Response> {
    match r {
        Ok(StoreResponse::Sessions { sessions }) => respond::json(200, &json!({ "sessions": sessions })),
        Ok(StoreResponse::Done { count, .. }) => respond::json(200, &json!({ "revoked": count })),
        Ok(StoreResponse::Events { events, next_before }) => respond::json(200, &json!({ "events": events, "next_before": next_before })),
        Ok(StoreResponse::NotFound) => respond::error(404, "not_found"),
        Ok(other) => respond::error_detail(500, "internal", &format!("unexpected store answer {}", other.kind())),
        Err(e) => {
            log::failure("store_unavailable", &e.to_string());
            respond::store_unavailable()
        }
    }
}

pub async fn route(req: &Request, env: &Env, cfg: &Config, inc: &Incoming, segments: &[&str]) -> Result<Response> {
    let Some(expected) = &cfg.admin_token else {
        return respond::error(404, "not_found");
    };
    if !authorized(req, expected.bytes()) {
        return respond::error(401, "unauthorized");
    }
    let (user, rest) = match segments {
        ["users", user, rest @ ..] => match decode_segment(user).filter(|u| !u.is_empty()) {
            Some(u) => (u, rest),
            None => return respond::error_detail(400, "bad_request", "malformed user in path"),
        },
        _ => return respond::error(404, "not_found"),
    };
    let store_id = match session_object::user_store(env, &user) {
        Ok(id) => id,
        Err(e) => return answer(Err(e)),
    };
    match (inc.method(), rest) {
        ("GET", ["sessions"]) => answer(session_object::call(env, cfg, &store_id, &StoreRequest::List { caller: None }).await),
        ("DELETE", ["sessions"]) => {
            let msg = StoreRequest::DestroyAll {
                caller: None,
                except: None,
                by: EndedBy::Admin,
                client: admin_client(inc),
            };
            answer(session_object::call(env, cfg, &store_id, &msg).await)
        }
        ("DELETE", ["sessions", id]) => {
            if !token::is_handle(id) {
                return respond::error(404, "not_found");
            }
            let msg = StoreRequest::DestroyHandle {
                caller: None,
                handle: id.to_string(),
                by: EndedBy::Admin,
                client: admin_client(inc),
            };
            answer(session_object::call(env, cfg, &store_id, &msg).await)
        }
        ("GET", ["audit"]) => {
            let limit = match query_param(&inc.query, "limit").map(|l| l.parse::<u32>()) {
                None => 50,
                Some(Ok(l)) if (1..=1000).contains(&l) => l,
                Some(_) => return respond::error_detail(400, "bad_request", "limit must be a whole number from 1 to 1000"),
            };
            let before = match query_param(&inc.query, "before").map(|b| b.parse::<u64>()) {
                None => None,
                Some(Ok(b)) => Some(b),
                Some(Err(_)) => return respond::error_detail(400, "bad_request", "before must be an event id from next_before"),
            };
            answer(session_object::call(env, cfg, &store_id, &StoreRequest::Audit { limit, before }).await)
        }
        ("GET", ["stats"]) => match session_object::stats(env, &store_id).await {
            Ok(v) => respond::json(200, &v),
            Err(e) => answer(Err(e)),
        },
        _ => respond::error(404, "not_found"),
    }
}
