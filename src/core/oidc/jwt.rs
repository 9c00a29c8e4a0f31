//! Compact JWS as the provider signs ID and logout tokens: parsed, the algorithm checked
//! against the allow-list, and the verification key chosen from the provider's JWKS.
//! The signature itself is checked in WebCrypto (`edge::idp`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// The signature algorithms accepted. `none` and the HMAC family are refused: an HMAC
/// "signature" under a public key, or no signature at all, proves nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
    EdDsa,
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
        }
    }

    fn from_name(s: &str) -> Result<Self, JwtError> {
        match s {
            "RS256" => Ok(Alg::Rs256),
            "ES256" => Ok(Alg::Es256),
            "EdDSA" | "Ed25519" => Ok(Alg::EdDsa),
            "none" => Err(JwtError::AlgNone),
            a if a.starts_with("HS") => Err(JwtError::AlgHmac),
            _ => Err(JwtError::AlgNotAllowed),
        }
    }

    /// The JWK `kty` (and `crv`) a key for this algorithm has.
    fn fits(self, jwk: &Map<String, Value>) -> bool {
        let s = |k: &str| jwk.get(k).and_then(Value::as_str);
        match self {
            Alg::Rs256 => s("kty") == Some("RSA"),
            Alg::Es256 => s("kty") == Some("EC") && s("crv") == Some("P-256"),
            Alg::EdDsa => s("kty") == Some("OKP") && s("crv") == Some("Ed25519"),
        }
    }
}

/// Why a token is refused before its claims are read. `as_str` is the `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed")]
    Malformed,
    #[error("alg_none")]
    AlgNone,
    #[error("alg_hmac")]
    AlgHmac,
    #[error("alg_not_allowed")]
    AlgNotAllowed,
    #[error("unknown_kid")]
    UnknownKid,
    #[error("signature")]
    Signature,
}

/// The longest token accepted, in bytes.
pub const MAX_TOKEN: usize = 16 * 1024;

/// A parsed token, not yet verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Jws {
    pub alg: Alg,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub claims: Map<String, Value>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

fn b64(s: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)
}

/// Parses `header.payload.signature`; the algorithm must be on the allow-list.
pub fn parse(token: &str) -> Result<Jws, JwtError> {
    if token.len() > MAX_TOKEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    // Read as a `Value` map, not a derived struct (each derived parser adds to the Wasm).
    let header: Map<String, Value> = serde_json::from_slice(&b64(h)?).map_err(|_| JwtError::Malformed)?;
    let text = |k: &str| match header.get(k) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwtError::Malformed),
    };
    let alg = Alg::from_name(&text("alg")?.ok_or(JwtError::Malformed)?)?;
    // RFC 7515 §4.1.11: an extension the gate does not know must be refused.
    if header.contains_key("crit") {
        return Err(JwtError::Malformed);
    }
    let (kid, typ) = (text("kid")?, text("typ")?);
    let claims: Map<String, Value> = serde_json::from_slice(&b64(p)?).map_err(|_| JwtError::Malformed)?;
    let signature = b64(s)?;
    if signature.is_empty() {
        return Err(JwtError::Signature);
    }
    Ok(Jws {
        alg,
        kid,
        typ,
        claims,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

/// The key in `jwks` (`{"keys":[...]}`) that verifies `jws`: the one with its `kid`
/// (or, without a `kid`, the only key of the algorithm's type), fit for the algorithm
/// and for signatures. `UnknownKid` lets the caller refetch the JWKS once.
pub fn select_key<'a>(jwks: &'a Value, jws: &Jws) -> Result<&'a Map<String, Value>, JwtError> {
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or(JwtError::UnknownKid)?;
    let usable = |k: &&Map<String, Value>| {
        jws.alg.fits(k)
            && k.get("use").and_then(Value::as_str).is_none_or(|u| u == "sig")
            && k.get("alg").and_then(Value::as_str).is_none_or(|a| a == jws.alg.name())
    };
    let mut candidates = keys.iter().filter_map(Value::as_object).filter(usable);
    match &jws.kid {
        Some(kid) => candidates
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
            .ok_or(JwtError::UnknownKid),
        None => {
            let first = candidates.next().ok_or(JwtError::UnknownKid)?;
            // Several keys and no kid to choose: refuse rather than guess.
            match candidates.next() {
                None => Ok(first),
                Some(_) => Err(JwtError::UnknownKid),
            }
        }
    }
}

/// The public members of a JWK, as JSON for WebCrypto's `importKey("jwk", ...)`.
pub fn public_jwk_json(k: &Map<String, Value>) -> String {
    let mut out = Map::new();
    for name in ["kty", "crv", "x", "y", "n", "e"] {
        if let Some(v) = k.get(name) {
            out.insert(name.into(), v.clone());
        }
    }
    crate::core::json::text(&Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn token(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode([1u8; 64])
        )
    }

    #[test]
    fn parses_and_applies_the_allow_list() {
        let t = parse(&token(json!({"alg":"ES256","kid":"k1","typ":"JWT"}), json!({"sub":"a"}))).unwrap();
        assert_eq!((t.alg, t.kid.as_deref()), (Alg::Es256, Some("k1")));
        assert_eq!(t.claims["sub"], "a");
        assert_eq!(parse(&token(json!({"alg":"RS256"}), json!({}))).unwrap().alg, Alg::Rs256);
        assert_eq!(parse(&token(json!({"alg":"EdDSA"}), json!({}))).unwrap().alg, Alg::EdDsa);
        assert_eq!(parse(&token(json!({"alg":"none"}), json!({}))), Err(JwtError::AlgNone));
        assert_eq!(parse(&token(json!({"alg":"HS256"}), json!({}))), Err(JwtError::AlgHmac));
        assert_eq!(parse(&token(json!({"alg":"PS512"}), json!({}))), Err(JwtError::AlgNotAllowed));
        assert_eq!(
            parse(&token(json!({"alg":"ES256","crit":["x"]}), json!({}))),
            Err(JwtError::Malformed)
        );
        assert_eq!(parse("a.b"), Err(JwtError::Malformed));
        assert_eq!(parse("a.b.c.d"), Err(JwtError::Malformed));
        let unsigned = token(json!({"alg":"ES256"}), json!({}));
        let unsigned = format!("{}.", &unsigned[..unsigned.rfind('.').unwrap()]);
        assert_eq!(parse(&unsigned), Err(JwtError::Signature));
    }

    #[test]
    fn selects_the_key_by_kid_and_type() {
        let jwks = json!({"keys":[
            {"kty":"RSA","kid":"r1","n":"AQAB","e":"AQAB"},
            {"kty":"EC","crv":"P-256","kid":"e1","x":"x","y":"y","use":"sig"},
            {"kty":"EC","crv":"P-256","kid":"e2","x":"x","y":"y","use":"enc"}
        ]});
        let t = |alg: &str, kid: Option<&str>| {
            let mut h = json!({ "alg": alg });
            if let Some(k) = kid {
                h["kid"] = json!(k);
            }
            parse(&token(h, json!({}))).unwrap()
        };
        assert_eq!(select_key(&jwks, &t("ES256", Some("e1"))).unwrap()["kid"], "e1");
        assert_eq!(
            select_key(&jwks, &t("ES256", Some("e2"))),
            Err(JwtError::UnknownKid),
            "an encryption key"
        );
        assert_eq!(select_key(&jwks, &t("RS256", Some("e1"))), Err(JwtError::UnknownKid), "wrong type");
        assert_eq!(select_key(&jwks, &t("ES256", Some("zz"))), Err(JwtError::UnknownKid));
        assert_eq!(select_key(&jwks, &t("RS256", None)).unwrap()["kid"], "r1");
        assert_eq!(select_key(&json!({}), &t("RS256", None)), Err(JwtError::UnknownKid));
        let k = select_key(&jwks, &t("RS256", None)).unwrap();
        assert_eq!(public_jwk_json(k), r#"{"e":"AQAB","kty":"RSA","n":"AQAB"}"#);
    }

    /// A well-formed ES256 token of exactly `len` bytes (`len` of 60 or more).
    fn token_of_length(len: usize) -> String {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#);
        // Unpadded base64 is never 1 more than a multiple of 4 long: one of three
        // signature lengths leaves the claims a length they can have.
        for sig_bytes in 1..=3 {
            let sig = URL_SAFE_NO_PAD.encode(vec![1u8; sig_bytes]);
            let claims_len = len - header.len() - sig.len() - 2;
            let json = format!(r#"{{"p":"{}"}}"#, "x".repeat(claims_len * 3 / 4 - 8));
            let claims = URL_SAFE_NO_PAD.encode(json);
            if claims.len() == claims_len {
                return format!("{header}.{claims}.{sig}");
            }
        }
        unreachable!("no token of {len} bytes")
    }

    #[test]
    fn a_token_of_16_kib_is_parsed_and_a_byte_more_is_not() {
        let at_bound = token_of_length(MAX_TOKEN);
        assert_eq!(at_bound.len(), 16 * 1024);
        assert!(parse(&at_bound).is_ok());
        let over = token_of_length(MAX_TOKEN + 1);
        assert_eq!(over.len(), 16 * 1024 + 1);
        assert_eq!(parse(&over), Err(JwtError::Malformed));
    }

    #[test]
    fn algorithm_names_are_the_jose_ones() {
        assert_eq!(Alg::Rs256.name(), "RS256");
        assert_eq!(Alg::Es256.name(), "ES256");
        assert_eq!(Alg::EdDsa.name(), "EdDSA");
    }

    #[test]
    fn a_key_fits_only_its_algorithm_curve_and_declared_alg() {
        let jwks = json!({"keys":[
            {"kty":"EC","crv":"P-384","kid":"p384","x":"x","y":"y"},
            {"kty":"OKP","crv":"P-256","kid":"okp-p256","x":"x"},
            {"kty":"EC","crv":"P-256","kid":"declared","x":"x","y":"y","alg":"ES256"},
            {"kty":"EC","crv":"P-256","kid":"declared-other","x":"x","y":"y","alg":"RS256"},
            {"kty":"OKP","crv":"Ed25519","kid":"ed","x":"x"},
            {"kty":"OKP","crv":"X25519","kid":"x25519","x":"x"},
            {"kty":"EC","crv":"Ed25519","kid":"ec-ed","x":"x","y":"y"}
        ]});
        let select = |alg: &str, kid: &str| {
            let jws = parse(&token(json!({"alg": alg, "kid": kid}), json!({}))).unwrap();
            select_key(&jwks, &jws).map(|k| k["kid"].as_str().unwrap().to_string())
        };
        assert_eq!(select("ES256", "declared").as_deref(), Ok("declared"));
        assert_eq!(select("ES256", "declared-other"), Err(JwtError::UnknownKid), "declared for RS256");
        assert_eq!(select("ES256", "p384"), Err(JwtError::UnknownKid), "another curve");
        assert_eq!(select("ES256", "okp-p256"), Err(JwtError::UnknownKid), "another key type");
        assert_eq!(select("EdDSA", "ed").as_deref(), Ok("ed"));
        assert_eq!(select("EdDSA", "x25519"), Err(JwtError::UnknownKid), "a key-agreement curve");
        assert_eq!(select("EdDSA", "ec-ed"), Err(JwtError::UnknownKid), "another key type");
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(5_000))]
        #[test]
        fn any_input_parses_or_fails_cleanly(s in "[A-Za-z0-9_.-]{0,200}") {
            let _ = parse(&s);
        }
    }
}
