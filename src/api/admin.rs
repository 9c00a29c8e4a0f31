//! The admin API: `Authorization: Bearer <ADMIN_TOKEN>`. Without the secret configured
//! it does not exist (404); a missing or wrong token is 401.

use crate::core::audit::EndedBy;
use crate::core::config::Config;
use crate::core::path::decode_segment;
use crate::core::session::Client;
use crate::core::token;
use crate::gate::parse::Incoming;
use crate::gate::reject;
use crate::gate::store;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
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

fn answer(r: std::result::Result<StoreResponse, crate::store::StoreError>) -> Result<Response> {
    match r {
        Ok(StoreResponse::Sessions { sessions }) => reject::json(200, &json!({ "sessions": sessions })),
        Ok(StoreResponse::Done { count, .. }) => reject::json(200, &json!({ "revoked": count })),
        Ok(StoreResponse::Events { events, next_before }) => reject::json(200, &json!({ "events": events, "next_before": next_before })),
        Ok(StoreResponse::NotFound) => reject::error(404, "not_found"),
        Ok(other) => reject::error_detail(500, "internal", &format!("unexpected store answer {other:?}")),
        Err(e) => {
            worker::console_error!("{}", json!({"sessiongate": "store_unavailable", "detail": e.to_string()}));
            reject::error(503, "store_unavailable")
        }
    }
}

pub async fn route(req: &Request, env: &Env, cfg: &Config, inc: &Incoming, segments: &[&str]) -> Result<Response> {
    let Some(expected) = &cfg.admin_token else {
        return reject::error(404, "not_found");
    };
    if !authorized(req, expected.bytes()) {
        return reject::error(401, "unauthorized");
    }
    let (user, rest) = match segments {
        ["users", user, rest @ ..] => match decode_segment(user).filter(|u| !u.is_empty()) {
            Some(u) => (u, rest),
            None => return reject::error_detail(400, "bad_request", "malformed user in path"),
        },
        _ => return reject::error(404, "not_found"),
    };
    let store_id = match store::user_store(env, &user) {
        Ok(id) => id,
        Err(e) => return answer(Err(e)),
    };
    let t = cfg.store_timeout_ms;
    match (inc.method.as_str(), rest) {
        ("GET", ["sessions"]) => answer(store::call(env, &store_id, &StoreRequest::List { caller: None }, t).await),
        ("DELETE", ["sessions"]) => {
            let msg = StoreRequest::DestroyAll {
                caller: None,
                except: None,
                by: EndedBy::Admin,
                client: admin_client(inc),
            };
            answer(store::call(env, &store_id, &msg, t).await)
        }
        ("DELETE", ["sessions", id]) => {
            if !token::is_handle(id) {
                return reject::error(404, "not_found");
            }
            let msg = StoreRequest::DestroyHandle {
                caller: None,
                handle: id.to_string(),
                by: EndedBy::Admin,
                client: admin_client(inc),
            };
            answer(store::call(env, &store_id, &msg, t).await)
        }
        ("GET", ["audit"]) => {
            let limit = match query_param(&inc.query, "limit").map(|l| l.parse::<u32>()) {
                None => 50,
                Some(Ok(l)) if (1..=1000).contains(&l) => l,
                Some(_) => return reject::error_detail(400, "bad_request", "limit must be a whole number from 1 to 1000"),
            };
            let before = match query_param(&inc.query, "before").map(|b| b.parse::<u64>()) {
                None => None,
                Some(Ok(b)) => Some(b),
                Some(Err(_)) => return reject::error_detail(400, "bad_request", "before must be an event id from next_before"),
            };
            answer(store::call(env, &store_id, &StoreRequest::Audit { limit, before }, t).await)
        }
        ("GET", ["stats"]) => match store::stats(env, &store_id).await {
            Ok(v) => reject::json(200, &v),
            Err(e) => answer(Err(e)),
        },
        _ => reject::error(404, "not_found"),
    }
}
