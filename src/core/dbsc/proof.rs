//! `Secure-Session-Response`: the browser's proof, a compact JWS whose header says
//! `typ: dbsc+jwt`, `alg` ES256 or RS256 (nothing else: not `none`, not HS256), and, at
//! registration, carries the public `jwk`; its payload's `jti` is a challenge the gate
//! issued. This module checks the shape; the signature is WebCrypto's (`edge::dbsc`).

use super::jwk::{self, DeviceAlg, DeviceJwk};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// Longest proof accepted: an RS256 proof with an 8192-bit key in its header fits.
pub const MAX_LEN: usize = 8192;
/// Longest `jti` looked at (a challenge is `challenge::ENCODED_LEN`).
const MAX_JTI: usize = 256;

/// Why a proof is refused. The strings are the `detail` of `invalid_device_proof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// No `Secure-Session-Response` header.
    #[error("missing")]
    Missing,
    /// Longer than `MAX_LEN`.
    #[error("too_large")]
    TooLarge,
    /// Not a compact JWS with JSON objects in it.
    #[error("malformed")]
    Malformed,
    /// `typ` is not `dbsc+jwt`.
    #[error("typ")]
    Typ,
    /// `alg` is not ES256 or RS256 (or not the bound key's).
    #[error("alg")]
    Alg,
    /// A registration without a `jwk` in its header.
    #[error("jwk_missing")]
    JwkMissing,
    /// The `jwk` carries private key members.
    #[error("jwk_private")]
    JwkPrivate,
    /// The `jwk` is not a key for `alg` (another type or curve, RSA under 2048 bits).
    #[error("jwk_mismatch")]
    JwkMismatch,
    /// The `jwk` is not a well-formed public key.
    #[error("jwk_invalid")]
    JwkInvalid,
    /// No `jti` string in the payload.
    #[error("jti_missing")]
    JtiMissing,
    /// The `jti` is not a challenge this gate issued to this session for this step.
    #[error("jti_unknown")]
    JtiUnknown,
    /// The challenge is older than five minutes.
    #[error("jti_stale")]
    JtiStale,
    /// The challenge was answered before.
    #[error("jti_used")]
    JtiUsed,
    /// The signature does not verify under the key.
    #[error("signature")]
    Signature,
    /// `Sec-Secure-Session-Id` names another session than the cookie's.
    #[error("session_identifier")]
    SessionIdentifier,
    /// The session already has a device key: a second registration would replace it.
    #[error("already_bound")]
    AlreadyBound,
    /// A refresh for a session that has no device key.
    #[error("not_bound")]
    NotBound,
}

impl ProofError {
    /// The detail as written in the body and the audit event.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofError::Missing => "missing",
            ProofError::TooLarge => "too_large",
            ProofError::Malformed => "malformed",
            ProofError::Typ => "typ",
            ProofError::Alg => "alg",
            ProofError::JwkMissing => "jwk_missing",
            ProofError::JwkPrivate => "jwk_private",
            ProofError::JwkMismatch => "jwk_mismatch",
            ProofError::JwkInvalid => "jwk_invalid",
            ProofError::JtiMissing => "jti_missing",
            ProofError::JtiUnknown => "jti_unknown",
            ProofError::JtiStale => "jti_stale",
            ProofError::JtiUsed => "jti_used",
            ProofError::Signature => "signature",
            ProofError::SessionIdentifier => "session_identifier",
            ProofError::AlreadyBound => "already_bound",
            ProofError::NotBound => "not_bound",
        }
    }

    /// The error with this detail string (store answers carry the string).
    pub fn parse(s: &str) -> Option<Self> {
        ALL.into_iter().find(|e| e.as_str() == s)
    }
}

const ALL: [ProofError; 17] = [
    ProofError::Missing,
    ProofError::TooLarge,
    ProofError::Malformed,
    ProofError::Typ,
    ProofError::Alg,
    ProofError::JwkMissing,
    ProofError::JwkPrivate,
    ProofError::JwkMismatch,
    ProofError::JwkInvalid,
    ProofError::JtiMissing,
    ProofError::JtiUnknown,
    ProofError::JtiStale,
    ProofError::JtiUsed,
    ProofError::Signature,
    ProofError::SessionIdentifier,
    ProofError::AlreadyBound,
    ProofError::NotBound,
];

/// A proof whose shape is right: what remains is the challenge (`jti`) and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The header's algorithm.
    pub alg: DeviceAlg,
    /// The header's public key, when it has one (registration).
    pub jwk: Option<DeviceJwk>,
    /// The payload's `jti`.
    pub jti: String,
    /// `header.payload`, what the signature covers.
    pub signing_input: String,
    /// The signature, base64url as sent.
    pub signature: String,
}

fn json_part(part: &str) -> Result<Map<String, Value>, ProofError> {
    let raw = URL_SAFE_NO_PAD.decode(part).map_err(|_| ProofError::Malformed)?;
    // The same instantiation as the ID token's parts (`oidc::jwt`): one copy in the Wasm.
    serde_json::from_slice::<Map<String, Value>>(&raw).map_err(|_| ProofError::Malformed)
}

/// Checks a proof's header and payload. Header checks come first, in the order of the
/// specification's list (type, algorithm, key), so each forgery is named by its flaw.
pub fn parse(jwt: &str) -> Result<Proof, ProofError> {
    let jwt = jwt.trim();
    if jwt.len() > MAX_LEN {
        return Err(ProofError::TooLarge);
    }
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ProofError::Malformed);
    };
    let header = json_part(h)?;
    let payload = json_part(p)?;
    if header.get("typ").and_then(Value::as_str) != Some("dbsc+jwt") {
        return Err(ProofError::Typ);
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(DeviceAlg::parse)
        .ok_or(ProofError::Alg)?;
    // A header that insists on extensions the gate does not know cannot be honoured.
    if header.contains_key("crit") {
        return Err(ProofError::Malformed);
    }
    let jwk = header.get("jwk").map(|k| jwk::from_header(alg, k)).transpose()?;
    let jti = payload
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI)
        .ok_or(ProofError::JtiMissing)?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ProofError::Malformed);
    }
    Ok(Proof {
        alg,
        jwk,
        jti: jti.to_string(),
        signing_input: format!("{h}.{p}"),
        signature: s.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn ec_jwk() -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])})
    }

    fn jwt(header: Value, payload: Value) -> String {
        format!("{}.{}.{}", b64(&header), b64(&payload), URL_SAFE_NO_PAD.encode([9u8; 64]))
    }

    #[test]
    fn what_chromium_sends_parses() {
        let reg = jwt(json!({"alg": "ES256", "jwk": ec_jwk(), "typ": "dbsc+jwt"}), json!({"jti": "c1"}));
        let p = parse(&reg).unwrap();
        assert_eq!((p.alg, p.jti.as_str()), (DeviceAlg::Es256, "c1"));
        assert!(p.jwk.is_some());
        assert_eq!(p.signing_input, reg.rsplit_once('.').unwrap().0);
        let refresh = jwt(
            json!({"alg": "ES256", "typ": "dbsc+jwt"}),
            json!({"jti": "c2", "authorization": "x"}),
        );
        let p = parse(&refresh).unwrap();
        assert!(p.jwk.is_none());
    }

    #[test]
    fn each_forgery_is_named() {
        let ok_payload = json!({"jti": "c"});
        let cases = [
            (json!({"alg": "none", "typ": "dbsc+jwt"}), ok_payload.clone(), ProofError::Alg),
            (json!({"alg": "HS256", "typ": "dbsc+jwt"}), ok_payload.clone(), ProofError::Alg),
            (json!({"alg": "es256", "typ": "dbsc+jwt"}), ok_payload.clone(), ProofError::Alg),
            (json!({"typ": "dbsc+jwt"}), ok_payload.clone(), ProofError::Alg),
            (json!({"alg": "ES256", "typ": "JWT"}), ok_payload.clone(), ProofError::Typ),
            (json!({"alg": "ES256"}), ok_payload.clone(), ProofError::Typ),
            (
                json!({"alg": "ES256", "typ": "dbsc+jwt", "crit": ["b64"]}),
                ok_payload.clone(),
                ProofError::Malformed,
            ),
            (
                json!({"alg": "ES256", "typ": "dbsc+jwt", "jwk": {"kty": "EC", "d": "x"}}),
                ok_payload.clone(),
                ProofError::JwkPrivate,
            ),
            (
                json!({"alg": "RS256", "typ": "dbsc+jwt", "jwk": ec_jwk()}),
                ok_payload.clone(),
                ProofError::JwkMismatch,
            ),
            (json!({"alg": "ES256", "typ": "dbsc+jwt"}), json!({}), ProofError::JtiMissing),
            (
                json!({"alg": "ES256", "typ": "dbsc+jwt"}),
                json!({"jti": 5}),
                ProofError::JtiMissing,
            ),
            (
                json!({"alg": "ES256", "typ": "dbsc+jwt"}),
                json!({"jti": ""}),
                ProofError::JtiMissing,
            ),
            (
                json!({"alg": "ES256", "typ": "dbsc+jwt"}),
                json!({"jti": "x".repeat(257)}),
                ProofError::JtiMissing,
            ),
        ];
        for (h, p, want) in cases {
            assert_eq!(parse(&jwt(h.clone(), p)), Err(want), "{h}");
        }
    }

    #[test]
    fn malformed_and_oversized() {
        let good = jwt(json!({"alg": "ES256", "typ": "dbsc+jwt"}), json!({"jti": "c"}));
        let (hp, _) = good.rsplit_once('.').unwrap();
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.??.x",
            &format!("{hp}."),
            &format!("{hp}.a+b"),
            &format!("{hp}.{hp}"),
        ] {
            assert_eq!(parse(bad), Err(ProofError::Malformed), "{bad:?}");
        }
        let array = format!("{}.{}.AAAA", b64(&json!([1])), b64(&json!({"jti": "c"})));
        assert_eq!(parse(&array), Err(ProofError::Malformed));
        let big = jwt(
            json!({"alg": "ES256", "typ": "dbsc+jwt", "pad": "x".repeat(MAX_LEN)}),
            json!({"jti": "c"}),
        );
        assert_eq!(parse(&big), Err(ProofError::TooLarge));
    }

    #[test]
    fn details_round_trip() {
        for e in ALL {
            assert_eq!(ProofError::parse(e.as_str()), Some(e));
            assert_eq!(e.to_string(), e.as_str());
        }
        assert_eq!(ProofError::parse("Missing"), None);
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn any_input_parses_or_is_refused_without_panic(s in "\\PC{0,300}") {
            let _ = parse(&s);
        }

        #[test]
        fn any_header_object_is_judged_without_panic(alg in "\\PC{0,8}", typ in "\\PC{0,10}", extra in "\\PC{0,30}") {
            let h = json!({"alg": alg, "typ": typ, "jwk": {"kty": extra}});
            let _ = parse(&jwt(h, json!({"jti": extra})));
        }
    }
}
