//! The assertion errors' messages, which origins log and the README quotes (found by
//! cargo-mutants: no test read them).

use sessiongate::AssertionError;

#[test]
fn assertion_errors_say_what_is_wrong() {
    let all = [
        (AssertionError::Malformed, "malformed assertion"),
        (AssertionError::Algorithm, "unexpected algorithm"),
        (AssertionError::Signature, "bad signature"),
        (AssertionError::Issuer, "wrong issuer"),
        (AssertionError::Audience, "wrong audience"),
        (AssertionError::Expired, "expired"),
        (AssertionError::NotYetValid, "issued in the future"),
        (AssertionError::Data, "X-Session-Data does not match the assertion"),
        (AssertionError::UnknownKey, "no key with this kid"),
    ];
    for (e, text) in all {
        assert_eq!(e.to_string(), text, "{e:?}");
    }
}

#[test]
fn assertion_issued_up_to_the_leeway_in_the_future_verifies() {
    use sessiongate::core::assertion::{sign, verify, Claims, LEEWAY};
    const KEY: &[u8] = b"origin-secret-origin-secret-0123";
    let claims = Claims::new("origin.example", 1_000, "GET", "https://origin.example/app");
    let token = sign(&claims, KEY);
    // The origin's clock 5 s behind the gate's: still valid; 6 s: not yet.
    assert_eq!(verify(&token, KEY, "origin.example", 1_000 - LEEWAY), Ok(claims.clone()));
    assert_eq!(
        verify(&token, KEY, "origin.example", 1_000 - LEEWAY - 1),
        Err(AssertionError::NotYetValid)
    );
}
