//! Where a session gets a new ID: a fresh CSPRNG token in the session's object, and the
//! regeneration that moves a live session to it (login over a session, `regenerate`,
//! `elevate`, `logout_others`, HTTP -> HTTPS). The old ID is dead once the object answers.

use super::session_object;
use super::validate::{live_from, Live};
use crate::core::audit::Regeneration;
use crate::core::config::Config;
use crate::core::session::Client;
use crate::core::token;
use crate::platform;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use worker::Env;

/// A new token in the given object, signed with the current key, and its storage hash.
pub fn new_token(cfg: &Config, store_id: &[u8; 32]) -> worker::Result<(String, String)> {
    let secret = platform::random::<32>()?;
    Ok((
        token::mint(store_id, &secret, cfg.session_secret.bytes()),
        token::storage_hash(&secret),
    ))
}

pub enum Regenerated {
    Done(Box<Live>, String),
    Dead,
}

/// Moves a live session to a fresh ID; the old one is dead once this returns.
pub async fn regenerate(
    env: &Env,
    cfg: &Config,
    live: &Live,
    reason: Regeneration,
    roles: Option<Vec<String>>,
    elevate: bool,
    client: &Client,
) -> Result<Regenerated, StoreError> {
    let (tok, hash) = new_token(cfg, &live.store_id).map_err(|e| StoreError::Unexpected(e.to_string()))?;
    let msg = StoreRequest::Regenerate {
        old_hash: live.hash.clone(),
        new_hash: hash.clone(),
        reason,
        roles,
        elevate,
        client: client.clone(),
    };
    match session_object::call(env, cfg, &live.store_id, &msg).await? {
        StoreResponse::Done { session: Some(s), .. } => {
            let mut next = live_from(live.store_id, hash, s, cfg);
            next.binding = live.binding;
            Ok(Regenerated::Done(Box::new(next), tok))
        }
        StoreResponse::Rejected { .. } => Ok(Regenerated::Dead),
        other => Err(StoreError::Unexpected(format!("unexpected answer {}", other.kind()))),
    }
}
