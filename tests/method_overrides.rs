//! Method overrides read from bodies: the read bound and multipart bodies as browsers and
//! HTTP libraries write them, with headers between the field's name and its value and
//! more than one `_method` part (found by cargo-mutants: every multipart test had the
//! value right after the name and a single part, so offsets off by the header's length
//! or the second search's start went unseen).

use sessiongate::core::method::{add_body_overrides, multipart_values, FormKind, Methods, FORM_READ_MAX};

#[test]
fn method_form_read_bound_is_64_kib() {
    assert_eq!(FORM_READ_MAX, 65_536);
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
fn method_multipart_values_reads_every_part_however_far_its_value_is() {
    assert_eq!(multipart_values(TWO_PARTS, "_method"), ["DELETE", "PUT", "PATCH"]);
    assert_eq!(multipart_values(TWO_PARTS, "title"), ["hello"]);
    // The last part's value runs to the end when no CRLF follows it.
    let tail = "x\r\nContent-Disposition: form-data; name=\"_method\"\r\nA: b\r\n\r\nPUT";
    assert_eq!(multipart_values(tail, "_method"), ["PUT"]);
}

#[test]
fn method_overrides_of_a_multipart_body_all_count() {
    let mut m = Methods::new("POST");
    add_body_overrides(&mut m, FormKind::Multipart, TWO_PARTS);
    assert_eq!(m.all().collect::<Vec<_>>(), ["POST", "DELETE", "PUT", "PATCH"]);
    assert_eq!(m.sent(), "POST");
}
