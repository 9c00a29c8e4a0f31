//! What a bad duration is told (found by cargo-mutants: the tests checked that bad
//! values were refused, not why, so "1.5h" refused as "too large" passed).

use sessiongate::core::duration::{format_duration, parse_duration};

#[test]
fn duration_refusals_say_why() {
    for (bad, why) in [
        ("", "is empty"),
        ("  ", "is empty"),
        ("m", "\"m\" is not a duration"),
        ("1.5h", "\"1.5h\" is not a duration"),
        ("-5m", "\"-5m\" is not a duration"),
        ("5 m", "\"5 m\" is not a duration"),
        ("5x", "\"5x\" has an unknown unit 'x'"),
        ("99999999999999999999", "\"99999999999999999999\" is too large"),
        ("3651d", "\"3651d\" is too large (at most 10 years)"),
    ] {
        assert_eq!(parse_duration(bad), Err(why.to_string()), "{bad:?}");
    }
}

#[test]
fn duration_bound_is_ten_years_exactly() {
    assert_eq!(parse_duration("3650d"), Ok(315_360_000));
    assert_eq!(parse_duration("315360000"), Ok(315_360_000));
    assert!(parse_duration("315360001").is_err());
    assert_eq!(format_duration(315_360_000), "3650d");
    assert_eq!(format_duration(0), "0s");
    assert_eq!(format_duration(61), "61s");
    assert_eq!(format_duration(120), "2m");
    assert_eq!(format_duration(7_200), "2h");
}
