//! Key material as the gate's Wasm reads it before WebCrypto imports it (found by
//! cargo-mutants): a JWK's members must have their exact lengths, the encoded bytes are
//! handed over as read, and a key of the wrong kind names what the algorithm needs.
//! `KeyMaterial::read` is all the checking a key gets before the runtime's importer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sessiongate::core::signing::{Algorithm, Encoded, KeyError, KeyKind, KeyMaterial};

fn b64(len: usize) -> String {
    URL_SAFE_NO_PAD.encode(vec![7u8; len])
}

/// A JWK with these members, each the base64url of that many bytes.
fn jwk(kty_crv: &str, members: &[(&str, usize)]) -> String {
    let members: Vec<String> = members.iter().map(|(k, n)| format!(r#","{k}":"{}""#, b64(*n))).collect();
    format!("{{{kty_crv}{}}}", members.concat())
}

/// `Ok(private)` or the refusal.
fn read(raw: &str) -> Result<bool, KeyError> {
    KeyMaterial::read(raw).map(|m| m.private)
}

const EC: &str = r#""kty":"EC","crv":"P-256""#;
const OKP: &str = r#""kty":"OKP","crv":"Ed25519""#;

#[test]
fn signing_ec_jwk_members_are_32_bytes_each() {
    assert_eq!(read(&jwk(EC, &[("x", 32), ("y", 32)])), Ok(false));
    assert_eq!(read(&jwk(EC, &[("x", 32), ("y", 32), ("d", 32)])), Ok(true));
    for bad in [
        jwk(EC, &[("x", 31), ("y", 32)]),
        jwk(EC, &[("x", 32), ("y", 31)]),
        jwk(EC, &[("x", 32), ("y", 33)]),
        jwk(EC, &[("x", 32)]),
        jwk(EC, &[("x", 32), ("y", 32), ("d", 31)]),
    ] {
        assert_eq!(read(&bad), Err(KeyError::MalformedJwk), "{bad}");
    }
}

#[test]
fn signing_ed25519_jwk_has_a_32_byte_x_and_no_y() {
    assert_eq!(read(&jwk(OKP, &[("x", 32)])), Ok(false));
    assert_eq!(read(&jwk(OKP, &[("x", 32), ("d", 32)])), Ok(true));
    for bad in [
        jwk(OKP, &[("x", 31)]),
        jwk(OKP, &[("x", 32), ("y", 32)]),
        jwk(OKP, &[("x", 31), ("y", 32)]),
        jwk(OKP, &[("x", 32), ("d", 33)]),
    ] {
        assert_eq!(read(&bad), Err(KeyError::MalformedJwk), "{bad}");
    }
}

#[test]
fn signing_encoded_material_hands_over_its_bytes() {
    let raw = jwk(OKP, &[("x", 32), ("d", 32)]);
    let m = KeyMaterial::read(&raw).unwrap();
    assert_eq!((m.encoded.format(), m.encoded.bytes()), ("jwk", raw.as_bytes()));
    assert_eq!(Encoded::Pkcs8(vec![1, 2, 3]).bytes(), [1, 2, 3]);
    assert_eq!(Encoded::Spki(vec![4, 5]).bytes(), [4, 5]);
}

#[test]
fn signing_a_key_of_the_wrong_kind_names_what_the_algorithm_needs() {
    let message = |kind, alg| KeyError::WrongKind(kind, alg).to_string();
    assert_eq!(
        message(KeyKind::Ed25519, Algorithm::Es256),
        "is an Ed25519 key, but ASSERTION_ALG=ES256 needs a P-256 EC private key"
    );
    assert_eq!(
        message(KeyKind::P256, Algorithm::EdDsa),
        "is a P-256 EC key, but ASSERTION_ALG=EdDSA needs an Ed25519 private key"
    );
    assert_eq!(
        message(KeyKind::P256, Algorithm::Hs256),
        "is a P-256 EC key, but ASSERTION_ALG=HS256 needs ORIGIN_SECRET"
    );
}
