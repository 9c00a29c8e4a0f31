//! The public key a registration brings in its JWT header: EC P-256 for ES256, RSA of
//! 2048 to 8192 bits for RS256, never a private member. What is stored is a JWK the gate
//! writes itself from the checked members (nothing else of the input survives), which
//! WebCrypto imports to verify each later proof.

use super::proof::ProofError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The two algorithms a device key may use (`Secure-Session-Registration` offers both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceAlg {
    /// ECDSA P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
}

impl DeviceAlg {
    /// The JOSE name (what WebCrypto's side is told, too).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceAlg::Es256 => "ES256",
            DeviceAlg::Rs256 => "RS256",
        }
    }

    /// From a JWT header's `alg` (exact: JOSE names are case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ES256" => Some(DeviceAlg::Es256),
            "RS256" => Some(DeviceAlg::Rs256),
            _ => None,
        }
    }
}

/// JWK members that only a private (or symmetric) key has (RFC 7518 6.2.2, 6.3.2, 6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

/// A checked public key, as the JWK the gate stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceJwk {
    /// The algorithm it verifies.
    pub alg: DeviceAlg,
    /// `{"crv","kty","x","y"}` or `{"e","kty","n"}`, serialised.
    pub json: String,
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<&'a str, ProofError> {
    jwk.get(name).and_then(Value::as_str).ok_or(ProofError::JwkInvalid)
}

/// Decodes a base64url member (no padding, canonical).
fn bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, ProofError> {
    URL_SAFE_NO_PAD.decode(member(jwk, name)?).map_err(|_| ProofError::JwkInvalid)
}

/// Checks the header's `jwk` against `alg` and keeps only its public members.
pub fn from_header(alg: DeviceAlg, jwk: &Value) -> Result<DeviceJwk, ProofError> {
    let jwk = jwk.as_object().ok_or(ProofError::JwkInvalid)?;
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(ProofError::JwkPrivate);
    }
    // A key that names its own algorithm must name this one.
    if jwk.get("alg").is_some_and(|a| a.as_str() != Some(alg.as_str())) {
        return Err(ProofError::JwkMismatch);
    }
    let json = match (alg, member(jwk, "kty")?) {
        (DeviceAlg::Es256, "EC") => ec(jwk)?,
        (DeviceAlg::Rs256, "RSA") => rsa(jwk)?,
        _ => return Err(ProofError::JwkMismatch),
    };
    Ok(DeviceJwk { alg, json })
}

fn ec(jwk: &Map<String, Value>) -> Result<String, ProofError> {
    if member(jwk, "crv")? != "P-256" {
        return Err(ProofError::JwkMismatch);
    }
    let (x, y) = (bytes(jwk, "x")?, bytes(jwk, "y")?);
    if x.len() != 32 || y.len() != 32 {
        return Err(ProofError::JwkInvalid);
    }
    // Both decoded as base64url, so they hold nothing JSON would escape.
    Ok(format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        member(jwk, "x")?,
        member(jwk, "y")?
    ))
}

fn rsa(jwk: &Map<String, Value>) -> Result<String, ProofError> {
    let n = bytes(jwk, "n")?;
    let e = bytes(jwk, "e")?;
    let n_sig = n.iter().skip_while(|b| **b == 0).count();
    let bits = n_sig * 8 - n.iter().find(|b| **b != 0).map_or(0, |b| b.leading_zeros() as usize);
    if bits < MIN_RSA_BITS {
        return Err(ProofError::JwkMismatch);
    }
    if bits > MAX_RSA_BITS {
        return Err(ProofError::JwkInvalid);
    }
    // Public exponents are small odd numbers (65537 in practice); WebCrypto checks the rest.
    if e.is_empty() || e.len() > 8 || e.last().is_none_or(|b| b % 2 == 0) {
        return Err(ProofError::JwkInvalid);
    }
    Ok(format!(
        r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
        member(jwk, "n")?,
        member(jwk, "e")?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn b64(n: usize, fill: u8) -> String {
        URL_SAFE_NO_PAD.encode(vec![fill; n])
    }

    fn ec_jwk() -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": b64(32, 1), "y": b64(32, 2)})
    }

    fn rsa_jwk(bytes_n: usize) -> Value {
        json!({"kty": "RSA", "n": b64(bytes_n, 0xc3), "e": "AQAB"})
    }

    #[test]
    fn public_keys_of_the_right_kind_are_kept_and_rewritten() {
        let k = from_header(DeviceAlg::Es256, &ec_jwk()).unwrap();
        let v: Value = serde_json::from_str(&k.json).unwrap();
        assert_eq!(v, ec_jwk());
        let mut extra = ec_jwk();
        extra["kid"] = "x".into();
        extra["alg"] = "ES256".into();
        extra["ext"] = true.into();
        let kept: Value = serde_json::from_str(&from_header(DeviceAlg::Es256, &extra).unwrap().json).unwrap();
        assert_eq!(kept, ec_jwk(), "only the key's own members are stored");
        assert!(from_header(DeviceAlg::Rs256, &rsa_jwk(256)).is_ok());
        assert!(from_header(DeviceAlg::Rs256, &rsa_jwk(512)).is_ok());
    }

    #[test]
    fn private_members_are_refused_whatever_the_rest() {
        for m in PRIVATE_MEMBERS {
            let mut k = ec_jwk();
            k[m] = b64(32, 3).into();
            assert_eq!(from_header(DeviceAlg::Es256, &k), Err(ProofError::JwkPrivate), "{m}");
        }
        let mut k = rsa_jwk(256);
        k["d"] = b64(256, 1).into();
        assert_eq!(from_header(DeviceAlg::Rs256, &k), Err(ProofError::JwkPrivate));
    }

    #[test]
    fn a_key_that_does_not_match_the_algorithm_is_refused() {
        assert_eq!(from_header(DeviceAlg::Rs256, &ec_jwk()), Err(ProofError::JwkMismatch));
        assert_eq!(from_header(DeviceAlg::Es256, &rsa_jwk(256)), Err(ProofError::JwkMismatch));
        let mut p384 = ec_jwk();
        p384["crv"] = "P-384".into();
        assert_eq!(from_header(DeviceAlg::Es256, &p384), Err(ProofError::JwkMismatch));
        assert_eq!(
            from_header(DeviceAlg::Rs256, &rsa_jwk(128)),
            Err(ProofError::JwkMismatch),
            "RSA-1024"
        );
        let mut named = ec_jwk();
        named["alg"] = "RS256".into();
        assert_eq!(from_header(DeviceAlg::Es256, &named), Err(ProofError::JwkMismatch));
        let oct = json!({"kty": "oct", "k": "AAAA"});
        assert_eq!(from_header(DeviceAlg::Es256, &oct), Err(ProofError::JwkPrivate));
    }

    #[test]
    fn malformed_keys_are_invalid() {
        let short = json!({"kty": "EC", "crv": "P-256", "x": b64(31, 1), "y": b64(32, 2)});
        let no_y = json!({"kty": "EC", "crv": "P-256", "x": b64(32, 1)});
        let padded = json!({"kty": "EC", "crv": "P-256", "x": format!("{}=", b64(32, 1)), "y": b64(32, 2)});
        let numbers = json!({"kty": "EC", "crv": "P-256", "x": 1, "y": 2});
        for k in [short, no_y, padded, numbers, json!("EC"), json!([]), json!({})] {
            assert!(
                matches!(
                    from_header(DeviceAlg::Es256, &k),
                    Err(ProofError::JwkInvalid | ProofError::JwkMismatch)
                ),
                "{k}"
            );
        }
        let huge = rsa_jwk(1025);
        assert_eq!(from_header(DeviceAlg::Rs256, &huge), Err(ProofError::JwkInvalid));
        let even = json!({"kty": "RSA", "n": b64(256, 0xc3), "e": "AAI"});
        assert_eq!(from_header(DeviceAlg::Rs256, &even), Err(ProofError::JwkInvalid));
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(5_000))]
        #[test]
        fn any_json_is_kept_or_refused_without_panic(s in "\\PC{0,200}", kty in prop::sample::select(vec!["EC", "RSA", "oct", ""]), x in "[A-Za-z0-9_-]{0,50}") {
            for alg in [DeviceAlg::Es256, DeviceAlg::Rs256] {
                if let Ok(v) = serde_json::from_str::<Value>(&s) {
                    let _ = from_header(alg, &v);
                }
                let k = json!({"kty": kty, "crv": "P-256", "x": x, "y": x, "n": x, "e": x});
                if let Ok(kept) = from_header(alg, &k) {
                    prop_assert!(!kept.json.contains("\"d\""));
                }
            }
        }
    }
}
