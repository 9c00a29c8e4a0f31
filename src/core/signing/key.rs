//! RustCrypto keys for native code: `sessiongate::verify` (origins) checks ES256 / EdDSA
//! signatures against a JWK with these, and tests sign with them. The gate's Wasm does
//! not: it signs with the runtime's WebCrypto (`gate::keys`), which keeps P-256 and
//! Ed25519 arithmetic out of the bundle (docs/performance.md: Assertion signatures).

use super::material::{jwk_kind, Encoded, KeyError, KeyMaterial};
use super::Algorithm;
use crate::core::jwk::Jwk;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use std::fmt;

/// A private key the gate signs with. Its Debug never prints the key.
#[derive(Clone)]
pub enum PrivateKey {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.algorithm().name())
    }
}

/// A public key an origin verifies with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Es256(p256::ecdsa::VerifyingKey),
    EdDsa(ed25519_dalek::VerifyingKey),
}

/// A JWS signature: 64 bytes for both algorithms (ES256's is r || s, RFC 7518 3.4).
pub type SignatureBytes = [u8; 64];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignError;

impl PrivateKey {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PrivateKey::Es256(_) => Algorithm::Es256,
            PrivateKey::EdDsa(_) => Algorithm::EdDsa,
        }
    }

    pub fn public(&self) -> PublicKey {
        match self {
            PrivateKey::Es256(k) => PublicKey::Es256(*k.verifying_key()),
            PrivateKey::EdDsa(k) => PublicKey::EdDsa(k.verifying_key()),
        }
    }

    /// ES256: SHA-256 then ECDSA with an RFC 6979 nonce; EdDSA: Ed25519 (RFC 8032).
    /// `try_sign`, not `sign`: the latter panics on the (negligible) ECDSA failure,
    /// and a panic would abort the Wasm instance.
    pub fn sign(&self, msg: &[u8]) -> Result<SignatureBytes, SignError> {
        use p256::ecdsa::signature::Signer;
        match self {
            PrivateKey::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.try_sign(msg).map_err(|_| SignError)?;
                Ok(sig.to_bytes().into())
            }
            PrivateKey::EdDsa(k) => Ok(k.try_sign(msg).map_err(|_| SignError)?.to_bytes()),
        }
    }

    /// Reads a private key for `alg` from a PKCS#8 PEM or a private JWK.
    pub fn parse(raw: &str, alg: Algorithm) -> Result<PrivateKey, KeyError> {
        match load(&KeyMaterial::private_for(raw, alg)?)? {
            Loaded::Private(k) => Ok(k),
            Loaded::Public(_) => Err(KeyError::PublicOnly),
        }
    }
}

impl PublicKey {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Es256(_) => Algorithm::Es256,
            PublicKey::EdDsa(_) => Algorithm::EdDsa,
        }
    }

    /// Reads a key whose public half is to be published (a previous signing key): a
    /// private or public PEM / JWK of either supported algorithm.
    pub fn parse(raw: &str) -> Result<PublicKey, KeyError> {
        match load(&KeyMaterial::read(raw)?)? {
            Loaded::Private(k) => Ok(k.public()),
            Loaded::Public(k) => Ok(k),
        }
    }

    /// The public JWK with its RFC 7638 `kid`, `alg` and `use: "sig"`.
    pub fn to_jwk(&self) -> Jwk {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        match self {
            PublicKey::Es256(k) => {
                let point = k.to_encoded_point(false);
                let coordinate = |c: Option<&p256::FieldBytes>| c.map(|c| b64(c)).unwrap_or_default();
                super::public_jwk(Algorithm::Es256, coordinate(point.x()), Some(coordinate(point.y())))
            }
            PublicKey::EdDsa(k) => super::public_jwk(Algorithm::EdDsa, b64(k.as_bytes()), None),
        }
    }

    /// The key a published JWK describes. `alg`, when present, must agree with the key.
    pub fn from_jwk(jwk: &Jwk) -> Result<PublicKey, KeyError> {
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("EC", Some("P-256")) => {
                let (x, y) = (b64_field(&jwk.x)?, b64_field(&jwk.y)?);
                PublicKey::Es256(p256_from_xy(&x, &y)?)
            }
            ("OKP", Some("Ed25519")) => PublicKey::EdDsa(ed25519_from_x(&b64_field(&jwk.x)?)?),
            (kty, crv) => return Err(KeyError::Unsupported(jwk_kind(kty, crv))),
        };
        match jwk.alg.as_deref() {
            Some(a) if a != key.algorithm().name() => Err(KeyError::MalformedJwk),
            _ => Ok(key),
        }
    }

    /// Checks a JWS signature over `msg`. Both libraries reject malformed and
    /// non-canonical signatures (ECDSA: r, s in range; Ed25519: strict verification).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier;
        match self {
            PublicKey::Es256(k) => p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok()),
            PublicKey::EdDsa(k) => ed25519_dalek::Signature::from_slice(sig).is_ok_and(|s| k.verify_strict(msg, &s).is_ok()),
        }
    }
}

impl PrivateKey {
    /// The RustCrypto key for classified private key material.
    pub fn from_material(m: &KeyMaterial) -> Result<PrivateKey, KeyError> {
        match load(m)? {
            Loaded::Private(k) => Ok(k),
            Loaded::Public(_) => Err(KeyError::PublicOnly),
        }
    }
}

impl PublicKey {
    /// The public key of classified key material (the public half of a private key).
    pub fn from_material(m: &KeyMaterial) -> Result<PublicKey, KeyError> {
        match load(m)? {
            Loaded::Private(k) => Ok(k.public()),
            Loaded::Public(k) => Ok(k),
        }
    }
}

enum Loaded {
    Private(PrivateKey),
    Public(PublicKey),
}

fn load(m: &KeyMaterial) -> Result<Loaded, KeyError> {
    Ok(match (&m.encoded, m.algorithm) {
        (Encoded::Pkcs8(der), Algorithm::Es256) => Loaded::Private(PrivateKey::Es256(
            p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|_| KeyError::Invalid)?,
        )),
        (Encoded::Pkcs8(der), _) => Loaded::Private(PrivateKey::EdDsa(
            ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|_| KeyError::Invalid)?,
        )),
        (Encoded::Spki(der), Algorithm::Es256) => Loaded::Public(PublicKey::Es256(
            p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|_| KeyError::Invalid)?,
        )),
        (Encoded::Spki(der), _) => Loaded::Public(PublicKey::EdDsa(
            ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|_| KeyError::Invalid)?,
        )),
        (Encoded::Jwk(json), _) => load_jwk(json)?,
    })
}

/// The key members `KeyMaterial` kept of a JWK.
#[derive(serde::Deserialize)]
struct JwkMembers {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    d: Option<String>,
}

fn b64_field(v: &Option<String>) -> Result<Vec<u8>, KeyError> {
    v.as_deref()
        .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
        .ok_or(KeyError::MalformedJwk)
}

fn p256_from_xy(x: &[u8], y: &[u8]) -> Result<p256::ecdsa::VerifyingKey, KeyError> {
    if x.len() != 32 || y.len() != 32 {
        return Err(KeyError::MalformedJwk);
    }
    let point = p256::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
    p256::ecdsa::VerifyingKey::from_encoded_point(&point).map_err(|_| KeyError::Invalid)
}

fn ed25519_from_x(x: &[u8]) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    let bytes: &[u8; 32] = x.try_into().map_err(|_| KeyError::MalformedJwk)?;
    ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::Invalid)
}

fn load_jwk(json: &str) -> Result<Loaded, KeyError> {
    let jwk: JwkMembers = serde_json::from_str(json).map_err(|_| KeyError::MalformedJwk)?;
    let public = match jwk.kty.as_str() {
        "EC" => PublicKey::Es256(p256_from_xy(&b64_field(&jwk.x)?, &b64_field(&jwk.y)?)?),
        _ => PublicKey::EdDsa(ed25519_from_x(&b64_field(&jwk.x)?)?),
    };
    let Some(d) = &jwk.d else {
        return Ok(Loaded::Public(public));
    };
    let d = URL_SAFE_NO_PAD.decode(d).map_err(|_| KeyError::MalformedJwk)?;
    let private = match &public {
        PublicKey::Es256(_) => PrivateKey::Es256(p256::ecdsa::SigningKey::from_slice(&d).map_err(|_| KeyError::Invalid)?),
        PublicKey::EdDsa(_) => {
            let seed: &[u8; 32] = d.as_slice().try_into().map_err(|_| KeyError::MalformedJwk)?;
            PrivateKey::EdDsa(ed25519_dalek::SigningKey::from_bytes(seed))
        }
    };
    if private.public() != public {
        return Err(KeyError::JwkMismatch);
    }
    let _ = jwk.crv;
    Ok(Loaded::Private(private))
}
