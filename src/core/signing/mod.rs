//! Which key signs `X-Session-Assertion`, and which public keys the gate publishes at
//! `/.sessiongate/jwks.json` (issue 15).
//!
//! `ASSERTION_ALG` is `ES256` (default), `EdDSA` or `HS256`. With the first two the gate
//! signs with `ASSERTION_SIGNING_KEY` and origins verify with the public key only, so a
//! leaked origin cannot mint assertions; `ASSERTION_SIGNING_KEY_PREVIOUS` is published,
//! never used to sign, so origins holding a cached JWKS keep verifying during a rotation.
//! `HS256` is the shared-secret scheme under `ORIGIN_SECRET`, kept for existing origins.
//!
//! Here the keys are only classified (`material`), once per isolate with the rest of the
//! configuration; the gate's Wasm imports them into WebCrypto once per isolate and signs
//! there (`gate::keys`). `key` holds the RustCrypto keys native code verifies with.

mod der;
mod key;
mod material;

pub use key::{PrivateKey, PublicKey, SignError, SignatureBytes};
pub use material::{Encoded, KeyError, KeyKind, KeyMaterial};

use super::assertion::{self, Claims};
use super::config::ConfigError;
use super::jwk::Jwk;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub const ALG_VAR: &str = "ASSERTION_ALG";
pub const KEY_VAR: &str = "ASSERTION_SIGNING_KEY";
pub const PREVIOUS_VAR: &str = "ASSERTION_SIGNING_KEY_PREVIOUS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Es256,
    EdDsa,
    Hs256,
}

impl Algorithm {
    /// The JOSE name (RFC 7518, RFC 8037), as in the header's `alg`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Hs256 => "HS256",
        }
    }

    /// JOSE names are case-sensitive, but a configuration saying `es256` means nothing else.
    pub fn parse(raw: &str) -> Option<Algorithm> {
        [Algorithm::Es256, Algorithm::EdDsa, Algorithm::Hs256]
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(raw.trim()))
    }

    fn key_kind(self) -> &'static str {
        match self {
            Algorithm::Es256 => "a P-256 EC private key",
            Algorithm::EdDsa => "an Ed25519 private key",
            Algorithm::Hs256 => "ORIGIN_SECRET",
        }
    }

    /// The accepted forms of `ASSERTION_SIGNING_KEY` for this algorithm, with the command
    /// that makes one.
    pub fn accepted_key_forms(self) -> &'static str {
        match self {
            Algorithm::Es256 => "a P-256 private key as PKCS#8 PEM (-----BEGIN PRIVATE KEY-----, made by `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`; newlines may be written \\n) or as a private JWK {\"kty\":\"EC\",\"crv\":\"P-256\",\"x\",\"y\",\"d\"}",
            Algorithm::EdDsa => "an Ed25519 private key as PKCS#8 PEM (-----BEGIN PRIVATE KEY-----, made by `openssl genpkey -algorithm ed25519`; newlines may be written \\n) or as a private JWK {\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\",\"d\"}",
            Algorithm::Hs256 => "no ASSERTION_SIGNING_KEY: HS256 signs with ORIGIN_SECRET",
        }
    }
}

/// base64url of the assertion header `{"alg":…,"typ":"JWT","kid":…}`.
pub fn header_b64(alg: Algorithm, kid: &str) -> String {
    let header = Header {
        alg: alg.name(),
        typ: "JWT",
        kid,
    };
    // A struct of three strings always serialises.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default())
}

/// The published form of a public key: its key members (`x`, and `y` for EC) with `alg`,
/// `use: "sig"` and the RFC 7638 thumbprint as `kid`.
pub fn public_jwk(alg: Algorithm, x: String, y: Option<String>) -> Jwk {
    let (kty, crv) = match alg {
        Algorithm::Es256 => ("EC", "P-256"),
        _ => ("OKP", "Ed25519"),
    };
    let mut jwk = Jwk {
        kty: kty.into(),
        crv: Some(crv.into()),
        x: Some(x),
        y,
        n: None,
        e: None,
        kid: None,
        alg: Some(alg.name().into()),
        use_: Some("sig".into()),
    };
    // kty, crv and x are set (and y for EC, which RustCrypto and WebCrypto always give).
    jwk.kid = jwk.thumbprint().ok().map(|t| t.to_string());
    jwk
}

/// A RustCrypto signer (native code and tests; the gate signs in WebCrypto) with the
/// header every assertion it signs carries.
#[derive(Debug, Clone)]
pub struct Signer {
    key: PrivateKey,
    kid: String,
    /// base64url of `{"alg":…,"typ":"JWT","kid":…}`, encoded once.
    header_b64: String,
}

#[derive(serde::Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

impl Signer {
    pub fn new(key: PrivateKey) -> Signer {
        let kid = key.public().to_jwk().kid.unwrap_or_default();
        let header_b64 = header_b64(key.algorithm(), &kid);
        Signer { key, kid, header_b64 }
    }

    /// The RFC 7638 thumbprint of the public key: the `kid` in headers and the JWKS.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    pub fn public(&self) -> PublicKey {
        self.key.public()
    }

    /// A compact JWS of `claims` under this key.
    pub fn sign(&self, claims: &Claims) -> Result<String, SignError> {
        let mut out = assertion::signing_input(&self.header_b64, claims);
        let sig = self.key.sign(out.as_bytes())?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut out);
        Ok(out)
    }
}

/// The assertion keys of one configuration, classified but not imported.
#[derive(Debug, Clone)]
pub struct AssertionKeys {
    pub alg: Algorithm,
    /// The signing key: `None` exactly when `alg` is HS256 (which signs with `ORIGIN_SECRET`).
    pub current: Option<KeyMaterial>,
    /// Published, never used to sign.
    pub previous: Option<KeyMaterial>,
}

fn config_err(variable: &'static str, problem: impl ToString, accepted: &str) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.to_string(),
        accepted: accepted.to_string(),
    }
}

/// A key that was well-formed but that the runtime could not import (or whose private and
/// public parts disagree): found when it is first used, reported like a parse error.
pub fn unusable_key(previous: bool, alg: Algorithm, problem: &str) -> ConfigError {
    let problem = format!("could not be imported: {problem}");
    match previous {
        false => config_err(KEY_VAR, problem, alg.accepted_key_forms()),
        true => config_err(PREVIOUS_VAR, problem, PREVIOUS_FORMS),
    }
}

/// Also found after import, when the two are the same key in different encodings.
pub fn same_key_error() -> ConfigError {
    config_err(PREVIOUS_VAR, "is the same key as ASSERTION_SIGNING_KEY", PREVIOUS_FORMS)
}

const PREVIOUS_FORMS: &str =
    "the key ASSERTION_SIGNING_KEY held before the rotation (PKCS#8 PEM or JWK, private or public), a P-256 or Ed25519 key";

/// Reads `ASSERTION_ALG`, `ASSERTION_SIGNING_KEY` and `ASSERTION_SIGNING_KEY_PREVIOUS`.
/// Every error names its variable and the accepted forms, never the key.
pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<AssertionKeys, ConfigError> {
    let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
    let alg = match var(ALG_VAR) {
        None => Algorithm::Es256,
        Some(raw) => Algorithm::parse(&raw).ok_or_else(|| {
            let shown: String = raw.trim().chars().take(20).collect();
            config_err(
                ALG_VAR,
                format!("{shown:?} is not a supported algorithm"),
                "ES256 (the default), EdDSA or HS256",
            )
        })?,
    };
    if alg == Algorithm::Hs256 {
        return hs256_keys(var(KEY_VAR).is_some(), var(PREVIOUS_VAR).is_some());
    }
    let raw = var(KEY_VAR).ok_or_else(|| {
        config_err(
            KEY_VAR,
            format!("is not set (ASSERTION_ALG is {})", alg.name()),
            &format!(
                "{}; or ASSERTION_ALG=HS256 to sign with ORIGIN_SECRET as before",
                alg.accepted_key_forms()
            ),
        )
    })?;
    let current = KeyMaterial::private_for(&raw, alg).map_err(|e| config_err(KEY_VAR, e, alg.accepted_key_forms()))?;
    let previous = match var(PREVIOUS_VAR) {
        None => None,
        Some(raw) => Some(KeyMaterial::read(&raw).map_err(|e| config_err(PREVIOUS_VAR, e, PREVIOUS_FORMS))?),
    };
    if previous.as_ref().is_some_and(|p| p.encoded == current.encoded) {
        return Err(same_key_error());
    }
    Ok(AssertionKeys {
        alg,
        current: Some(current),
        previous,
    })
}

/// HS256 signs with `ORIGIN_SECRET`; a signing key set alongside it would be silently
/// ignored, so it is refused instead.
fn hs256_keys(key_set: bool, previous_set: bool) -> Result<AssertionKeys, ConfigError> {
    let ignored = "is set, but ASSERTION_ALG=HS256 signs with ORIGIN_SECRET and would ignore it";
    let fix = "ASSERTION_ALG=ES256 or EdDSA to sign with the key, or leave it unset with HS256";
    if key_set {
        return Err(config_err(KEY_VAR, ignored, fix));
    }
    if previous_set {
        return Err(config_err(PREVIOUS_VAR, ignored, fix));
    }
    Ok(AssertionKeys {
        alg: Algorithm::Hs256,
        current: None,
        previous: None,
    })
}

#[cfg(test)]
mod tests;
