//! Method overrides read from bodies: the read bound and multipart bodies as browsers and
//! HTTP libraries write them, with headers between the field's name and its value and
//! more than one `_method` part (found by cargo-mutants: every multipart test had the
//! value right after the name and a single part, so offsets off by the header's length
//! or the second search's start went unseen).

use sessiongate::core::method::body::{add_body_overrides, mentions};
use sessiongate::core::method::{Methods, BODY_READ_MAX};

#[test]
fn method_body_read_bound_is_64_kib() {
    assert_eq!(BODY_READ_MAX, 65_536);
}

const TWO_PARTS: &str = "--b\r\n\
Content-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"_method\"\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nDELETE\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"_method\"\r\n\r\nPUT\r\n\
--b\r\n\
Content-Disposition: form-data; name=_method\r\n\
X-Extra: 1\r\n\r\nPATCH\r\n\
--b--\r\n";

#[test]
fn method_overrides_of_a_multipart_body_all_count() {
    let mut m = Methods::new("POST");
    add_body_overrides(&mut m, TWO_PARTS);
    assert_eq!(m.all().collect::<Vec<_>>(), ["POST", "DELETE", "PUT", "PATCH"]);
    assert_eq!(m.sent(), "POST");
    assert!(!m.claims_any(), "every _method was read");
    assert_eq!(mentions(TWO_PARTS), 3);
}

#[test]
fn method_the_last_part_runs_to_the_end_without_a_crlf() {
    let mut m = Methods::new("POST");
    add_body_overrides(&mut m, "x\r\nContent-Disposition: form-data; name=\"_method\"\r\nA: b\r\n\r\nPUT");
    assert_eq!(m.all().collect::<Vec<_>>(), ["POST", "PUT"]);
}

#[test]
fn method_untyped_and_listed_bodies_read_the_same() {
    // What the review sent with no Content-Type, or `application/x-www-form-urlencoded,
    // text/plain`: the gate reads the body the same whatever the type says.
    let mut m = Methods::new("POST");
    add_body_overrides(&mut m, "_method=DELETE");
    assert_eq!(m.all().collect::<Vec<_>>(), ["POST", "DELETE"]);
}
