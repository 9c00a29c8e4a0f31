//! The methods a request may be run as. Rails, Laravel, Symfony and Express's
//! `method-override` run a `POST` as whatever an override header or a `_method`
//! parameter says, so a method-scoped pattern (`DELETE /account`) is matched against
//! every method the request carries, and the strictest verdict wins. `body` reads the
//! `_method` of a request body.

pub mod body;

/// Override headers the common frameworks honour (lowercase, as the runtime names them).
pub const OVERRIDE_HEADERS: [&str; 3] = ["x-http-method-override", "x-http-method", "x-method-override"];

/// The form parameter Rails, Laravel, Symfony and `method-override` read.
pub const OVERRIDE_PARAM: &str = "_method";

/// How much of a body the gate reads to find a `_method`; a longer body on a path where
/// it matters is refused (413).
pub const BODY_READ_MAX: usize = 64 * 1024;

/// More distinct methods than this in one request claim every method: no request names
/// that many in earnest, and each one costs a comparison per pattern and reading.
pub const METHODS_MAX: usize = 32;

/// Whether a `_method` in the body can change how a request sent as `method` is run:
/// `Rack::MethodOverride` (Rails), Laravel, Symfony and `method-override` (by default)
/// override a `POST` only.
pub fn body_may_override(method: &str) -> bool {
    method.eq_ignore_ascii_case("POST")
}

/// The request's method as sent, followed by every method it claims through overrides
/// (upper-cased), without repeats; or, when it names an override the gate could not
/// read, every method (`claims_any`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Methods {
    list: Vec<String>,
    any: bool,
}

impl Methods {
    pub fn new(method: &str) -> Self {
        Methods {
            list: vec![method.to_string()],
            any: false,
        }
    }

    /// The method as sent (what the origin's server sees before any override).
    pub fn sent(&self) -> &str {
        &self.list[0]
    }

    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(String::as_str)
    }

    /// Whether the request may be run as any method: every method-scoped pattern of its
    /// path applies (see `policy::classify_strictest`).
    pub fn claims_any(&self) -> bool {
        self.any
    }

    /// Records an override whose value could not be read: it may name any method.
    pub fn claim_any(&mut self) {
        self.any = true;
    }

    /// Adds every method token of an override value. A joined header (`DELETE, PUT`, as
    /// the runtime joins repeated headers) adds each; frameworks differ on which they
    /// take. Upper-cased as the frameworks do (`ascii_upper`).
    pub fn add_override(&mut self, value: &str) {
        for token in value.split(|c: char| c == ',' || c.is_ascii_whitespace() || c.is_control()) {
            if !token.is_empty() {
                self.push(ascii_upper(token));
            }
        }
    }

    fn push(&mut self, m: String) {
        if self.any || self.list.iter().any(|x| x.eq_ignore_ascii_case(&m)) {
            return;
        }
        if self.list.len() > METHODS_MAX {
            self.any = true;
        } else {
            self.list.push(m);
        }
    }

    /// Adds every `_method` of a query string (without `?`) or a URL-encoded body;
    /// returns how many `_method` names it held.
    pub fn add_params(&mut self, data: &str) -> usize {
        let values = param_values(data);
        for v in &values {
            self.add_override(v);
        }
        values.len()
    }
}

/// A method token upper-cased the way it could reach an ASCII method name: Rack
/// upper-cases with Unicode rules (`poſt` is `POST`, `lınk` is `LINK`, the ligature `ﬅ`
/// is `ST`), `method-override` lower-cases first (the Kelvin sign `K` is `k`). Only the
/// characters whose case mapping is ASCII are mapped; the rest cannot match a pattern's
/// method (ASCII letters) either way, and Unicode's full case tables would add
/// kilobytes to the Wasm for these few.
pub fn ascii_upper(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for c in token.chars() {
        match c {
            'a'..='z' => out.push(c.to_ascii_uppercase()),
            '\u{17f}' => out.push('S'),
            '\u{131}' => out.push('I'),
            '\u{212a}' => out.push('K'),
            '\u{fb00}' => out.push_str("FF"),
            '\u{fb01}' => out.push_str("FI"),
            '\u{fb02}' => out.push_str("FL"),
            '\u{fb03}' => out.push_str("FFI"),
            '\u{fb04}' => out.push_str("FFL"),
            '\u{fb05}' | '\u{fb06}' => out.push_str("ST"),
            c => out.push(c),
        }
    }
    out
}

/// Whether a decoded parameter name is `_method` as some framework reads it: in any
/// ASCII case, spaces around it ignored (Rack's separator takes the spaces after `&`),
/// and with brackets as Rack's and `qs`'s nested names have them (`[_method]`,
/// `_method[]`, `_method[0]` all name it).
pub fn is_override_name(name: &str) -> bool {
    let name = name.trim().trim_start_matches(['[', ']']);
    let base = name.split(['[', ']']).next().unwrap_or_default();
    base.trim().eq_ignore_ascii_case(OVERRIDE_PARAM)
}

/// The decoded values of every `_method` parameter of `a=1&b=2` data. `;` separates
/// pairs too (Rack's query parser); `+` is a space; a malformed escape is kept as
/// written, as lenient servers do.
pub fn param_values(data: &str) -> Vec<String> {
    data.split(['&', ';'])
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            is_override_name(&form_decode(k)).then(|| form_decode(v))
        })
        .collect()
}

pub(crate) fn form_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode(s.as_bytes(), true)).into_owned()
}

/// `%XX` decoded once (a malformed escape kept); `+` as a space when `plus` is set.
pub(crate) fn percent_decode(b: &[u8], plus: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', _, _) if plus => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
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
    fn override_values_as_rack_and_express_upcase_them() {
        // Rack: `"poſt".upcase` is "POST", `"lınk".upcase` is "LINK"; a trailing NUL
        // (which Rack strips from a body) or a control character does not hide a method.
        assert!(methods("POST", &["po\u{17f}t"], "").iter().any(|m| m == "POST"));
        assert!(methods("POST", &["l\u{131}nk"], "").iter().any(|m| m == "LINK"));
        assert!(methods("POST", &["DELETE\0"], "").iter().any(|m| m == "DELETE"));
        assert!(methods("POST", &["\tdelete\r\n"], "").iter().any(|m| m == "DELETE"));
        // method-override: "LOC\u{212a}".toLowerCase() is "lock".
        assert!(methods("POST", &["LOC\u{212a}"], "").iter().any(|m| m == "LOCK"));
        assert!(methods("POST", &["po\u{fb06}"], "").iter().any(|m| m == "POST"));
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        /// Where Unicode's upper case of a token (or of its lower case) is ASCII,
        /// `ascii_upper` gives the same.
        #[test]
        fn ascii_upper_agrees_with_unicode_where_it_is_ascii(t in "[a-zA-Z\u{17f}\u{131}\u{212a}\u{fb00}-\u{fb06}\u{e9}\u{130}]{0,8}") {
            let unicode = t.to_uppercase();
            if unicode.is_ascii() {
                prop_assert_eq!(ascii_upper(&t), unicode);
            }
            let lowered = t.to_lowercase().to_uppercase();
            if lowered.is_ascii() {
                prop_assert_eq!(ascii_upper(&t), lowered);
            }
        }
    }

    #[test]
    fn override_names_as_rack_and_qs_read_them() {
        for name in [
            "_method",
            "_METHOD",
            " _method",
            "[_method]",
            "_method[]",
            "_method[0]",
            "]]_method",
            "_method]",
        ] {
            assert!(is_override_name(name), "{name:?}");
        }
        for name in ["_methods", "x_method", "method", "_meth[od]", ""] {
            assert!(!is_override_name(name), "{name:?}");
        }
        assert_eq!(methods("POST", &[], "a=1;_method=delete"), ["POST", "DELETE"]);
        assert_eq!(methods("POST", &[], "a=1&  _method=delete"), ["POST", "DELETE"]);
        assert_eq!(methods("POST", &[], "_method%5B%5D=put"), ["POST", "PUT"]);
        assert_eq!(methods("POST", &[], "_method=patch&_method=delete"), ["POST", "PATCH", "DELETE"]);
    }

    #[test]
    fn too_many_methods_claim_every_method() {
        let mut m = Methods::new("POST");
        m.add_override(&(0..METHODS_MAX).map(|i| format!("M{i}")).collect::<Vec<_>>().join(","));
        assert!(!m.claims_any());
        m.add_override("ONE,MORE");
        assert!(m.claims_any());
        assert!(m.all().count() <= METHODS_MAX + 1);
    }

    #[test]
    fn param_values_decode() {
        assert_eq!(param_values("_method=1&_method=%2&_method=x%41+y&b=2"), ["1", "%2", "xA y"]);
        assert_eq!(param_values("_method"), [""]);
        assert!(param_values("").is_empty());
    }

    #[test]
    fn body_overrides_are_read_from_posts_only() {
        assert!(body_may_override("POST") && body_may_override("post"));
        assert!(!body_may_override("PUT") && !body_may_override("GET"));
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        /// Every case reaches the parameter parser; about half carry a `_method`
        /// (plain or encoded) that must be found whatever surrounds it.
        #[test]
        fn a_method_param_is_always_found(
            before in "[a-z_%0-9=&;+\\r\\n\\x00]{0,20}",
            key in prop::sample::select(vec!["_method", "%5Fmethod", "%5fmethod", "_%6Dethod", "[_method]", "_method[]", "_METHOD"]),
            sep in prop::sample::select(vec!["&", ";", "& ", "&  "]),
            m in "[A-Za-z]{1,8}",
            after in "[a-z_%0-9=+\\r\\n\\x00]{0,20}",
        ) {
            let form = format!("{before}{sep}{key}={m}&{after}");
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
