//! The methods a request may be run as. Rails, Laravel, Symfony and Express's
//! `method-override` run a `POST` as whatever an override header or a `_method`
//! parameter says, so a method-scoped pattern (`DELETE /account`) is matched against
//! every method the request carries, and the strictest verdict wins.

/// Override headers the common frameworks honour (lowercase, as the runtime names them).
pub const OVERRIDE_HEADERS: [&str; 3] = ["x-http-method-override", "x-http-method", "x-method-override"];

/// The form parameter Rails, Laravel, Symfony and `method-override` read.
pub const OVERRIDE_PARAM: &str = "_method";

/// How much of an `application/x-www-form-urlencoded` body the gate reads to find a
/// `_method`; a larger body on a path where it matters is refused (413).
pub const FORM_READ_MAX: usize = 64 * 1024;

/// The request's method as sent, followed by every method it claims through overrides
/// (upper-cased), without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Methods(Vec<String>);

impl Methods {
    pub fn new(method: &str) -> Self {
        Methods(vec![method.to_string()])
    }

    /// The method as sent (what the origin's server sees before any override).
    pub fn sent(&self) -> &str {
        &self.0[0]
    }

    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Adds every method token of an override value. A joined header (`DELETE, PUT`, as
    /// the runtime joins repeated headers) adds each; frameworks differ on which they take.
    pub fn add_override(&mut self, value: &str) {
        for token in value.split(|c: char| c == ',' || c.is_ascii_whitespace()) {
            let m = token.to_ascii_uppercase();
            if !m.is_empty() && !self.0.iter().any(|x| x.eq_ignore_ascii_case(&m)) {
                self.0.push(m);
            }
        }
    }

    /// Adds every `_method` of a query string (without `?`) or a form body.
    pub fn add_params(&mut self, form: &str) {
        for value in param_values(form, OVERRIDE_PARAM) {
            self.add_override(&value);
        }
    }
}

/// The two body types frameworks read `_method` from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    UrlEncoded,
    Multipart,
}

/// The form kind of a `Content-Type`, if it is one.
pub fn form_kind(content_type: &str) -> Option<FormKind> {
    let media = content_type.split(';').next()?.trim();
    if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(FormKind::UrlEncoded)
    } else if media.eq_ignore_ascii_case("multipart/form-data") {
        Some(FormKind::Multipart)
    } else {
        None
    }
}

/// Adds the `_method`s of a form body of the given kind.
pub fn add_body_overrides(methods: &mut Methods, kind: FormKind, body: &str) {
    match kind {
        FormKind::UrlEncoded => methods.add_params(body),
        FormKind::Multipart => {
            for v in multipart_values(body, OVERRIDE_PARAM) {
                methods.add_override(&v);
            }
        }
    }
}

/// The values of every multipart part named `name`. Read without the boundary, on
/// purpose: any `Content-Disposition` naming the field counts, so a body a server
/// would parse differently from this reading still cannot hide an override.
pub fn multipart_values(body: &str, name: &str) -> Vec<String> {
    let lower = body.to_ascii_lowercase();
    let needles = [format!("name=\"{name}\""), format!("name={name}")];
    let mut out = Vec::new();
    for needle in &needles {
        let mut from = 0;
        while let Some(at) = lower[from..].find(needle.as_str()).map(|i| i + from) {
            from = at + needle.len();
            let Some(start) = body[from..].find("\r\n\r\n").map(|i| from + i + 4) else {
                break;
            };
            let end = body[start..].find("\r\n").map_or(body.len(), |i| start + i);
            out.push(body[start..end].to_string());
        }
    }
    out
}

/// The decoded values of every `name=` parameter of `a=1&b=2` data (`+` is a space;
/// a malformed escape is kept as written, as lenient servers do).
pub fn param_values(form: &str, name: &str) -> Vec<String> {
    form.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k) == name).then(|| form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn methods(sent: &str, overrides: &[&str], query: &str) -> Vec<String> {
        let mut m = Methods::new(sent);
        for o in overrides {
            m.add_override(o);
        }
        m.add_params(query);
        m.all().map(str::to_string).collect()
    }

    #[test]
    fn overrides_add_methods_in_any_case() {
        assert_eq!(methods("post", &["delete", "POST"], ""), ["post", "DELETE"]);
        assert_eq!(methods("POST", &["DELETE, PUT"], ""), ["POST", "DELETE", "PUT"]);
        assert_eq!(methods("POST", &[], "a=1&_method=delete"), ["POST", "DELETE"]);
        assert_eq!(methods("POST", &[], "_method=%44ELETE"), ["POST", "DELETE"]);
        assert_eq!(methods("POST", &[], "%5Fmethod=patch"), ["POST", "PATCH"]);
        assert_eq!(methods("POST", &[], "_method=+put+"), ["POST", "PUT"]);
        assert_eq!(methods("POST", &["POST"], "_methodx=DELETE&x_method=PUT"), ["POST"]);
        assert_eq!(Methods::new("PaTcH").sent(), "PaTcH", "forwarded as sent");
    }

    #[test]
    fn form_content_types() {
        assert_eq!(form_kind("application/x-www-form-urlencoded"), Some(FormKind::UrlEncoded));
        assert_eq!(
            form_kind("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
            Some(FormKind::UrlEncoded)
        );
        assert_eq!(form_kind("multipart/form-data; boundary=x"), Some(FormKind::Multipart));
        assert_eq!(form_kind("application/json"), None);
        assert_eq!(form_kind(""), None);
    }

    #[test]
    fn multipart_overrides() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; NAME=\"_method\"\r\n\r\ndelete\r\n--b--\r\n";
        let mut m = Methods::new("POST");
        add_body_overrides(&mut m, FormKind::Multipart, body);
        assert_eq!(m.all().collect::<Vec<_>>(), ["POST", "DELETE"]);
        assert_eq!(multipart_values("name=_method\r\n\r\nPUT", "_method"), ["PUT"]);
        assert!(multipart_values("name=\"_method\"", "_method").is_empty());
        assert!(multipart_values("name=\"_methodx\"\r\n\r\nPUT", "_method").is_empty());
    }

    #[test]
    fn param_values_decode() {
        assert_eq!(param_values("a=1&a=%2&a=x%41+y&b=2", "a"), ["1", "%2", "xA y"]);
        assert_eq!(param_values("a", "a"), [""]);
        assert!(param_values("", "a").is_empty());
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        /// Every case reaches the parameter parser; about half carry a `_method`
        /// (plain or encoded) that must be found whatever surrounds it.
        #[test]
        fn a_method_param_is_always_found(
            before in "[a-z_%0-9=&+\\r\\n\\x00]{0,20}",
            key in prop::sample::select(vec!["_method", "%5Fmethod", "%5fmethod", "_%6Dethod"]),
            m in "[A-Za-z]{1,8}",
            after in "[a-z_%0-9=+\\r\\n\\x00]{0,20}",
        ) {
            let form = format!("{before}&{key}={m}&{after}");
            let mut ms = Methods::new("POST");
            ms.add_params(&form);
            prop_assert!(ms.all().any(|x| x == m.to_ascii_uppercase()), "{form:?}");
        }

        #[test]
        fn arbitrary_overrides_never_panic(v in "(?s).{0,60}", q in "(?s).{0,60}") {
            let mut ms = Methods::new("POST");
            ms.add_override(&v);
            ms.add_params(&q);
            prop_assert_eq!(ms.sent(), "POST");
            prop_assert!(ms.all().all(|m| !m.is_empty() && !m.contains(',')));
        }
    }
}
