//! Assertion keys at the edges the signer's tests did not reach (found by cargo-mutants):
//! a private key's Debug form names only its algorithm, and a published JWK whose `alg`
//! disagrees with its key is refused, and so is a P-256 JWK with a short coordinate.

use sessiongate::core::signing::{KeyError, PrivateKey, PublicKey};

fn es256() -> PrivateKey {
    PrivateKey::Es256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap())
}

fn eddsa() -> PrivateKey {
    PrivateKey::EdDsa(ed25519_dalek::SigningKey::from_bytes(&[9; 32]))
}

#[test]
fn signing_private_keys_debug_as_their_algorithm_only() {
    assert_eq!(format!("{:?}", es256()), "PrivateKey(ES256)");
    assert_eq!(format!("{:?}", eddsa()), "PrivateKey(EdDSA)");
}

#[test]
fn signing_jwk_alg_must_agree_with_the_key() {
    for (key, right, wrong) in [(es256(), "ES256", "EdDSA"), (eddsa(), "EdDSA", "ES256")] {
        let mut jwk = key.public().to_jwk();
        jwk.alg = None;
        assert_eq!(PublicKey::from_jwk(&jwk), Ok(key.public()), "no alg: the key decides");
        jwk.alg = Some(right.into());
        assert_eq!(PublicKey::from_jwk(&jwk), Ok(key.public()));
        jwk.alg = Some(wrong.into());
        assert_eq!(PublicKey::from_jwk(&jwk), Err(KeyError::MalformedJwk));
        jwk.alg = Some("HS256".into());
        assert_eq!(PublicKey::from_jwk(&jwk), Err(KeyError::MalformedJwk));
    }
}

#[test]
fn signing_a_published_p256_jwk_needs_32_byte_coordinates() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let short = URL_SAFE_NO_PAD.encode([1u8; 31]);
    let good = es256().public().to_jwk();
    // One short coordinate is enough to refuse the key (and must not reach the curve code).
    for (x, y) in [
        (Some(short.clone()), good.y.clone()),
        (good.x.clone(), Some(short.clone())),
        (Some(short.clone()), Some(short)),
    ] {
        let mut jwk = good.clone();
        jwk.x = x;
        jwk.y = y;
        assert_eq!(PublicKey::from_jwk(&jwk), Err(KeyError::MalformedJwk));
    }
    assert_eq!(PublicKey::from_jwk(&good), Ok(es256().public()));
}
