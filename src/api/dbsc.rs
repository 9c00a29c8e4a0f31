//! `POST /.sessiongate/dbsc/register` and `POST /.sessiongate/dbsc/refresh`: the browser's
//! side of Device Bound Session Credentials. Registration stores the public key of a
//! verified proof with the session; a refresh answers a proof by that key over a fresh
//! challenge with a new device cookie. Neither counts as activity; a refused proof
//! changes nothing but the audit log (and spends nothing but the challenge it answered).

use crate::core::config::Config;
use crate::core::cookie::SessionCookie;
use crate::core::dbsc::challenge::{self, ChallengeError, Purpose};
use crate::core::dbsc::proof::{self, Proof, ProofError};
use crate::core::dbsc::wire;
use crate::core::session::Reason;
use crate::core::token::{self, VerifiedToken};
use crate::edge::cookie::{stamp, CookieChange};
use crate::edge::request::Incoming;
use crate::edge::{dbsc, log, respond, session_object};
use crate::platform;
use crate::store::protocol::{Request as StoreRequest, Response as StoreResponse};
use crate::store::StoreError;
use worker::{Env, Request, Response, Result};

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// `Sec-Secure-Session-Id`, as a bare value or a structured-field string.
fn session_identifier(req: &Request) -> Option<String> {
    let raw = header(req, wire::SESSION_ID_HEADER)?;
    let v = raw.trim();
    Some(v.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(v).to_string())
}

/// The request's session token, when it carries exactly one that the gate signed.
fn token_of(cfg: &Config, inc: &Incoming) -> Option<VerifiedToken> {
    match &inc.session_cookie {
        SessionCookie::One(v) => token::verify_keyed(v, cfg.token_macs()).ok(),
        _ => None,
    }
}

fn from_challenge(e: ChallengeError) -> ProofError {
    match e {
        ChallengeError::Unknown => ProofError::JtiUnknown,
        ChallengeError::Stale => ProofError::JtiStale,
    }
}

fn invalid(status: u16, e: ProofError) -> Result<Response> {
    respond::error_detail(status, "invalid_device_proof", e.as_str())
}

fn store_down(e: &StoreError) -> Result<Response> {
    log::failure("store_unavailable", &e.to_string());
    respond::store_unavailable()
}

/// 200 with the session instructions and a fresh device cookie.
fn instructions(cfg: &Config, handle: &str) -> Result<Response> {
    let attrs = wire::cookie_attributes(&cfg.cookie_scope, cfg.cookie_samesite);
    let body = wire::instructions(handle, cfg.cookie_scope.api_base(), &cfg.device.cookie_name, &attrs);
    let resp = respond::json_text(200, body)?;
    resp.headers()
        .append("set-cookie", &dbsc::set_cookie(cfg, handle, platform::now()))?;
    Ok(resp)
}

/// The session has ended: the browser stops refreshing; both cookies are cleared.
fn ended(cfg: &Config, id: Option<&str>) -> Result<Response> {
    let resp = respond::json_text(200, wire::ended(id.unwrap_or_default()))?;
    stamp(resp.headers(), cfg, None, &CookieChange::Clear)?;
    resp.headers().append("set-cookie", &dbsc::clear_cookie(cfg))?;
    Ok(resp)
}

/// A proof (`jti` and header) that a session's own challenge of `purpose` answers.
fn checked(jwt: Option<&str>, cfg: &Config, purpose: Purpose, hash: &str) -> std::result::Result<(Proof, u64), ProofError> {
    let p = proof::parse(jwt.ok_or(ProofError::Missing)?)?;
    let until = challenge::verify(&p.jti, &cfg.token_keys(), purpose, hash, platform::now()).map_err(from_challenge)?;
    Ok((p, until))
}

pub async fn register(req: &Request, env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    let Some(t) = token_of(cfg, inc) else {
        let reason = if inc.session_cookie.is_present() {
            Reason::Invalid
        } else {
            Reason::Missing
        };
        return respond::unauthenticated(reason);
    };
    let hash = t.storage_hash();
    let (p, until) = match checked(header(req, wire::RESPONSE_HEADER).as_deref(), cfg, Purpose::Register, &hash) {
        Ok(x) => x,
        Err(e) => return refused(env, cfg, inc, &t, e, 400).await,
    };
    let Some(key) = p.jwk else {
        return refused(env, cfg, inc, &t, ProofError::JwkMissing, 400).await;
    };
    if !dbsc::signature_ok(p.alg, &key.json, &p.signing_input, &p.signature).await {
        return refused(env, cfg, inc, &t, ProofError::Signature, 400).await;
    }
    let msg = StoreRequest::DeviceBind {
        hash,
        alg: p.alg,
        jwk: key.json,
        jti: p.jti,
        jti_until: until,
        client: inc.client.clone(),
    };
    match session_object::call(env, cfg, &t.store_id, &msg).await {
        Ok(StoreResponse::Done { session: Some(s), .. }) => instructions(cfg, &s.handle),
        Ok(StoreResponse::Invalid { detail }) => respond::error_detail(400, "invalid_device_proof", &detail),
        Ok(StoreResponse::Rejected { reason, .. }) => {
            let resp = respond::unauthenticated(reason)?;
            stamp(resp.headers(), cfg, None, &CookieChange::Clear)?;
            Ok(resp)
        }
        Ok(other) => store_down(&StoreError::Unexpected(format!("device bind answered {}", other.kind()))),
        Err(e) => store_down(&e),
    }
}

pub async fn refresh(req: &Request, env: &Env, cfg: &Config, inc: &Incoming) -> Result<Response> {
    let id = session_identifier(req);
    let Some(t) = token_of(cfg, inc) else {
        return ended(cfg, id.as_deref());
    };
    if id.as_deref().is_some_and(|i| !token::is_handle(i)) {
        return refused(env, cfg, inc, &t, ProofError::SessionIdentifier, 403).await;
    }
    match header(req, wire::RESPONSE_HEADER) {
        None => challenge(cfg, &t, id.as_deref()),
        Some(jwt) => proof_step(env, cfg, inc, &t, id, &jwt).await,
    }
}

/// The first request of a refresh: a challenge issued to the session ID the cookie holds.
/// No storage access: whether the session lives, is bound and is the one named is
/// checked with the proof, in the same Durable Object call that spends the challenge.
fn challenge(cfg: &Config, t: &VerifiedToken, id: Option<&str>) -> Result<Response> {
    let c = dbsc::new_challenge(cfg, Purpose::Refresh, &t.storage_hash())?;
    let resp = respond::error(403, "device_proof_required")?;
    resp.headers().set(wire::CHALLENGE_HEADER, &wire::challenge(&c, id))?;
    Ok(resp)
}

/// The second request of a refresh: the proof over the challenge, by the stored key.
async fn proof_step(env: &Env, cfg: &Config, inc: &Incoming, t: &VerifiedToken, id: Option<String>, jwt: &str) -> Result<Response> {
    let hash = t.storage_hash();
    let (p, until) = match checked(Some(jwt), cfg, Purpose::Refresh, &hash) {
        Ok(x) => x,
        Err(e) => return refused(env, cfg, inc, t, e, 403).await,
    };
    let msg = StoreRequest::DeviceProof {
        hash,
        handle: id.clone(),
        jti: p.jti.clone(),
        jti_until: until,
        client: inc.client.clone(),
    };
    let session = match session_object::call(env, cfg, &t.store_id, &msg).await {
        Ok(StoreResponse::Done { session: Some(s), .. }) => s,
        // A live session that has no key: the browser's binding is not this session's.
        Ok(StoreResponse::Invalid { detail }) if detail == ProofError::NotBound.as_str() => {
            return respond::json_text(200, wire::ended(id.as_deref().unwrap_or_default()));
        }
        // Refused and audited by the session's object.
        Ok(StoreResponse::Invalid { detail }) => return respond::error_detail(403, "invalid_device_proof", &detail),
        Ok(StoreResponse::Rejected { .. }) => return ended(cfg, id.as_deref()),
        Ok(other) => return store_down(&StoreError::Unexpected(format!("device proof answered {}", other.kind()))),
        Err(e) => return store_down(&e),
    };
    let Some(key) = session.device.as_ref() else {
        return invalid(403, ProofError::NotBound);
    };
    if key.alg != p.alg {
        return refused(env, cfg, inc, t, ProofError::Alg, 403).await;
    }
    if !dbsc::signature_ok(key.alg, &key.jwk, &p.signing_input, &p.signature).await {
        return refused(env, cfg, inc, t, ProofError::Signature, 403).await;
    }
    instructions(cfg, &session.handle)
}

/// `status` (400 at registration, 403 at refresh) `invalid_device_proof`, audited as
/// `device_proof_failed` on the session: a forged proof is a security event wherever it
/// comes. The answer does not wait on the audit's success.
async fn refused(env: &Env, cfg: &Config, inc: &Incoming, t: &VerifiedToken, e: ProofError, status: u16) -> Result<Response> {
    let msg = StoreRequest::DeviceProofFailed {
        hash: t.storage_hash(),
        detail: e.as_str().into(),
        client: inc.client.clone(),
    };
    if let Err(err) = session_object::call(env, cfg, &t.store_id, &msg).await {
        log::failure("store_unavailable", &err.to_string());
    }
    invalid(status, e)
}
