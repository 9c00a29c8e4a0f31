//! Public JSON Web Keys (RFC 7517, 7518 and 8037) and their RFC 7638 thumbprints.
//!
//! The gate publishes its assertion keys as a JWK Set at `/.sessiongate/jwks.json`, and a
//! Rust origin reads that set back to verify assertions (`assertion::verify`). The
//! thumbprint is generic over key types (EC, OKP, RSA, oct) because it is defined over
//! the "required members" of each, and RFC 7638's published example is an RSA key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// One public JWK, as published: key members, then `kid`, `alg` and `use`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

/// A JWK Set: `{"keys":[...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parses a JWK Set document (what `/.sessiongate/jwks.json` answers).
    pub fn parse(json: &str) -> Result<Jwks, JwkError> {
        serde_json::from_str(json).map_err(|_| JwkError::Malformed)
    }

    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwkError {
    /// Not a JSON object of the JWK shape.
    Malformed,
    /// A `kty` whose required members this module does not know.
    UnknownKeyType,
    /// A required member (RFC 7638 section 3.2) is missing.
    MissingMember(&'static str),
}

impl fmt::Display for JwkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwkError::Malformed => f.write_str("not a JSON Web Key"),
            JwkError::UnknownKeyType => f.write_str("unknown kty"),
            JwkError::MissingMember(m) => write!(f, "the required member {m:?} is missing"),
        }
    }
}

impl std::error::Error for JwkError {}

/// An RFC 7638 thumbprint: base64url(SHA-256(canonical JSON of the required members)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Thumbprint(String);

impl Thumbprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Jwk {
    /// The members RFC 7638 section 3.2 hashes for this key type, by name.
    fn required_members(&self) -> Result<BTreeMap<&'static str, &str>, JwkError> {
        fn need<'a>(name: &'static str, v: &'a Option<String>) -> Result<(&'static str, &'a str), JwkError> {
            v.as_deref().map(|s| (name, s)).ok_or(JwkError::MissingMember(name))
        }
        let kty = ("kty", self.kty.as_str());
        let members = match self.kty.as_str() {
            "EC" => vec![need("crv", &self.crv)?, kty, need("x", &self.x)?, need("y", &self.y)?],
            // RFC 8037 section 2: OKP's required members are crv, kty and x.
            "OKP" => vec![need("crv", &self.crv)?, kty, need("x", &self.x)?],
            "RSA" => vec![need("e", &self.e)?, kty, need("n", &self.n)?],
            _ => return Err(JwkError::UnknownKeyType),
        };
        Ok(members.into_iter().collect())
    }

    /// RFC 7638: the required members in lexicographic order, no whitespace, UTF-8,
    /// SHA-256, base64url without padding. serde_json writes a BTreeMap in key order
    /// and escapes strings minimally, which is the canonical form the RFC asks for.
    pub fn thumbprint(&self) -> Result<Thumbprint, JwkError> {
        let canonical = serde_json::to_string(&self.required_members()?).map_err(|_| JwkError::Malformed)?;
        Ok(Thumbprint(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 7638 section 3.1's example key (the RSA key of RFC 7517 appendix A.1).
    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    fn rfc7638_key() -> Jwk {
        Jwk {
            kty: "RSA".into(),
            crv: None,
            x: None,
            y: None,
            n: Some(RFC7638_N.into()),
            e: Some("AQAB".into()),
            kid: Some("2011-04-29".into()),
            alg: Some("RS256".into()),
            use_: None,
        }
    }

    #[test]
    fn rfc7638_published_example() {
        assert_eq!(
            rfc7638_key().thumbprint().unwrap().as_str(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rfc7638_example_parsed_from_its_json() {
        let json = format!(r#"{{"keys":[{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}]}}"#);
        let set = Jwks::parse(&json).unwrap();
        let k = set.find("2011-04-29").unwrap();
        assert_eq!(k.thumbprint().unwrap().as_str(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    /// RFC 8037 appendix A.3: the Ed25519 key's thumbprint.
    #[test]
    fn rfc8037_okp_example() {
        let k = Jwk {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            x: Some("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into()),
            y: None,
            n: None,
            e: None,
            kid: None,
            alg: None,
            use_: None,
        };
        assert_eq!(k.thumbprint().unwrap().as_str(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn missing_members_and_unknown_types_are_errors() {
        let mut k = rfc7638_key();
        k.e = None;
        assert_eq!(k.thumbprint(), Err(JwkError::MissingMember("e")));
        k.kty = "oct".into();
        assert_eq!(k.thumbprint(), Err(JwkError::UnknownKeyType));
        assert_eq!(Jwks::parse("[]"), Err(JwkError::Malformed));
    }

    fn ec(crv: &str, x: &str, y: &str) -> Jwk {
        Jwk {
            kty: "EC".into(),
            crv: Some(crv.into()),
            x: Some(x.into()),
            y: Some(y.into()),
            n: None,
            e: None,
            kid: None,
            alg: None,
            use_: None,
        }
    }

    fn b64() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{1,60}"
    }

    proptest! {
        /// The thumbprint depends on the required members only: kid, alg and use (and the
        /// order the JSON came in) do not change it.
        #[test]
        fn thumbprint_ignores_optional_members(x in b64(), y in b64(), kid in "\\PC{0,20}", alg in "\\PC{0,8}") {
            let plain = ec("P-256", &x, &y);
            let mut dressed = plain.clone();
            dressed.kid = Some(kid);
            dressed.alg = Some(alg);
            let reordered: Jwk = serde_json::from_str(&format!(r#"{{"y":"{y}","x":"{x}","crv":"P-256","kty":"EC"}}"#)).unwrap();
            dressed.use_ = Some("sig".into());
            prop_assert_eq!(plain.thumbprint().unwrap(), dressed.thumbprint().unwrap());
            prop_assert_eq!(reordered.thumbprint().unwrap(), plain.thumbprint().unwrap());
        }

        /// The canonical JSON is exactly the RFC's template, and its hash is the thumbprint.
        #[test]
        fn thumbprint_is_sha256_of_the_canonical_form(x in b64(), y in b64()) {
            let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
            let want = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
            let got = ec("P-256", &x, &y).thumbprint().unwrap();
            prop_assert_eq!(got.as_str(), want.as_str());
        }

        /// Any change to a required member changes the thumbprint.
        #[test]
        fn thumbprint_binds_every_required_member(x in b64(), y in b64(), x2 in b64()) {
            prop_assume!(x != x2);
            prop_assert_ne!(ec("P-256", &x, &y).thumbprint().unwrap(), ec("P-256", &x2, &y).thumbprint().unwrap());
            prop_assert_ne!(ec("P-256", &x, &y).thumbprint().unwrap(), ec("P-384", &x, &y).thumbprint().unwrap());
        }

        /// A published key survives the JSON round trip an origin's JWKS fetch puts it through.
        #[test]
        fn jwk_round_trips_through_json(x in b64(), y in b64(), kid in "\\PC{0,20}") {
            let mut k = ec("P-256", &x, &y);
            k.kid = Some(kid);
            k.use_ = Some("sig".into());
            let set = Jwks { keys: vec![k] };
            let back = Jwks::parse(&serde_json::to_string(&set).unwrap()).unwrap();
            prop_assert_eq!(back, set);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") { let _ = Jwks::parse(&s); }
    }
}
