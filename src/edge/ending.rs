//! Ending sessions on someone else's word, in one place: back-channel logout (the
//! provider), user logout. Whatever must happen when a session ends besides the store's
//! own work (for example closing the session's WebSockets) belongs here, so that every
//! such path gets it.

use super::session_object;
use crate::core::config::Config;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use worker::Env;

/// Sends an ending request (`Destroy`, `DestroyIdp`, ...) to the object `store_id`. An id
/// that is not one of this namespace's has no sessions to end.
pub async fn end(env: &Env, cfg: &Config, store_id: &[u8; 32], msg: &StoreRequest) -> Result<Option<StoreResponse>, StoreError> {
    session_object::ask(env, cfg, store_id, msg).await
}
