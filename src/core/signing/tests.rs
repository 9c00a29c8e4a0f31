//! Assertion keys: every accepted form, every refused one (by name, without echoing key
//! material), and the sign -> JWKS -> verify round trip an origin performs.
//! The PEM files under testdata/ are throwaway keys made for these tests only.

use super::*;
use crate::core::assertion::{verify, AssertionError, Claims};
use crate::core::jwk::{Jwk, Jwks};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use proptest::prelude::*;
use std::collections::HashMap;

const RSA_PEM: &str = include_str!("testdata/rsa-1024.pem");
const P384_PEM: &str = include_str!("testdata/p384.pem");
const X25519_PEM: &str = include_str!("testdata/x25519.pem");
const SEC1_PEM: &str = include_str!("testdata/p256-sec1.pem");

fn p256_key(seed: u8) -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[seed.max(1); 32]).unwrap()
}

fn ed_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

fn p256_pem(seed: u8) -> String {
    p256_key(seed).to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

fn ed_pem(seed: u8) -> String {
    ed_key(seed).to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn p256_private_jwk(seed: u8) -> String {
    let k = p256_key(seed);
    let p = k.verifying_key().to_encoded_point(false);
    format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}","d":"{}"}}"#,
        b64(p.x().unwrap()),
        b64(p.y().unwrap()),
        b64(&k.to_bytes())
    )
}

fn keys(vars: &[(&str, &str)]) -> Result<AssertionKeys, ConfigError> {
    let m: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    from_lookup(|k| m.get(k).cloned())
}

/// What the gate's WebCrypto import does, natively: the signer and the published set.
fn signer(k: &AssertionKeys) -> Signer {
    Signer::new(PrivateKey::from_material(k.current.as_ref().unwrap()).unwrap())
}

fn published(k: &AssertionKeys) -> Jwks {
    let mut keys = vec![signer(k).public().to_jwk()];
    if let Some(p) = &k.previous {
        keys.push(PublicKey::from_material(p).unwrap().to_jwk());
    }
    Jwks { keys }
}

fn jwks_json(k: &AssertionKeys) -> String {
    serde_json::to_string(&published(k)).unwrap()
}

fn claims() -> Claims {
    let mut c = Claims::new("origin.example", 1_000, "GET", "https://origin.example/app");
    c.sub = Some("alice".into());
    c
}

fn header_of(token: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

#[test]
fn es256_is_the_default_and_verifies_through_the_jwks() {
    let k = keys(&[(KEY_VAR, &p256_pem(7))]).unwrap();
    assert_eq!(k.alg, Algorithm::Es256);
    let signer = signer(&k);
    let token = signer.sign(&claims()).unwrap();
    let header = header_of(&token);
    assert_eq!(header, serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": signer.kid()}));
    // Exactly {"alg","typ","kid"} in that order.
    let raw = URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{}"}}"#, signer.kid())
    );
    let jwks = Jwks::parse(&jwks_json(&k)).unwrap();
    assert_eq!(verify(&token, &jwks, "origin.example", 1_010), Ok(claims()));
    assert_eq!(verify(&token, &jwks.keys[0], "origin.example", 1_010), Ok(claims()));
    assert_eq!(verify(&token, &jwks, "other.example", 1_010), Err(AssertionError::Audience));
}

#[test]
fn eddsa_signs_and_verifies() {
    let k = keys(&[(ALG_VAR, "EdDSA"), (KEY_VAR, &ed_pem(3))]).unwrap();
    let token = signer(&k).sign(&claims()).unwrap();
    assert_eq!(header_of(&token)["alg"], "EdDSA");
    let jwks = Jwks::parse(&jwks_json(&k)).unwrap();
    let jwk = &jwks.keys[0];
    assert_eq!(
        (jwk.kty.as_str(), jwk.crv.as_deref(), jwk.alg.as_deref(), jwk.use_.as_deref()),
        ("OKP", Some("Ed25519"), Some("EdDSA"), Some("sig"))
    );
    assert!(jwk.y.is_none() && jwk.kid == Some(jwk.thumbprint().unwrap().to_string()));
    assert_eq!(verify(&token, &jwks, "origin.example", 1_010), Ok(claims()));
}

#[test]
fn published_jwk_has_kid_alg_use_and_no_private_member() {
    let k = keys(&[(KEY_VAR, &p256_private_jwk(9))]).unwrap();
    let body = jwks_json(&k);
    assert!(!body.contains("\"d\""), "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let key = &v["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"), Some("sig"))
    );
    let jwk: Jwk = serde_json::from_value(key.clone()).unwrap();
    assert_eq!(key["kid"].as_str().unwrap(), jwk.thumbprint().unwrap().as_str());
    // The same key as a PEM gives the same kid.
    let from_pem = keys(&[(KEY_VAR, &p256_pem(9))]).unwrap();
    assert_eq!(signer(&from_pem).kid(), signer(&k).kid());
}

#[test]
fn pem_with_escaped_newlines_is_read() {
    let one_line = p256_pem(5).replace('\n', "\\n");
    assert!(keys(&[(KEY_VAR, &one_line)]).is_ok());
}

#[test]
fn algorithm_confusion_is_refused() {
    let k = keys(&[(KEY_VAR, &p256_pem(7))]).unwrap();
    let jwks = Jwks::parse(&jwks_json(&k)).unwrap();
    let token = signer(&k).sign(&claims()).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let kid = signer(&k).kid().to_string();
    // HS256 "signed" with the published key's bytes (the classic confusion attack).
    let hs_header = b64(format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#).as_bytes());
    for secret in [jwks_json(&k).into_bytes(), serde_json::to_vec(&jwks.keys[0]).unwrap()] {
        let forged = crate::core::assertion::sign(&claims(), &secret);
        let forged = format!("{hs_header}.{}", forged.split_once('.').unwrap().1);
        assert_eq!(verify(&forged, &jwks, "origin.example", 1_010), Err(AssertionError::Algorithm));
    }
    let none = format!("{}.{payload}.", b64(format!(r#"{{"alg":"none","kid":"{kid}"}}"#).as_bytes()));
    assert_eq!(verify(&none, &jwks, "origin.example", 1_010), Err(AssertionError::Algorithm));
    // ES256 header, EdDSA key under that kid: refused, not tried.
    let es_as_ed = format!(
        "{}.{payload}.{}",
        b64(format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#).as_bytes()),
        token.split('.').nth(2).unwrap()
    );
    assert_eq!(verify(&es_as_ed, &jwks, "origin.example", 1_010), Err(AssertionError::Algorithm));
    // A public-key assertion against a secret: refused.
    assert_eq!(
        verify(&token, b"origin-secret-origin-secret-0123", "origin.example", 1_010),
        Err(AssertionError::Algorithm)
    );
}

#[test]
fn another_keys_signature_or_an_unknown_kid_is_refused() {
    let gate = keys(&[(KEY_VAR, &p256_pem(7))]).unwrap();
    let jwks = Jwks::parse(&jwks_json(&gate)).unwrap();
    let other = Signer::new(PrivateKey::Es256(p256_key(8)));
    let theirs = other.sign(&claims()).unwrap();
    assert_eq!(verify(&theirs, &jwks, "origin.example", 1_010), Err(AssertionError::UnknownKey));
    // Their signature under our header (our kid): a bad signature.
    let ours = signer(&gate).sign(&claims()).unwrap();
    let spliced = format!("{}.{}", ours.rsplit_once('.').unwrap().0, theirs.rsplit_once('.').unwrap().1);
    assert_eq!(verify(&spliced, &jwks, "origin.example", 1_010), Err(AssertionError::Signature));
    // Tampered claims.
    let mut c = claims();
    c.sub = Some("mallory".into());
    let (h, _) = ours.split_once('.').unwrap();
    let forged = format!("{h}.{}.{}", b64(&serde_json::to_vec(&c).unwrap()), ours.rsplit_once('.').unwrap().1);
    assert_eq!(verify(&forged, &jwks, "origin.example", 1_010), Err(AssertionError::Signature));
}

#[test]
fn rotation_publishes_both_and_signs_with_the_new_one() {
    let old = keys(&[(KEY_VAR, &p256_pem(1))]).unwrap();
    let new = keys(&[(KEY_VAR, &p256_pem(2)), (PREVIOUS_VAR, &p256_pem(1))]).unwrap();
    let old_kid = signer(&old).kid().to_string();
    let new_kid = signer(&new).kid().to_string();
    assert_ne!(old_kid, new_kid);
    let kids: Vec<_> = published(&new).keys.iter().map(|k| k.kid.clone().unwrap()).collect();
    assert_eq!(kids, vec![new_kid.clone(), old_kid.clone()], "current first");
    let token = signer(&new).sign(&claims()).unwrap();
    assert_eq!(header_of(&token)["kid"], new_kid);
    // An origin holding the old JWKS does not know the new kid: its cue to refetch.
    let cached = Jwks::parse(&jwks_json(&old)).unwrap();
    assert_eq!(verify(&token, &cached, "origin.example", 1_010), Err(AssertionError::UnknownKey));
    assert!(verify(&token, &published(&new), "origin.example", 1_010).is_ok());
    // Assertions signed before the rotation still verify with the new JWKS.
    let before = signer(&old).sign(&claims()).unwrap();
    assert!(verify(&before, &published(&new), "origin.example", 1_010).is_ok());
    // The previous key may be given as its public half, or be of the other algorithm.
    let public = p256_key(1).verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    let with_public = keys(&[(KEY_VAR, &p256_pem(2)), (PREVIOUS_VAR, &public)]).unwrap();
    assert_eq!(published(&with_public), published(&new));
    let switched = keys(&[(ALG_VAR, "EdDSA"), (KEY_VAR, &ed_pem(2)), (PREVIOUS_VAR, &p256_pem(1))]).unwrap();
    assert_eq!(published(&switched).keys[1].alg.as_deref(), Some("ES256"));
}

#[test]
fn hs256_publishes_nothing_and_refuses_stray_keys() {
    let k = keys(&[(ALG_VAR, "HS256")]).unwrap();
    assert!(k.current.is_none() && k.previous.is_none());
    assert_eq!(keys(&[(ALG_VAR, "HS256"), (KEY_VAR, &p256_pem(1))]).unwrap_err().variable, KEY_VAR);
    assert_eq!(
        keys(&[(ALG_VAR, "HS256"), (PREVIOUS_VAR, &p256_pem(1))]).unwrap_err().variable,
        PREVIOUS_VAR
    );
}

/// Every bad form: refused naming the variable and the accepted forms, never echoing
/// key material, never falling back to HS256.
#[test]
fn each_bad_key_is_a_config_error_naming_the_variable() {
    let p256_public = p256_key(1).verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    let public_jwk = p256_private_jwk(4).replace(r#","d":"#, r#","unused":"#);
    let mismatched_jwk = {
        let good: serde_json::Value = serde_json::from_str(&p256_private_jwk(4)).unwrap();
        let other: serde_json::Value = serde_json::from_str(&p256_private_jwk(5)).unwrap();
        serde_json::json!({"kty": "EC", "crv": "P-256", "x": good["x"], "y": good["y"], "d": other["d"]}).to_string()
    };
    let rsa_jwk = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","d":"AAAA"}"#;
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("ES256", String::new(), KEY_VAR, "is not set"),
        ("ES256", RSA_PEM.into(), KEY_VAR, "an RSA key"),
        ("ES256", P384_PEM.into(), KEY_VAR, "P-384"),
        ("ES256", X25519_PEM.into(), KEY_VAR, "X25519"),
        ("ES256", p256_public.clone(), KEY_VAR, "public key"),
        ("ES256", public_jwk, KEY_VAR, "public key"),
        ("ES256", SEC1_PEM.into(), KEY_VAR, "SEC1"),
        (
            "ES256",
            "not a key at all".into(),
            KEY_VAR,
            "neither a PEM block nor a JSON Web Key",
        ),
        (
            "ES256",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into(),
            KEY_VAR,
            "key",
        ),
        ("ES256", "{\"kty\":".into(), KEY_VAR, "not a well-formed JWK"),
        ("ES256", rsa_jwk.into(), KEY_VAR, "an RSA key"),
        ("ES256", ed_pem(1), KEY_VAR, "an Ed25519 key, but ASSERTION_ALG=ES256"),
        ("EdDSA", p256_pem(1), KEY_VAR, "a P-256 EC key, but ASSERTION_ALG=EdDSA"),
        ("EdDSA", P384_PEM.into(), KEY_VAR, "P-384"),
        ("RS256", p256_pem(1), ALG_VAR, "not a supported algorithm"),
    ];
    for (alg, key, variable, problem) in cases {
        let e = keys(&[(ALG_VAR, alg), (KEY_VAR, &key)]).expect_err(&format!("{alg} with {problem} should be refused"));
        assert_eq!(e.variable, variable, "{alg}/{problem}: {e}");
        assert!(e.problem.contains(problem), "{alg}/{problem}: {e}");
        assert!(!e.accepted.is_empty());
        if variable == KEY_VAR {
            assert!(e.accepted.contains("PKCS#8 PEM") && e.accepted.contains("JWK"), "{e}");
        }
        assert_no_key_material(&e.to_string(), &key);
    }
    for (bad, problem) in [(RSA_PEM, "an RSA key"), ("garbage", "neither"), (P384_PEM, "P-384")] {
        let e = keys(&[(KEY_VAR, &p256_pem(2)), (PREVIOUS_VAR, bad)]).unwrap_err();
        assert_eq!(e.variable, PREVIOUS_VAR);
        assert!(e.problem.contains(problem), "{e}");
        assert_no_key_material(&e.to_string(), bad);
    }
    let e = keys(&[(KEY_VAR, &p256_pem(2)), (PREVIOUS_VAR, &p256_pem(2))]).unwrap_err();
    assert_eq!(
        (e.variable, e.problem.as_str()),
        (PREVIOUS_VAR, "is the same key as ASSERTION_SIGNING_KEY")
    );
    // The classification cannot see that x, y are not d's public key; loading the key can
    // (natively here, by a sign-and-verify check in the gate's WebCrypto import).
    let m = KeyMaterial::private_for(&mismatched_jwk, Algorithm::Es256).unwrap();
    assert_eq!(PrivateKey::from_material(&m).unwrap_err(), KeyError::JwkMismatch);
    assert_eq!(
        PublicKey::from_material(&KeyMaterial::read(&p256_public_of(2)).unwrap()).unwrap(),
        PublicKey::Es256(*p256_key(2).verifying_key())
    );
}

fn p256_public_of(seed: u8) -> String {
    p256_key(seed).verifying_key().to_public_key_pem(LineEnding::LF).unwrap()
}

/// No base64 run of the key (a PEM line, a JWK member) appears in the error.
fn assert_no_key_material(error: &str, key: &str) {
    for chunk in key.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '-' || c == '_')) {
        if chunk.len() >= 16 {
            assert!(!error.contains(chunk), "error echoes key material: {error}");
        }
    }
}

#[test]
fn debug_never_prints_the_private_key() {
    let k = keys(&[(KEY_VAR, &p256_private_jwk(6))]).unwrap();
    let d = b64(&p256_key(6).to_bytes());
    let dbg = format!("{k:?}");
    assert!(!dbg.contains(&d), "{dbg}");
    assert!(dbg.contains("KeyMaterial(ES256 private, jwk)"), "{dbg}");
    assert!(!format!("{:?}", signer(&k)).contains(&d));
}

proptest! {
    /// Any P-256 key: its JWK reads back as the same key, its kid is the thumbprint of
    /// the published members, and its private JWK parses to a signer with that kid.
    #[test]
    fn p256_jwk_round_trips(d in prop::array::uniform32(any::<u8>())) {
        let Ok(sk) = p256::ecdsa::SigningKey::from_slice(&d) else { return Ok(()) };
        let public = PublicKey::Es256(*sk.verifying_key());
        let jwk = public.to_jwk();
        prop_assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), public.clone());
        prop_assert_eq!(jwk.kid.clone().unwrap(), jwk.thumbprint().unwrap().to_string());
        prop_assert_eq!(URL_SAFE_NO_PAD.decode(jwk.x.as_deref().unwrap()).unwrap().len(), 32);
        let private = format!(r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}","d":"{}"}}"#, jwk.x.clone().unwrap(), jwk.y.clone().unwrap(), b64(&d));
        let signer = Signer::new(PrivateKey::parse(&private, Algorithm::Es256).unwrap());
        let kid = jwk.kid.unwrap();
        prop_assert_eq!(signer.kid(), kid.as_str());
    }

    #[test]
    fn ed25519_jwk_round_trips(seed in prop::array::uniform32(any::<u8>())) {
        let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = PublicKey::EdDsa(sk.verifying_key());
        let jwk = public.to_jwk();
        prop_assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), public);
        let private = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","d":"{}"}}"#, jwk.x.clone().unwrap(), b64(&seed));
        let from_jwk = Signer::new(PrivateKey::parse(&private, Algorithm::EdDsa).unwrap());
        let pem = sk.to_pkcs8_pem(LineEnding::LF).unwrap();
        let from_pem = Signer::new(PrivateKey::parse(&pem, Algorithm::EdDsa).unwrap());
        prop_assert_eq!(from_jwk.kid(), from_pem.kid());
    }

    /// Any single-byte change of a signed token fails verification.
    #[test]
    fn any_change_to_a_signed_token_is_refused(i in any::<prop::sample::Index>(), c in "[A-Za-z0-9_.-]") {
        let k = keys(&[(KEY_VAR, &p256_pem(7))]).unwrap();
        let token = signer(&k).sign(&claims()).unwrap();
        let at = i.index(token.len());
        let mut changed = token.clone();
        changed.replace_range(at..at + 1, &c);
        // Base64url's last character may carry unused bits: decoding can map two spellings to
        // the same bytes, so only a change of the decoded token counts.
        let same = changed.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).ok()).collect::<Vec<_>>()
            == token.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).ok()).collect::<Vec<_>>();
        prop_assume!(!same);
        prop_assert!(verify(&changed, &published(&k), "origin.example", 1_010).is_err());
    }

    #[test]
    fn key_parsing_never_panics(s in "\\PC{0,300}") {
        let _ = PrivateKey::parse(&s, Algorithm::Es256);
        let _ = PublicKey::parse(&s);
        let _ = PrivateKey::parse(&format!("{{\"kty\":\"EC\",\"crv\":\"P-256\",{s}}}"), Algorithm::Es256);
        let _ = PrivateKey::parse(&format!("-----BEGIN PRIVATE KEY-----\n{s}\n-----END PRIVATE KEY-----"), Algorithm::Es256);
    }
}

#[test]
fn origin_secret_is_read_only_for_hs256() {
    use crate::core::config::Config;
    let es: HashMap<&str, String> = HashMap::from([
        ("SESSION_SECRET", "s".repeat(32)),
        ("ORIGIN_SECRET", "short".into()),
        (KEY_VAR, p256_pem(3)),
    ]);
    let c = Config::from_lookup(|k| es.get(k).cloned()).unwrap();
    assert!(c.origin_secret.is_none() && c.assertion.alg == Algorithm::Es256);
    // HS256: required, with today's error text byte for byte.
    let hs: HashMap<&str, String> = HashMap::from([("SESSION_SECRET", "s".repeat(32)), (ALG_VAR, "HS256".into())]);
    let e = Config::from_lookup(|k| hs.get(k).cloned()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ORIGIN_SECRET: is not set; accepted: a random string of at least 32 bytes, set with `wrangler secret put ORIGIN_SECRET` (or in .dev.vars locally)"
    );
}
