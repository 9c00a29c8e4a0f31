//! The path parser's refusals: each error's message, and the length bound at exactly
//! the bound and one past it (found by cargo-mutants: no test sat at 4096 bytes, and no
//! test read the messages the gate puts in its 400 answers).

use sessiongate::core::path::{normalize, normalize_decoding_separators, readings, PathError};

#[test]
fn path_errors_say_what_is_wrong() {
    assert_eq!(PathError::NotAbsolute.to_string(), "path must start with /");
    assert_eq!(PathError::BadPercentEncoding.to_string(), "path has a malformed percent-encoding");
    assert_eq!(PathError::TooLong.to_string(), "path is longer than 4096 bytes");
}

#[test]
fn a_path_of_4096_bytes_is_accepted_and_4097_is_not() {
    let at = format!("/{}", "a".repeat(4095));
    assert_eq!(at.len(), 4096);
    assert_eq!(normalize(&at), Ok(at.clone()));
    assert_eq!(normalize_decoding_separators(&at), Ok(at.clone()));
    assert!(readings(&at).is_ok());
    let over = format!("{at}b");
    assert_eq!(normalize(&over), Err(PathError::TooLong));
    assert_eq!(normalize_decoding_separators(&over), Err(PathError::TooLong));
    assert_eq!(readings(&over), Err(PathError::TooLong));
    // The bound is on the raw bytes, before decoding shortens them.
    let encoded = format!("/{}", "%41".repeat(1366));
    assert!(encoded.len() > 4096);
    assert_eq!(normalize(&encoded), Err(PathError::TooLong));
}
