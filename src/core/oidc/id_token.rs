//! The ID token's claims checked per OIDC Core 3.1.3.7 (the signature was checked
//! before, against the provider's JWKS). Each failure names its check: the `detail` of
//! `{"error":"login_failed","reason":"id_token"}`.

use super::MAX_SKEW;
use serde_json::{Map, Value};

/// Which check an ID token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// `iss` is not exactly the issuer.
    #[error("iss")]
    Iss,
    /// `aud` does not contain the client id.
    #[error("aud")]
    Aud,
    /// Several audiences and `azp` is not the client id.
    #[error("azp")]
    Azp,
    /// `exp` missing or past (beyond the skew).
    #[error("exp")]
    Exp,
    /// `iat` missing or in the future (beyond the skew).
    #[error("iat")]
    Iat,
    /// `nonce` missing or not the one sent.
    #[error("nonce")]
    Nonce,
    /// `sub` missing or empty.
    #[error("sub")]
    Sub,
    /// Step-up: `auth_time` missing or older than the request.
    #[error("auth_time")]
    AuthTime,
}

/// What the token must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: u64,
    /// Step-up (`max_age=0`): `auth_time` must be at or after this (minus the skew).
    pub authenticated_after: Option<u64>,
}

/// The verified identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    /// The provider's session id, for back-channel logout.
    pub sid: Option<String>,
    pub auth_time: Option<u64>,
}

/// A non-negative whole number of seconds (a float such as `1.7e9` is accepted truncated).
pub fn seconds(claims: &Map<String, Value>, name: &str) -> Option<u64> {
    let v = claims.get(name)?;
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0 && f.is_finite()).map(|f| f as u64))
}

/// A non-empty string claim.
pub fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Does `aud` (a string or an array of strings) contain `client_id`? Also says whether
/// there are several audiences.
pub fn audience(claims: &Map<String, Value>, client_id: &str) -> (bool, bool) {
    match claims.get("aud") {
        Some(Value::String(a)) => (a == client_id, false),
        Some(Value::Array(list)) => (list.iter().any(|a| a.as_str() == Some(client_id)), list.len() > 1),
        _ => (false, false),
    }
}

/// Checks the claims in the order of 3.1.3.7 and returns the identity.
pub fn check(claims: &Map<String, Value>, e: &Expected) -> Result<Identity, IdTokenError> {
    if text(claims, "iss") != Some(e.issuer) {
        return Err(IdTokenError::Iss);
    }
    let (contains, several) = audience(claims, e.client_id);
    if !contains {
        return Err(IdTokenError::Aud);
    }
    let azp = claims.get("azp");
    if (several || azp.is_some()) && azp.and_then(Value::as_str) != Some(e.client_id) {
        return Err(IdTokenError::Azp);
    }
    match seconds(claims, "exp") {
        Some(exp) if e.now <= exp.saturating_add(MAX_SKEW) => {}
        _ => return Err(IdTokenError::Exp),
    }
    match seconds(claims, "iat") {
        Some(iat) if iat <= e.now.saturating_add(MAX_SKEW) => {}
        _ => return Err(IdTokenError::Iat),
    }
    let nonce_ok = text(claims, "nonce").is_some_and(|n| {
        use subtle::ConstantTimeEq;
        bool::from(n.as_bytes().ct_eq(e.nonce.as_bytes()))
    });
    if !nonce_ok {
        return Err(IdTokenError::Nonce);
    }
    let sub = text(claims, "sub").ok_or(IdTokenError::Sub)?;
    let auth_time = seconds(claims, "auth_time");
    if let Some(after) = e.authenticated_after {
        match auth_time {
            Some(t) if t.saturating_add(MAX_SKEW) >= after && t <= e.now.saturating_add(MAX_SKEW) => {}
            _ => return Err(IdTokenError::AuthTime),
        }
    }
    Ok(Identity {
        sub: sub.to_string(),
        sid: text(claims, "sid").map(str::to_string),
        auth_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn good() -> Value {
        json!({"iss":"https://id.example","aud":"gate","exp":NOW + 300,"iat":NOW,"nonce":"n0nce","sub":"alice","sid":"s1","auth_time":NOW - 5})
    }

    fn run(v: Value) -> Result<Identity, IdTokenError> {
        run_after(v, None)
    }

    fn run_after(v: Value, after: Option<u64>) -> Result<Identity, IdTokenError> {
        let e = Expected {
            issuer: "https://id.example",
            client_id: "gate",
            nonce: "n0nce",
            now: NOW,
            authenticated_after: after,
        };
        check(v.as_object().unwrap(), &e)
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
    fn a_good_token_gives_the_identity() {
        let id = run(good()).unwrap();
        assert_eq!(id.sub, "alice");
        assert_eq!(id.sid.as_deref(), Some("s1"));
        assert_eq!(id.auth_time, Some(NOW - 5));
    }

    #[test]
    fn each_rule_has_its_failure() {
        assert_eq!(run(with("iss", json!("https://id.example/"))), Err(IdTokenError::Iss));
        assert_eq!(run(without("iss")), Err(IdTokenError::Iss));
        assert_eq!(run(with("aud", json!("other"))), Err(IdTokenError::Aud));
        assert_eq!(run(with("aud", json!(["other", "x"]))), Err(IdTokenError::Aud));
        assert_eq!(run(with("aud", json!(["gate", "other"]))), Err(IdTokenError::Azp));
        let mut several = with("aud", json!(["gate", "other"]));
        several["azp"] = json!("gate");
        assert!(run(several).is_ok());
        assert_eq!(run(with("azp", json!("other"))), Err(IdTokenError::Azp));
        assert_eq!(run(with("exp", json!(NOW - 61))), Err(IdTokenError::Exp));
        assert!(run(with("exp", json!(NOW - 60))).is_ok(), "60 s of skew");
        assert_eq!(run(without("exp")), Err(IdTokenError::Exp));
        assert_eq!(run(with("iat", json!(NOW + 61))), Err(IdTokenError::Iat));
        assert!(run(with("iat", json!(NOW + 60))).is_ok());
        assert_eq!(run(without("iat")), Err(IdTokenError::Iat));
        assert_eq!(run(with("nonce", json!("other"))), Err(IdTokenError::Nonce));
        assert_eq!(run(without("nonce")), Err(IdTokenError::Nonce));
        assert_eq!(run(without("sub")), Err(IdTokenError::Sub));
        assert_eq!(run(with("sub", json!(""))), Err(IdTokenError::Sub));
        assert_eq!(run(with("sub", json!(7))), Err(IdTokenError::Sub));
    }

    #[test]
    fn step_up_needs_a_fresh_auth_time() {
        assert!(run_after(with("auth_time", json!(NOW - 10)), Some(NOW - 10)).is_ok());
        assert_eq!(
            run_after(with("auth_time", json!(NOW - 600)), Some(NOW - 10)),
            Err(IdTokenError::AuthTime)
        );
        assert_eq!(run_after(without("auth_time"), Some(NOW - 10)), Err(IdTokenError::AuthTime));
        assert_eq!(
            run_after(with("auth_time", json!(NOW + 600)), Some(NOW - 10)),
            Err(IdTokenError::AuthTime)
        );
    }

    #[test]
    fn a_negative_time_claim_is_no_time_at_all() {
        // Read as 0 (the cast saturates), a negative `iat` would pass as long ago.
        assert_eq!(run(with("iat", json!(-1.5))), Err(IdTokenError::Iat));
        assert_eq!(run(with("iat", json!(-1))), Err(IdTokenError::Iat));
    }

    #[test]
    fn a_fractional_time_claim_is_read_truncated() {
        let t = NOW as f64 + 0.75;
        assert!(run(with("iat", json!(t))).is_ok());
        assert!(run(with("exp", json!(t + 300.0))).is_ok());
        let claims = json!({"t": 1.7e9, "z": 0.0, "n": -0.5, "s": "1"});
        let claims = claims.as_object().unwrap();
        assert_eq!(seconds(claims, "t"), Some(1_700_000_000));
        assert_eq!(seconds(claims, "z"), Some(0));
        assert_eq!(seconds(claims, "n"), None);
        assert_eq!(seconds(claims, "s"), None, "a string is not a number");
        assert_eq!(seconds(claims, "absent"), None);
    }

    #[test]
    fn one_audience_in_an_array_needs_no_azp() {
        // "Several audiences" means two or more: a one-element array is the client alone.
        assert!(run(with("aud", json!(["gate"]))).is_ok());
        assert_eq!(audience(json!({"aud": ["gate"]}).as_object().unwrap(), "gate"), (true, false));
        assert_eq!(audience(json!({"aud": ["gate", "x"]}).as_object().unwrap(), "gate"), (true, true));
    }

    proptest! {
        #[test]
        fn a_float_claim_is_read_only_when_not_negative(f in -1e12f64..1e12) {
            let claims = json!({ "t": f });
            let read = seconds(claims.as_object().unwrap(), "t");
            prop_assert_eq!(read, (f >= 0.0).then_some(f as u64));
        }

        #[test]
        fn a_token_passes_only_within_its_time(exp in 0u64..2 * NOW, iat in 0u64..2 * NOW) {
            let mut g = good();
            g["exp"] = json!(exp);
            g["iat"] = json!(iat);
            let ok = run(g).is_ok();
            prop_assert_eq!(ok, NOW <= exp + MAX_SKEW && iat <= NOW + MAX_SKEW);
        }
    }
}
