//! `--login` / `--logout` recipes: which request logs in (or out), with which form fields.
//!
//! Inline form (one argument):
//!
//! ```text
//! --login 'POST /login user=$SCAN_USER password=$SCAN_PASSWORD'
//! --logout 'POST /logout'
//! ```
//!
//! or a JSON file, `--login @login.json`:
//!
//! ```json
//! {"method": "POST", "url": "/login", "fields": {"user": "$SCAN_USER", "password": "$SCAN_PASSWORD"}}
//! ```
//!
//! A field value `$NAME` or `${NAME}` is read from the environment variable NAME when the
//! scan runs. Credentials must come from the environment: a literal value for a field whose
//! name looks secret (pass, pwd, secret, token, otp, pin, key) is refused, so no password
//! ends up in shell history, `ps` output or CI logs. Other fields may be literal (`remember=1`).
//! Fields are sent as `application/x-www-form-urlencoded`.

use serde::Deserialize;
use std::collections::BTreeMap;

/// A recipe field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Read from this environment variable when the scan runs.
    Env(String),
    /// Given on the command line (never a secret).
    Literal(String),
}

/// A request that logs in or out (`--login` / `--logout`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// `POST` or `GET`.
    pub method: String,
    /// A path on the scanned site (`/login`) or an absolute URL.
    pub url: String,
    /// Form fields, in order.
    pub fields: Vec<(String, Value)>,
}

const SECRET_HINTS: [&str; 7] = ["pass", "pwd", "secret", "token", "otp", "pin", "key"];

fn looks_secret(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    SECRET_HINTS.iter().any(|h| f.contains(h))
}

fn value(field: &str, raw: &str) -> Result<Value, String> {
    let env = raw
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| raw.strip_prefix('$'));
    match env {
        Some(name) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => Ok(Value::Env(name.to_string())),
        Some(_) => Err(format!("field {field:?}: {raw:?} is not a valid environment variable reference ($NAME or ${{NAME}})")),
        None if looks_secret(field) => Err(format!(
            "field {field:?} looks like a credential: give it as $ENV_VAR (read from the environment), never as a literal on the command line"
        )),
        None => Ok(Value::Literal(raw.to_string())),
    }
}

fn check_method(m: &str) -> Result<String, String> {
    let m = m.to_ascii_uppercase();
    if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
        Ok(m)
    } else {
        Err(format!("unsupported method {m:?} (GET, POST, PUT, PATCH, DELETE)"))
    }
}

fn check_url(u: &str) -> Result<String, String> {
    if u.starts_with('/') || u.starts_with("http://") || u.starts_with("https://") {
        Ok(u.to_string())
    } else {
        Err(format!("{u:?} is neither a path (/login) nor an http(s) URL"))
    }
}

/// Parses the inline form `METHOD URL [field=value ...]`.
pub fn parse_inline(s: &str) -> Result<Recipe, String> {
    let mut words = s.split_whitespace();
    let method = check_method(words.next().ok_or("empty recipe: expected 'METHOD URL [field=value ...]'")?)?;
    let url = check_url(words.next().ok_or("recipe has no URL: expected 'METHOD URL [field=value ...]'")?)?;
    let mut fields = Vec::new();
    for w in words {
        let (k, v) = w.split_once('=').ok_or_else(|| format!("{w:?} is not field=value"))?;
        if k.is_empty() {
            return Err(format!("{w:?} has an empty field name"));
        }
        fields.push((k.to_string(), value(k, v)?));
    }
    Ok(Recipe { method, url, fields })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRecipe {
    #[serde(default = "post")]
    method: String,
    url: String,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

fn post() -> String {
    "POST".into()
}

/// Parses the JSON form.
pub fn parse_json(s: &str) -> Result<Recipe, String> {
    let j: JsonRecipe = serde_json::from_str(s).map_err(|e| format!("recipe JSON: {e}"))?;
    let mut fields = Vec::new();
    for (k, v) in &j.fields {
        fields.push((k.clone(), value(k, v)?));
    }
    Ok(Recipe {
        method: check_method(&j.method)?,
        url: check_url(&j.url)?,
        fields,
    })
}

impl Recipe {
    /// Field values with environment references resolved through `env`. The error names
    /// the missing variable, never a value.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<(String, String)>, String> {
        self.fields
            .iter()
            .map(|(k, v)| match v {
                Value::Literal(s) => Ok((k.clone(), s.clone())),
                Value::Env(name) => env(name)
                    .map(|val| (k.clone(), val))
                    .ok_or_else(|| format!("environment variable {name} (for field {k:?}) is not set")),
            })
            .collect()
    }

    /// The recipe as it may be printed: variables by name, never their values.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.method, self.url);
        for (k, v) in &self.fields {
            match v {
                Value::Env(n) => s.push_str(&format!(" {k}=${n}")),
                Value::Literal(l) => s.push_str(&format!(" {k}={l}")),
            }
        }
        s
    }
}

/// `application/x-www-form-urlencoded`.
pub fn form_encode(fields: &[(String, String)]) -> String {
    fn enc(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SCAN_USER" => Some("alice".into()),
            "SCAN_PASSWORD" => Some("correct horse&battery".into()),
            _ => None,
        }
    }

    #[test]
    fn inline_recipe_reads_credentials_from_the_environment() {
        let r = parse_inline("post /login user=$SCAN_USER password=${SCAN_PASSWORD} remember=1").unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.url, "/login");
        let fields = r.resolve(&env).unwrap();
        assert_eq!(form_encode(&fields), "user=alice&password=correct+horse%26battery&remember=1");
        assert_eq!(r.describe(), "POST /login user=$SCAN_USER password=$SCAN_PASSWORD remember=1");
    }

    #[test]
    fn literal_credentials_are_refused() {
        let e = parse_inline("POST /login user=alice password=hunter2").unwrap_err();
        assert!(e.contains("password") && !e.contains("hunter2"), "{e}");
        assert!(parse_inline("POST /login api_key=abc").is_err());
        assert!(parse_inline("POST /login otp=123456").is_err());
    }

    #[test]
    fn missing_variables_are_named() {
        let r = parse_inline("POST /login password=$NOPE").unwrap();
        assert_eq!(
            r.resolve(&env).unwrap_err(),
            "environment variable NOPE (for field \"password\") is not set"
        );
    }

    #[test]
    fn bad_recipes() {
        assert!(parse_inline("").is_err());
        assert!(parse_inline("POST").is_err());
        assert!(parse_inline("FETCH /login").is_err());
        assert!(parse_inline("POST login").is_err());
        assert!(parse_inline("POST /login user").is_err());
        assert!(parse_inline("POST /login =x").is_err());
        assert!(parse_inline("POST /login password=$").is_err());
        assert!(parse_inline("POST /login password=${A-B}").is_err());
    }

    #[test]
    fn json_recipe() {
        let r = parse_json(r#"{"url":"/login","fields":{"user":"$SCAN_USER","password":"$SCAN_PASSWORD"}}"#).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.resolve(&env).unwrap().len(), 2);
        assert!(parse_json(r#"{"url":"/login","fields":{"password":"hunter2"}}"#).is_err());
        assert!(parse_json(r#"{"url":"/login","extra":1}"#).is_err());
        assert!(parse_json("not json").is_err());
        let r = parse_json(r#"{"method":"DELETE","url":"https://example.com/session"}"#).unwrap();
        assert_eq!((r.method.as_str(), r.fields.len()), ("DELETE", 0));
    }

    proptest! {
        // Parsers of untrusted input (Set-Cookie headers, URLs, recipes from the command
        // line): as many cases as the core parsers, not proptest's default 256.
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn inline_never_panics(s in ".{0,200}") {
            if let Ok(r) = parse_inline(&s) {
                let _ = r.resolve(&env);
                let _ = r.describe();
            }
        }

        #[test]
        fn form_encoding_is_reversible(k in "[a-z]{1,8}", v in ".{0,40}") {
            let enc = form_encode(&[(k.clone(), v.clone())]);
            prop_assert!(enc.bytes().all(|b| b.is_ascii_graphic()));
            let (ek, ev) = enc.split_once('=').unwrap();
            prop_assert_eq!(ek, k);
            // Decode by hand: '+' is a space, %XX a byte.
            let mut bytes = Vec::new();
            let b = ev.as_bytes();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'+' => { bytes.push(b' '); i += 1; }
                    b'%' => { bytes.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap()); i += 3; }
                    c => { bytes.push(c); i += 1; }
                }
            }
            prop_assert_eq!(String::from_utf8(bytes).unwrap(), v);
        }
    }
}
