//! The JWK errors' messages, which the gate's key configuration errors quote (found by
//! cargo-mutants: no test read them).

use sessiongate::core::jwk::JwkError;

#[test]
fn jwk_errors_say_what_is_wrong() {
    assert_eq!(JwkError::Malformed.to_string(), "not a JSON Web Key");
    assert_eq!(JwkError::UnknownKeyType.to_string(), "unknown kty");
    assert_eq!(JwkError::MissingMember("crv").to_string(), "the required member \"crv\" is missing");
}
