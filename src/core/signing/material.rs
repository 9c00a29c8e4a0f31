//! What a configured key is, read without any curve arithmetic: the PEM label, the
//! PKCS#8 / SPKI algorithm identifier, or the JWK's `kty`, `crv` and `d`.
//!
//! This is all the gate's Wasm does with a key before handing it to the runtime's
//! WebCrypto (`gate::keys`), so it refuses every wrong form by name (an RSA key, a P-384
//! key, a public key where a private one is needed) in the synchronous configuration,
//! and never echoes key material. Native code turns a `KeyMaterial` into RustCrypto keys
//! (`key.rs`).

use super::der::{self, oid, Oid};
use super::Algorithm;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::fmt;

/// What a key turned out to be, named in config errors (never its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    P256,
    Ed25519,
    Rsa,
    /// An EC key on another curve: P-384, P-521, secp256k1 or an OID.
    OtherCurve(String),
    /// Another algorithm (X25519, Ed448, DSA...), by name or OID.
    Other(String),
}

impl KeyKind {
    /// The assertion algorithm a key of this kind signs with, if any.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match self {
            KeyKind::P256 => Some(Algorithm::Es256),
            KeyKind::Ed25519 => Some(Algorithm::EdDsa),
            _ => None,
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::P256 => f.write_str("a P-256 EC key"),
            KeyKind::Ed25519 => f.write_str("an Ed25519 key"),
            KeyKind::Rsa => f.write_str("an RSA key"),
            KeyKind::OtherCurve(c) => write!(f, "an EC key on curve {c}"),
            KeyKind::Other(a) => write!(f, "a key of another algorithm ({a})"),
        }
    }
}

/// Why a configured key was refused. None of these carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    NotPemOrJwk,
    MalformedPem,
    /// A PEM label this gate does not read (`CERTIFICATE`...).
    UnsupportedPem(String),
    /// `EC PRIVATE KEY` (SEC1): the same key, in the form the contract does not take.
    Sec1Pem,
    EncryptedPem,
    MalformedJwk,
    /// A public key where the private key is needed.
    PublicOnly,
    /// A key of the wrong kind for the algorithm.
    WrongKind(KeyKind, Algorithm),
    /// A key of a kind the gate neither signs with nor publishes.
    Unsupported(KeyKind),
    /// The key bytes are not a valid key of their kind.
    Invalid,
    /// A private JWK whose `x`/`y` are not the public key of its `d`.
    JwkMismatch,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotPemOrJwk => f.write_str("is neither a PEM block nor a JSON Web Key"),
            KeyError::MalformedPem => f.write_str("is not a well-formed PEM block"),
            KeyError::UnsupportedPem(label) => write!(f, "is a PEM {label:?}, not a PKCS#8 \"PRIVATE KEY\""),
            KeyError::Sec1Pem => f.write_str("is a SEC1 \"EC PRIVATE KEY\"; convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem`"),
            KeyError::EncryptedPem => f.write_str("is an encrypted PKCS#8 key; the gate needs it unencrypted"),
            KeyError::MalformedJwk => f.write_str("is not a well-formed JWK for its kty and crv"),
            KeyError::PublicOnly => f.write_str("is a public key; the gate signs with the private key"),
            KeyError::WrongKind(kind, alg) => write!(f, "is {kind}, but ASSERTION_ALG={} needs {}", alg.name(), alg.key_kind()),
            KeyError::Unsupported(kind) => write!(f, "is {kind}; only P-256 (ES256) and Ed25519 (EdDSA) keys are supported"),
            KeyError::Invalid => f.write_str("holds key bytes that are not a valid key"),
            KeyError::JwkMismatch => f.write_str("is a private JWK whose public members do not match its private member d"),
        }
    }
}

impl std::error::Error for KeyError {}

/// A key in one of the encodings WebCrypto's `importKey` and RustCrypto both read.
#[derive(Clone, PartialEq, Eq)]
pub enum Encoded {
    /// PKCS#8 `PrivateKeyInfo`, DER.
    Pkcs8(Vec<u8>),
    /// `SubjectPublicKeyInfo`, DER.
    Spki(Vec<u8>),
    /// A JWK as given; importers read only its key members (`kty`, `crv`, `x`, `y`, `d`),
    /// so no `alg`, `key_ops` or `ext` of the input can disagree with the import.
    Jwk(String),
}

impl Encoded {
    /// WebCrypto's name for the format.
    pub fn format(&self) -> &'static str {
        match self {
            Encoded::Pkcs8(_) => "pkcs8",
            Encoded::Spki(_) => "spki",
            Encoded::Jwk(_) => "jwk",
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Encoded::Pkcs8(b) | Encoded::Spki(b) => b,
            Encoded::Jwk(s) => s.as_bytes(),
        }
    }
}

/// A key of a supported kind, classified, not yet imported. Debug never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    pub algorithm: Algorithm,
    pub private: bool,
    pub encoded: Encoded,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = if self.private { "private" } else { "public" };
        write!(f, "KeyMaterial({} {side}, {})", self.algorithm.name(), self.encoded.format())
    }
}

impl KeyMaterial {
    /// A private key for `alg`, from a PKCS#8 PEM or a private JWK.
    pub fn private_for(raw: &str, alg: Algorithm) -> Result<KeyMaterial, KeyError> {
        let m = Self::read(raw)?;
        match m.algorithm {
            a if a != alg => Err(KeyError::WrongKind(kind_of_alg(a), alg)),
            _ if !m.private => Err(KeyError::PublicOnly),
            _ => Ok(m),
        }
    }

    /// Any supported key, private or public (a previous key, whose public half is published).
    pub fn read(raw: &str) -> Result<KeyMaterial, KeyError> {
        // Operators paste PEM into one-line secrets with `\n` escapes; both forms are read.
        let text = raw.trim().replace("\\n", "\n");
        if text.starts_with('{') {
            read_jwk(&text)
        } else if text.starts_with("-----BEGIN ") {
            read_pem(&text)
        } else {
            Err(KeyError::NotPemOrJwk)
        }
    }
}

fn kind_of_alg(a: Algorithm) -> KeyKind {
    match a {
        Algorithm::Es256 => KeyKind::P256,
        Algorithm::EdDsa => KeyKind::Ed25519,
        Algorithm::Hs256 => KeyKind::Other("HMAC".into()),
    }
}

fn supported(kind: KeyKind) -> Result<Algorithm, KeyError> {
    kind.algorithm().ok_or(KeyError::Unsupported(kind))
}

/// Names a PKCS#8 / SPKI algorithm identifier.
fn kind_of(alg: Oid<'_>, curve: Option<Oid<'_>>) -> KeyKind {
    let curve_name = |c: Oid<'_>| match c {
        oid::P384 => "P-384".to_string(),
        oid::P521 => "P-521".to_string(),
        oid::SECP256K1 => "secp256k1".to_string(),
        other => der::dotted(other),
    };
    match (alg, curve) {
        (oid::EC, Some(oid::P256)) => KeyKind::P256,
        (oid::EC, c) => KeyKind::OtherCurve(c.map_or_else(|| "(unnamed)".into(), curve_name)),
        (oid::ED25519, _) => KeyKind::Ed25519,
        (oid::RSA, _) => KeyKind::Rsa,
        (oid::X25519, _) => KeyKind::Other("X25519".into()),
        (oid::ED448, _) => KeyKind::Other("Ed448".into()),
        (other, _) => KeyKind::Other(der::dotted(other)),
    }
}

/// The label and DER bytes of one PEM block (RFC 7468: armor lines around base64).
/// Only the armor is read here; the DER is checked by `der::algorithm_of` and the importer.
fn pem_block(text: &str) -> Result<(&str, Vec<u8>), KeyError> {
    let mut lines = text.lines().map(str::trim);
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or(KeyError::MalformedPem)?;
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    for line in lines.by_ref() {
        if line == end {
            return STANDARD.decode(body).map(|der| (label, der)).map_err(|_| KeyError::MalformedPem);
        }
        body.push_str(line);
    }
    Err(KeyError::MalformedPem)
}

fn read_pem(text: &str) -> Result<KeyMaterial, KeyError> {
    let (label, bytes) = pem_block(text)?;
    let (kind, private) = match label {
        "PRIVATE KEY" | "PUBLIC KEY" => {
            let private = label == "PRIVATE KEY";
            let (alg, curve) = der::algorithm_of(&bytes, private).map_err(|_| KeyError::Invalid)?;
            (kind_of(alg, curve), private)
        }
        "EC PRIVATE KEY" => return Err(KeyError::Sec1Pem),
        "ENCRYPTED PRIVATE KEY" => return Err(KeyError::EncryptedPem),
        "RSA PRIVATE KEY" | "RSA PUBLIC KEY" => return Err(KeyError::Unsupported(KeyKind::Rsa)),
        other => return Err(KeyError::UnsupportedPem(other.chars().take(40).collect())),
    };
    Ok(KeyMaterial {
        algorithm: supported(kind)?,
        private,
        encoded: if private { Encoded::Pkcs8(bytes) } else { Encoded::Spki(bytes) },
    })
}

pub(super) fn jwk_kind(kty: &str, crv: Option<&str>) -> KeyKind {
    match (kty, crv) {
        ("EC", Some("P-256")) => KeyKind::P256,
        ("EC", c) => KeyKind::OtherCurve(c.unwrap_or("(none)").chars().take(20).collect()),
        ("OKP", Some("Ed25519")) => KeyKind::Ed25519,
        ("OKP", c) => KeyKind::Other(c.unwrap_or("OKP").chars().take(20).collect()),
        ("RSA", _) => KeyKind::Rsa,
        (k, _) => KeyKind::Other(format!("kty {}", k.chars().take(20).collect::<String>())),
    }
}

/// base64url of exactly `len` bytes.
fn member_ok(v: Option<&str>, len: usize) -> bool {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    v.and_then(|s| URL_SAFE_NO_PAD.decode(s).ok()).is_some_and(|b| b.len() == len)
}

/// Reads the JWK's members through `serde_json::Value` (already in the gate for session
/// data) rather than a derived struct: the Wasm budget is tight (docs/performance.md).
fn read_jwk(text: &str) -> Result<KeyMaterial, KeyError> {
    // serde's message could quote the input: it is dropped for a fixed one.
    let jwk: serde_json::Value = serde_json::from_str(text).map_err(|_| KeyError::MalformedJwk)?;
    let member = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
    let kty = member("kty").ok_or(KeyError::MalformedJwk)?;
    let algorithm = supported(jwk_kind(kty, member("crv")))?;
    let well_formed = match algorithm {
        Algorithm::Es256 => member_ok(member("x"), 32) && member_ok(member("y"), 32),
        _ => member_ok(member("x"), 32) && member("y").is_none(),
    };
    let private = jwk.get("d").is_some();
    if !well_formed || (private && !member_ok(member("d"), 32)) {
        return Err(KeyError::MalformedJwk);
    }
    Ok(KeyMaterial {
        algorithm,
        private,
        encoded: Encoded::Jwk(text.to_string()),
    })
}
