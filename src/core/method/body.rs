//! `_method` in a request body, read every way a framework might read it, whatever the
//! `Content-Type` claims: Rack reads a `POST` with no media type as a form and cuts the
//! type at `;` or `,`, `method-override` takes whatever a body parser made of it, so the
//! declared type is no guide and every reading is tried.

use super::{is_override_name, percent_decode, Methods, OVERRIDE_PARAM};
use serde_json::Value;

/// Adds every `_method` the body carries: as URL-encoded pairs, as multipart parts and as
/// a field of a JSON object. A body that names `_method` more often than these readings
/// found a value for it claims every method (`Methods::claim_any`): a name the gate
/// cannot read is not taken for harmless.
pub fn add_body_overrides(methods: &mut Methods, body: &str) {
    let found = methods.add_params(body) + add_multipart(methods, body) + add_json(methods, body);
    if mentions(body) > found {
        methods.claim_any();
    }
}

/// How often `_method` occurs in any ASCII case, after one percent-decoding and with
/// backslashes removed (the escapes of a quoted multipart name).
pub fn mentions(body: &str) -> usize {
    let text: Vec<u8> = percent_decode(body.as_bytes(), false)
        .into_iter()
        .filter(|b| *b != b'\\')
        .map(|b| b.to_ascii_lowercase())
        .collect();
    text.windows(OVERRIDE_PARAM.len())
        .filter(|w| *w == OVERRIDE_PARAM.as_bytes())
        .count()
}

/// The `_method` parts of a multipart body, read without the boundary, on purpose: any
/// `name=` (quoted with escapes, a token, or RFC 5987 `name*=`) and any `Content-ID`
/// (Rack names a part by it) counts, so a body a server would split differently from
/// this reading still cannot hide an override. Returns how many values were found.
fn add_multipart(methods: &mut Methods, body: &str) -> usize {
    let lower = body.to_ascii_lowercase();
    let mut found = 0;
    for (at, _) in lower.match_indices("name") {
        let rest = &body[at + 4..];
        let (extended, rest) = match rest.strip_prefix('*') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let Some(rest) = rest.trim_start_matches([' ', '\t']).strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start_matches([' ', '\t']);
        let name = if extended { extended_value(rest) } else { param_value(rest) };
        found += add_part(methods, &name, rest);
    }
    for (at, _) in lower.match_indices("content-id:") {
        let rest = &body[at + "content-id:".len()..];
        let name = rest.split(['\r', '\n']).next().unwrap_or_default();
        found += add_part(methods, name, rest);
    }
    found
}

/// 1 when `name` is `_method` and a part value follows `rest` (after the head's blank
/// line, up to the line's end), which is added; else 0.
fn add_part(methods: &mut Methods, name: &str, rest: &str) -> usize {
    if !is_override_name(name) {
        return 0;
    }
    let Some(start) = rest.find("\r\n\r\n").map(|i| i + 4) else {
        return 0;
    };
    let value = rest[start..].split("\r\n").next().unwrap_or_default();
    methods.add_override(value);
    1
}

/// A parameter's value: a quoted string with `\x` escapes undone, or a token.
fn param_value(s: &str) -> String {
    if let Some(q) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = q.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        return out;
    }
    s.split(|c: char| c == ';' || c == ',' || c == '"' || c.is_whitespace())
        .next()
        .unwrap_or_default()
        .to_string()
}

/// An RFC 5987 value (`utf-8''%5Fmethod`): percent-decoded after the second `'`.
fn extended_value(s: &str) -> String {
    let token = param_value(s);
    let encoded = token.splitn(3, '\'').nth(2).unwrap_or(&token);
    String::from_utf8_lossy(&percent_decode(encoded.as_bytes(), false)).into_owned()
}

/// The top-level `_method` of a JSON object (`express.json()` and a getter reading
/// `req.body._method`): a string, or the strings of an array. Returns how many names.
fn add_json(methods: &mut Methods, body: &str) -> usize {
    if !body.trim_start().starts_with('{') {
        return 0;
    }
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(body) else {
        return 0;
    };
    let mut found = 0;
    for (_, v) in obj.iter().filter(|(k, _)| is_override_name(k)) {
        found += 1;
        match v {
            Value::String(s) => methods.add_override(s),
            Value::Array(items) => items.iter().filter_map(Value::as_str).for_each(|s| methods.add_override(s)),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(body: &str) -> (Vec<String>, bool) {
        let mut m = Methods::new("POST");
        add_body_overrides(&mut m, body);
        (m.all().map(str::to_string).collect(), m.claims_any())
    }

    fn claims(body: &str, method: &str) -> bool {
        let (all, any) = read(body);
        any || all.iter().any(|m| m == method)
    }

    #[test]
    fn url_encoded_bodies_whatever_the_type() {
        assert_eq!(read("a=1&_method=DELETE"), (vec!["POST".into(), "DELETE".into()], false));
        assert_eq!(read("_method=delete\0").0, ["POST", "DELETE"], "Rack strips a final NUL");
        assert!(claims("a=1;%5Fmethod=delete", "DELETE"));
        assert!(claims("[_method]=delete", "DELETE"));
        assert!(claims("_method=patch&_method=delete", "DELETE"), "Rack keeps the last");
        assert_eq!(read("title=hello").0, ["POST"]);
        assert!(!read("title=hello").1);
    }

    #[test]
    fn multipart_bodies() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; NAME=\"_method\"\r\n\r\ndelete\r\n--b--\r\n";
        assert_eq!(read(body), (vec!["POST".into(), "DELETE".into()], false));
        let escaped = "--b\r\nContent-Disposition: form-data; name=\"_m\\ethod\"\r\n\r\nDELETE\r\n--b--";
        assert!(claims(escaped, "DELETE"));
        let token = "--b\r\ncontent-disposition: form-data; name=_method\r\nX-A: 1\r\n\r\nDELETE\r\n--b--";
        assert!(claims(token, "DELETE"));
        let ext = "--b\r\nContent-Disposition: form-data; name*=utf-8''%5Fmethod\r\n\r\nDELETE\r\n--b--";
        assert!(claims(ext, "DELETE"));
        let content_id = "--b\r\nContent-ID: _method\r\n\r\nDELETE\r\n--b--";
        assert!(claims(content_id, "DELETE"));
        let spread = "--b\r\nContent-Disposition: form-data;\r\n name=\"_method\"\r\n\r\nDELETE\r\n--b--";
        assert!(claims(spread, "DELETE"));
    }

    #[test]
    fn json_bodies() {
        assert!(claims(r#"{"_method":"delete"}"#, "DELETE"));
        assert!(claims(r#"{"_method":["delete"]}"#, "DELETE"));
        assert!(claims(r#"{"\u005fmethod":"delete"}"#, "DELETE"));
        assert!(
            claims(r#"{"_method":"patch","_method":"delete"}"#, "DELETE"),
            "a repeat: read as any"
        );
        assert_eq!(read(r#"{"title":"x"}"#).0, ["POST"]);
    }

    #[test]
    fn an_unreadable_method_claims_every_method() {
        assert!(read("--b\r\nContent-Disposition: form-data; name=\"_method\"\n\nDELETE").1);
        assert!(read("{\"_method\": broken").1);
        assert!(read("note=see+the+_method+field").1, "mentioned, not read: any");
        assert!(!read("_method=PATCH").1);
        assert_eq!(mentions("%5Fmethod and _METHOD and _m\\ethod"), 3);
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        /// A `_method=DELETE` spelled any way, in any of the three shapes, amid any bytes,
        /// is always either read or makes the request claim every method.
        #[test]
        fn a_body_method_is_never_missed(
            before in "(?s).{0,30}",
            key in prop::sample::select(vec!["_method", "%5Fmethod", "_METHOD", "[_method]", "_method[]"]),
            value in prop::sample::select(vec!["DELETE", "delete", " Delete ", "DELETE\u{0}"]),
            shape in 0..3u8,
            after in "(?s).{0,30}",
        ) {
            let body = match shape {
                0 => format!("{before}&{key}={value}&{after}"),
                1 => format!("{before}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{value}\r\n{after}"),
                _ => format!("{{\"{key}\":\"{}\"}}", value.replace('\0', "\\u0000")),
            };
            prop_assert!(claims(&body, "DELETE"), "{body:?}");
        }

        #[test]
        fn arbitrary_bodies_never_panic(body in "(?s).{0,200}") {
            let mut m = Methods::new("POST");
            add_body_overrides(&mut m, &body);
            prop_assert_eq!(m.sent(), "POST");
        }
    }
}
