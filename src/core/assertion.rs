//! `X-Session-Assertion`: a compact JWT stamped on every forwarded request, signed with
//! the gate's private key (ES256 or EdDSA, see `signing`) or, for origins that predate
//! it, HS256 under `ORIGIN_SECRET`. An origin that insists on a valid one can only be
//! reached through the gate. `verify` is what a Rust origin calls, with the gate's JWKS,
//! one public JWK, or the HS256 secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::jwk::{Jwk, Jwks};
use super::signing::PublicKey;

type HmacSha256 = Hmac<Sha256>;

pub const ISSUER: &str = "sessiongate";
pub const LIFETIME: u64 = 60;
/// Clock skew an origin tolerates in `verify`.
pub const LEEWAY: u64 = 5;
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; // {"alg":"HS256","typ":"JWT"}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub htm: String,
    pub htu: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// Elevated until (unix seconds), while the session is stepped up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elev: Option<u64>,
    /// Binding changes seen on this request (`ip-changed`, `ua-changed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// SHA-256 (base64url) of the exact `X-Session-Data` header sent with this request, so
    /// the data is as authentic as the identity (see `verify_data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<String>,
    /// `true` when the session is bound to a device key (Device Bound Session
    /// Credentials) and this request proved it; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_bound: Option<bool>,
}

impl Claims {
    /// Claims for an anonymous or unauthenticated request.
    pub fn new(aud: &str, now: u64, method: &str, url: &str) -> Self {
        ClaimsRef::new(aud, now, method, url).into()
    }
}

/// The claims as the gate writes them on every forwarded request: borrowed from the
/// request and its session instead of a copy of every string (`Claims` is what `verify`
/// returns, so it owns them). Serialises to the same JSON as `Claims` with the same
/// values: a property test holds the two to it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClaimsRef<'a> {
    pub iss: &'a str,
    pub aud: &'a str,
    pub iat: u64,
    pub exp: u64,
    pub htm: &'a str,
    pub htu: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elev: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_bound: Option<bool>,
}

impl<'a> ClaimsRef<'a> {
    /// Claims for an anonymous or unauthenticated request (see `Claims::new`).
    pub fn new(aud: &'a str, now: u64, method: &'a str, url: &'a str) -> Self {
        ClaimsRef {
            iss: ISSUER,
            aud,
            iat: now,
            exp: now + LIFETIME,
            htm: method,
            htu: url,
            sub: None,
            sid: None,
            roles: None,
            auth_time: None,
            elev: None,
            bind: None,
            data_sha256: None,
            device_bound: None,
        }
    }
}

impl From<ClaimsRef<'_>> for Claims {
    fn from(c: ClaimsRef<'_>) -> Self {
        let owned = |v: Option<&str>| v.map(str::to_string);
        Claims {
            iss: c.iss.to_string(),
            aud: c.aud.to_string(),
            iat: c.iat,
            exp: c.exp,
            htm: c.htm.to_string(),
            htu: c.htu.to_string(),
            sub: owned(c.sub),
            sid: owned(c.sid),
            roles: c.roles.map(<[String]>::to_vec),
            auth_time: c.auth_time,
            elev: c.elev,
            bind: owned(c.bind),
            data_sha256: owned(c.data_sha256),
            device_bound: c.device_bound,
        }
    }
}

impl<'a> From<&'a Claims> for ClaimsRef<'a> {
    fn from(c: &'a Claims) -> Self {
        ClaimsRef {
            iss: &c.iss,
            aud: &c.aud,
            iat: c.iat,
            exp: c.exp,
            htm: &c.htm,
            htu: &c.htu,
            sub: c.sub.as_deref(),
            sid: c.sid.as_deref(),
            roles: c.roles.as_deref(),
            auth_time: c.auth_time,
            elev: c.elev,
            bind: c.bind.as_deref(),
            data_sha256: c.data_sha256.as_deref(),
            device_bound: c.device_bound,
        }
    }
}

/// The `data_sha256` claim for an `X-Session-Data` header value.
pub fn data_digest(header_value: &str) -> String {
    use sha2::Digest;
    URL_SAFE_NO_PAD.encode(Sha256::digest(header_value.as_bytes()))
}

/// After `verify`: the `X-Session-Data` header the origin received (`None` when absent)
/// is the one the assertion was issued with. Data without the claim, the claim without
/// data, or a different digest: `AssertionError::Data`.
pub fn verify_data(claims: &Claims, header_value: Option<&str>) -> Result<(), AssertionError> {
    use subtle::ConstantTimeEq;
    match (&claims.data_sha256, header_value) {
        (None, None) => Ok(()),
        (Some(want), Some(v)) if bool::from(data_digest(v).as_bytes().ct_eq(want.as_bytes())) => Ok(()),
        _ => Err(AssertionError::Data),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionError {
    Malformed,
    Algorithm,
    Signature,
    Issuer,
    Audience,
    Expired,
    NotYetValid,
    /// `X-Session-Data` does not match the `data_sha256` claim (see `verify_data`).
    Data,
    /// The header's `kid` names no key of the JWKS (the origin may refetch it once).
    UnknownKey,
}

impl std::fmt::Display for AssertionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AssertionError::Malformed => "malformed assertion",
            AssertionError::Algorithm => "unexpected algorithm",
            AssertionError::Signature => "bad signature",
            AssertionError::Issuer => "wrong issuer",
            AssertionError::Audience => "wrong audience",
            AssertionError::Expired => "expired",
            AssertionError::NotYetValid => "issued in the future",
            AssertionError::Data => "X-Session-Data does not match the assertion",
            AssertionError::UnknownKey => "no key with this kid",
        })
    }
}

impl std::error::Error for AssertionError {}

fn mac(key: &[u8], signing_input: &str) -> HmacSha256 {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
    m.update(signing_input.as_bytes());
    m
}

/// `header.payload`, the JWS signing input, with room left for an 86-character signature.
pub fn signing_input<'a>(header_b64: &str, claims: impl Into<ClaimsRef<'a>>) -> String {
    // A session's claims are about 300 bytes: room for them at once, where `to_vec` starts
    // at 128 and grows twice. Serialising strings and integers into a Vec cannot fail.
    let mut payload = Vec::with_capacity(384);
    let _ = serde_json::to_writer(&mut payload, &claims.into());
    let mut out = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 92);
    out.push_str(header_b64);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
    out
}

/// HS256 under `key` (`ASSERTION_ALG=HS256`): the header carries no `kid`, as before.
pub fn sign<'a>(claims: impl Into<ClaimsRef<'a>>, key: &[u8]) -> String {
    let mut out = signing_input(HEADER_B64, claims);
    let sig = mac(key, &out).finalize().into_bytes();
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut out);
    out
}

/// What an origin verifies assertions with. Each form admits only its own algorithms:
/// a secret only HS256, a public key only ES256 / EdDSA, so a token cannot pick its
/// verification (`alg: none`, or HS256 "signed" with a published public key).
#[derive(Debug, Clone, Copy)]
pub enum VerifyKey<'a> {
    /// The HS256 secret (`ORIGIN_SECRET`).
    Secret(&'a [u8]),
    /// The gate's JWK Set (`/.sessiongate/jwks.json`); the header's `kid` picks the key.
    Jwks(&'a Jwks),
    /// One public JWK.
    Jwk(&'a Jwk),
}

impl<'a> From<&'a [u8]> for VerifyKey<'a> {
    fn from(k: &'a [u8]) -> Self {
        VerifyKey::Secret(k)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for VerifyKey<'a> {
    fn from(k: &'a [u8; N]) -> Self {
        VerifyKey::Secret(k)
    }
}

/// `verify(token, &secret_vec, …)` kept compiling when `key` became generic.
impl<'a> From<&'a Vec<u8>> for VerifyKey<'a> {
    fn from(k: &'a Vec<u8>) -> Self {
        VerifyKey::Secret(k)
    }
}

impl<'a> From<&'a Jwks> for VerifyKey<'a> {
    fn from(k: &'a Jwks) -> Self {
        VerifyKey::Jwks(k)
    }
}

impl<'a> From<&'a Jwk> for VerifyKey<'a> {
    fn from(k: &'a Jwk) -> Self {
        VerifyKey::Jwk(k)
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// The public key `header` asks for, if `key` holds it for that very algorithm.
fn public_key(header: &Header, key: VerifyKey<'_>) -> Result<PublicKey, AssertionError> {
    let jwk = match key {
        VerifyKey::Secret(_) => return Err(AssertionError::Algorithm),
        VerifyKey::Jwks(set) => set.find(header.kid.as_deref().ok_or(AssertionError::UnknownKey)?),
        VerifyKey::Jwk(k) => Some(k).filter(|k| k.kid.is_none() || k.kid == header.kid),
    };
    let public = PublicKey::from_jwk(jwk.ok_or(AssertionError::UnknownKey)?).map_err(|_| AssertionError::UnknownKey)?;
    if public.algorithm().name() != header.alg {
        return Err(AssertionError::Algorithm);
    }
    Ok(public)
}

fn check_signature(header: &Header, signing_input: &str, sig: &[u8], key: VerifyKey<'_>) -> Result<(), AssertionError> {
    match (header.alg.as_str(), key) {
        ("HS256", VerifyKey::Secret(secret)) => mac(secret, signing_input).verify_slice(sig).map_err(|_| AssertionError::Signature),
        ("ES256" | "EdDSA", VerifyKey::Jwks(_) | VerifyKey::Jwk(_)) => {
            let public = public_key(header, key)?;
            public
                .verify(signing_input.as_bytes(), sig)
                .then_some(())
                .ok_or(AssertionError::Signature)
        }
        _ => Err(AssertionError::Algorithm),
    }
}

/// Verifies an assertion as an origin should: the algorithm the key admits (HS256 for a
/// secret; ES256 or EdDSA for a JWKS or JWK, whose key the header's `kid` names),
/// signature (constant-time for HS256), issuer, audience (the origin's own host) and
/// lifetime. `key`: `ORIGIN_SECRET`'s bytes, a `&Jwks` or a `&Jwk`.
pub fn verify<'a>(token: &str, key: impl Into<VerifyKey<'a>>, expected_aud: &str, now: u64) -> Result<Claims, AssertionError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AssertionError::Malformed);
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AssertionError::Malformed)?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| AssertionError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    check_signature(&header, signing_input, &sig, key.into())?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AssertionError::Malformed)?;
    if claims.iss != ISSUER {
        return Err(AssertionError::Issuer);
    }
    if claims.aud != expected_aud {
        return Err(AssertionError::Audience);
    }
    if now >= claims.exp.saturating_add(LEEWAY) {
        return Err(AssertionError::Expired);
    }
    if claims.iat > now.saturating_add(LEEWAY) {
        return Err(AssertionError::NotYetValid);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K: &[u8] = b"origin-secret-origin-secret-0123";

    fn claims() -> Claims {
        let mut c = Claims::new("origin.example", 1_000, "GET", "https://origin.example/app");
        c.sub = Some("alice".into());
        c.sid = Some("handle".into());
        c.roles = Some(vec!["admin".into()]);
        c.auth_time = Some(900);
        c
    }

    #[test]
    fn header_constant_is_what_it_claims() {
        assert_eq!(URL_SAFE_NO_PAD.decode(HEADER_B64).unwrap(), br#"{"alg":"HS256","typ":"JWT"}"#);
    }

    #[test]
    fn sign_then_verify() {
        let t = sign(&claims(), K);
        assert_eq!(verify(&t, K, "origin.example", 1_010), Ok(claims()));
        assert_eq!(verify(&t, K, "other.example", 1_010), Err(AssertionError::Audience));
        // Every spelling of the secret that compiled before `key` became generic still does.
        let owned: Vec<u8> = K.to_vec();
        assert_eq!(verify(&t, &owned, "origin.example", 1_010), Ok(claims()));
        assert_eq!(
            verify(&t, b"origin-secret-origin-secret-0123", "origin.example", 1_010),
            Ok(claims())
        );
        assert_eq!(
            verify(&t, b"another-key-another-key-01234567", "origin.example", 1_010),
            Err(AssertionError::Signature)
        );
        assert_eq!(
            verify(&t, K, "origin.example", 1_000 + LIFETIME + LEEWAY),
            Err(AssertionError::Expired)
        );
        assert_eq!(verify(&t, K, "origin.example", 900), Err(AssertionError::NotYetValid));
    }

    #[test]
    fn session_data_is_bound_by_its_digest() {
        let data = r#"{"cart":3,"theme":"dark"}"#;
        let mut c = claims();
        c.data_sha256 = Some(data_digest(data));
        let t = sign(&c, K);
        let got = verify(&t, K, "origin.example", 1_010).unwrap();
        assert_eq!(verify_data(&got, Some(data)), Ok(()));
        assert_eq!(verify_data(&got, Some(r#"{"cart":3,"theme":"light"}"#)), Err(AssertionError::Data));
        assert_eq!(verify_data(&got, None), Err(AssertionError::Data), "data stripped");
        let plain = verify(&sign(&claims(), K), K, "origin.example", 1_010).unwrap();
        assert_eq!(verify_data(&plain, None), Ok(()));
        assert_eq!(verify_data(&plain, Some(data)), Err(AssertionError::Data), "data added");
        // The digest is SHA-256 of the header's bytes, base64url without padding.
        assert_eq!(data_digest(""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    }

    proptest! {
        #[test]
        fn any_change_to_the_data_is_caught(a in ".{0,64}", b in ".{0,64}") {
            let mut c = claims();
            c.data_sha256 = Some(data_digest(&a));
            prop_assert_eq!(verify_data(&c, Some(&b)).is_ok(), a == b);
        }
    }

    #[test]
    fn alg_none_and_tampering_are_refused() {
        let t = sign(&claims(), K);
        let parts: Vec<&str> = t.split('.').collect();
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), parts[1]);
        assert_eq!(verify(&none, K, "origin.example", 1_010), Err(AssertionError::Algorithm));
        let mut c = claims();
        c.sub = Some("mallory".into());
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(verify(&forged, K, "origin.example", 1_010), Err(AssertionError::Signature));
    }

    #[test]
    fn optional_claims_are_omitted() {
        let t = sign(&Claims::new("a", 1, "GET", "u"), K);
        let payload = URL_SAFE_NO_PAD.decode(t.split('.').nth(1).unwrap()).unwrap();
        let s = String::from_utf8(payload).unwrap();
        assert!(!s.contains("sub") && !s.contains("elev") && !s.contains("bind"));
    }

    fn opt<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
        proptest::option::of(s)
    }

    prop_compose! {
        fn any_claims()(
            (aud, iat, htm, htu) in ("\\PC{0,20}", any::<u32>(), "[A-Z]{0,7}", "\\PC{0,40}"),
            (sub, sid, roles) in (opt("\\PC{0,20}"), opt("[A-Za-z0-9_-]{0,22}"), opt(proptest::collection::vec("\\PC{0,10}", 0..4))),
            (auth_time, elev, bind) in (opt(any::<u64>()), opt(any::<u64>()), opt("[a-z-]{0,20}")),
            (data_sha256, device_bound) in (opt("[A-Za-z0-9_-]{43}"), opt(any::<bool>())),
        ) -> Claims {
            let mut c = Claims::new(&aud, u64::from(iat), &htm, &htu);
            (c.sub, c.sid, c.roles, c.auth_time, c.elev, c.bind, c.data_sha256, c.device_bound) =
                (sub, sid, roles, auth_time, elev, bind, data_sha256, device_bound);
            c
        }
    }

    proptest! {
        /// The gate signs `ClaimsRef`s and origins read `Claims`: the two must write the
        /// same JSON, and what the gate signs must verify as the claims it meant.
        #[test]
        fn borrowed_claims_write_what_claims_write(c in any_claims()) {
            let borrowed = ClaimsRef::from(&c);
            prop_assert_eq!(&Claims::from(borrowed), &c);
            prop_assert_eq!(serde_json::to_string(&borrowed).unwrap(), serde_json::to_string(&c).unwrap());
            prop_assert_eq!(sign(borrowed, K), sign(&c, K));
            let aud = c.aud.clone();
            prop_assert_eq!(verify(&sign(borrowed, K), K, &aud, c.iat), Ok(c));
        }
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn verify_never_panics(s in "\\PC{0,200}") { let _ = verify(&s, K, "a", 0); }
    }
}
