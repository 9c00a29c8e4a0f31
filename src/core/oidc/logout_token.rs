//! The logout token's claims checked per Back-Channel Logout 1.0 §2.6 (the signature
//! was checked before). Each failure names its check: the `detail` of
//! `{"error":"invalid_logout_token"}`. The `jti` replay check needs storage and is
//! done by the caller, for `replay_until` seconds.

use super::id_token::{audience, seconds, text};
use super::MAX_SKEW;
use serde_json::{Map, Value};

/// The event a logout token must carry.
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token without `exp` is accepted after its `iat`, in seconds.
pub const MAX_AGE_WITHOUT_EXP: u64 = 600;

/// Which check a logout token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogoutTokenError {
    #[error("typ")]
    Typ,
    #[error("iss")]
    Iss,
    #[error("aud")]
    Aud,
    #[error("iat")]
    Iat,
    #[error("exp")]
    Exp,
    #[error("events")]
    Events,
    #[error("sub_or_sid")]
    SubOrSid,
    #[error("nonce")]
    Nonce,
    #[error("jti")]
    Jti,
    /// The `jti` was seen before (found by the caller's store).
    #[error("jti_replayed")]
    Replayed,
}

/// Whom to sign out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    /// Until when the `jti` must be remembered (the token's end of life).
    pub replay_until: u64,
}

/// `typ` header: absent, `JWT`, or the explicit `logout+jwt` (RFC 8725 §3.11).
pub fn typ_ok(typ: Option<&str>) -> bool {
    match typ {
        None => true,
        Some(t) => {
            let t = t.to_ascii_lowercase();
            matches!(t.as_str(), "jwt" | "logout+jwt" | "application/logout+jwt")
        }
    }
}

/// Checks a logout token's header type and claims.
pub fn check(
    typ: Option<&str>,
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now: u64,
) -> Result<LogoutRequest, LogoutTokenError> {
    if !typ_ok(typ) {
        return Err(LogoutTokenError::Typ);
    }
    if text(claims, "iss") != Some(issuer) {
        return Err(LogoutTokenError::Iss);
    }
    if !audience(claims, client_id).0 {
        return Err(LogoutTokenError::Aud);
    }
    let iat = seconds(claims, "iat").ok_or(LogoutTokenError::Iat)?;
    if iat > now.saturating_add(MAX_SKEW) {
        return Err(LogoutTokenError::Iat);
    }
    let end = match seconds(claims, "exp") {
        Some(exp) if now <= exp.saturating_add(MAX_SKEW) => exp.saturating_add(MAX_SKEW),
        Some(_) => return Err(LogoutTokenError::Exp),
        None if now <= iat.saturating_add(MAX_AGE_WITHOUT_EXP) => iat.saturating_add(MAX_AGE_WITHOUT_EXP),
        None => return Err(LogoutTokenError::Iat),
    };
    let has_event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|e| e.get(EVENT))
        .is_some_and(Value::is_object);
    if !has_event {
        return Err(LogoutTokenError::Events);
    }
    let sub = text(claims, "sub").map(str::to_string);
    let sid = text(claims, "sid").map(str::to_string);
    if sub.is_none() && sid.is_none() {
        return Err(LogoutTokenError::SubOrSid);
    }
    // A nonce would let an ID token pass as a logout token.
    if claims.contains_key("nonce") {
        return Err(LogoutTokenError::Nonce);
    }
    let jti = text(claims, "jti").ok_or(LogoutTokenError::Jti)?;
    if jti.len() > 256 {
        return Err(LogoutTokenError::Jti);
    }
    Ok(LogoutRequest {
        sub,
        sid,
        jti: jti.to_string(),
        replay_until: end.max(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn good() -> Value {
        json!({"iss":"https://id.example","aud":"gate","iat":NOW,"exp":NOW + 120,"jti":"j1","sid":"s1","sub":"alice",
               "events":{EVENT:{}}})
    }

    fn run(v: Value) -> Result<LogoutRequest, LogoutTokenError> {
        run_typ(None, v)
    }

    fn run_typ(typ: Option<&str>, v: Value) -> Result<LogoutRequest, LogoutTokenError> {
        check(typ, v.as_object().unwrap(), "https://id.example", "gate", NOW)
    }

    fn with(k: &str, v: Value) -> Value {
        let mut g = good();
        g[k] = v;
        g
    }

    fn without(k: &str) -> Value {
        let mut g = good();
        g.as_object_mut().unwrap().remove(k);
        g
    }

    #[test]
    fn a_good_token_names_whom_to_sign_out() {
        let r = run(good()).unwrap();
        assert_eq!(
            (r.sub.as_deref(), r.sid.as_deref(), r.jti.as_str()),
            (Some("alice"), Some("s1"), "j1")
        );
        assert_eq!(r.replay_until, NOW + 120 + MAX_SKEW);
        assert!(run(without("sub")).is_ok(), "sid alone");
        assert!(run(without("sid")).is_ok(), "sub alone");
        assert_eq!(run(without("exp")).unwrap().replay_until, NOW + MAX_AGE_WITHOUT_EXP);
        assert!(run_typ(Some("logout+jwt"), good()).is_ok());
        assert!(run_typ(Some("JWT"), good()).is_ok());
    }

    #[test]
    fn each_rule_has_its_failure() {
        assert_eq!(run_typ(Some("at+jwt"), good()), Err(LogoutTokenError::Typ));
        assert_eq!(run(with("iss", json!("https://other"))), Err(LogoutTokenError::Iss));
        assert_eq!(run(with("aud", json!("other"))), Err(LogoutTokenError::Aud));
        assert_eq!(run(without("iat")), Err(LogoutTokenError::Iat));
        assert_eq!(run(with("iat", json!(NOW + 61))), Err(LogoutTokenError::Iat));
        assert_eq!(run(with("exp", json!(NOW - 61))), Err(LogoutTokenError::Exp));
        let mut old = without("exp");
        old["iat"] = json!(NOW - MAX_AGE_WITHOUT_EXP - 1);
        assert_eq!(run(old), Err(LogoutTokenError::Iat));
        assert_eq!(run(without("events")), Err(LogoutTokenError::Events));
        assert_eq!(run(with("events", json!({"other":{}}))), Err(LogoutTokenError::Events));
        assert_eq!(run(with("events", json!({EVENT: "x"}))), Err(LogoutTokenError::Events));
        let mut neither = without("sub");
        neither.as_object_mut().unwrap().remove("sid");
        assert_eq!(run(neither), Err(LogoutTokenError::SubOrSid));
        assert_eq!(run(with("nonce", json!("n"))), Err(LogoutTokenError::Nonce));
        assert_eq!(run(without("jti")), Err(LogoutTokenError::Jti));
    }

    #[test]
    fn an_iat_at_the_skew_is_accepted_and_a_second_past_it_is_not() {
        assert!(run(with("iat", json!(NOW + MAX_SKEW))).is_ok());
        assert_eq!(run(with("iat", json!(NOW + MAX_SKEW + 1))), Err(LogoutTokenError::Iat));
    }

    #[test]
    fn a_jti_of_256_bytes_is_accepted_and_257_is_not() {
        assert_eq!(run(with("jti", json!("j".repeat(256)))).unwrap().jti.len(), 256);
        assert_eq!(run(with("jti", json!("j".repeat(257)))), Err(LogoutTokenError::Jti));
        assert_eq!(run(with("jti", json!("j".repeat(300)))), Err(LogoutTokenError::Jti));
        assert_eq!(run(with("jti", json!(""))), Err(LogoutTokenError::Jti));
    }
}
