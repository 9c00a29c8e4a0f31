//! `X-Session-Command`: what the origin tells the gate after it authenticated someone,
//! changed their privileges or logged them out. Parsed and validated completely before
//! anything is applied, so a malformed command changes nothing.

use super::headers::ascii_json;
use serde_json::{Map, Value};

pub const MAX_HEADER_BYTES: usize = 64 * 1024;
pub const MAX_USER_LEN: usize = 256;
pub const MAX_ROLES: usize = 64;
pub const MAX_ROLE_LEN: usize = 64;
pub const MAX_COMMANDS: usize = 8;
/// serde_json refuses nesting deeper than 128; session data gets a tighter bound.
pub const MAX_DATA_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Login {
        user: String,
        roles: Vec<String>,
        data: Map<String, Value>,
        persistent: bool,
    },
    SetData {
        data: Map<String, Value>,
    },
    Logout,
    Regenerate {
        reason: RegenerateReason,
        roles: Option<Vec<String>>,
    },
    Elevate,
    LogoutOthers,
    LogoutAll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegenerateReason {
    PasswordChange,
    PermissionChange,
}

impl RegenerateReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RegenerateReason::PasswordChange => "password_change",
            RegenerateReason::PermissionChange => "permission_change",
        }
    }
}

/// The fields of one command object that `check_shape` accepted, taken out by name. The
/// shapes are checked there, with errors that name the field and never echo a value; a
/// serde derive of the same enum (internally tagged, so buffered through serde's
/// `Content`) cost the gate's Wasm about 20 KB for a second check of what is checked.
struct Fields(Map<String, Value>);

impl Fields {
    fn text(&mut self, name: &str) -> Option<String> {
        match self.0.remove(name) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// An array of strings; `None` when absent or null (anything else `check_shape` refused).
    fn texts(&mut self, name: &str) -> Option<Vec<String>> {
        let Some(Value::Array(items)) = self.0.remove(name) else {
            return None;
        };
        Some(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        )
    }

    /// An object; `None` when absent or null.
    fn object(&mut self, name: &str) -> Option<Map<String, Value>> {
        match self.0.remove(name) {
            Some(Value::Object(o)) => Some(o),
            _ => None,
        }
    }

    fn flag(&mut self, name: &str) -> bool {
        matches!(self.0.remove(name), Some(Value::Bool(true)))
    }
}

pub fn clean_text(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if s.len() > max {
        return Err(format!("{what} is longer than {max} bytes"));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(format!("{what} contains control characters"));
    }
    // Header servers trim values: " judy" and "judy" would reach the origin alike.
    if s.trim() != s {
        return Err(format!("{what} starts or ends with whitespace"));
    }
    Ok(())
}

/// A user id: clean text (`clean_text`), and not `.` or `..`, which a URL path resolves
/// as dot segments, so the admin API (`/admin/users/{user}/...`) could not address them.
pub fn check_user(user: &str) -> Result<(), String> {
    clean_text("user", user, MAX_USER_LEN)?;
    if user == "." || user == ".." {
        return Err("user is . or .., which the admin API cannot address".into());
    }
    Ok(())
}

pub fn check_roles(roles: &[String]) -> Result<(), String> {
    if roles.len() > MAX_ROLES {
        return Err(format!("more than {MAX_ROLES} roles"));
    }
    for r in roles {
        clean_text("a role", r, MAX_ROLE_LEN)?;
        if r.contains(',') {
            return Err("a role contains a comma (X-Session-Roles is comma-separated)".into());
        }
    }
    Ok(())
}

/// The JSON shape a command field must have.
#[derive(Clone, Copy)]
enum Shape {
    Text,
    TextList,
    TextListOrNull,
    Object,
    ObjectOrNull,
    Bool,
}

impl Shape {
    fn accepts(self, v: &Value) -> bool {
        let texts = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        match self {
            Shape::Text => v.is_string(),
            Shape::TextList => texts(v),
            Shape::TextListOrNull => v.is_null() || texts(v),
            Shape::Object => v.is_object(),
            Shape::ObjectOrNull => v.is_null() || v.is_object(),
            Shape::Bool => v.is_boolean(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::Text => "a string",
            Shape::TextList | Shape::TextListOrNull => "an array of strings",
            Shape::Object | Shape::ObjectOrNull => "an object",
            Shape::Bool => "true or false",
        }
    }
}

const ACTIONS: &str = "login, set_data, logout, regenerate, elevate, logout_others, logout_all";

/// The fields of an action, with their shapes and whether each is required.
fn fields(action: &str) -> Option<&'static [(&'static str, Shape, bool)]> {
    Some(match action {
        "login" => &[
            ("user", Shape::Text, true),
            ("roles", Shape::TextList, false),
            ("data", Shape::ObjectOrNull, false),
            ("persistent", Shape::Bool, false),
        ],
        "set_data" => &[("data", Shape::Object, true)],
        "regenerate" => &[("reason", Shape::Text, true), ("roles", Shape::TextListOrNull, false)],
        "logout" | "elevate" | "logout_others" | "logout_all" => &[],
        _ => return None,
    })
}

/// Checks one command's shape before serde sees it, so that every error names the
/// field and the problem and never echoes a value: an origin that put a secret in the
/// wrong field must not see it in a 502 body or a log line.
fn check_shape(i: usize, item: &Value) -> Result<(), String> {
    let Value::Object(o) = item else {
        return Err(format!("command {i}: expected a JSON object"));
    };
    let action = match o.get("action") {
        Some(Value::String(a)) => a.as_str(),
        Some(_) => return Err(format!("command {i}: \"action\" must be a string")),
        None => return Err(format!("command {i}: missing \"action\"")),
    };
    let Some(spec) = fields(action) else {
        return Err(format!("command {i}: unknown action; accepted: {ACTIONS}"));
    };
    for (name, value) in o.iter().filter(|(k, _)| k.as_str() != "action") {
        match spec.iter().find(|(f, _, _)| f == name) {
            None => return Err(format!("command {i} ({action}): unknown field {}", field_name(name))),
            Some((f, shape, _)) if !shape.accepts(value) => {
                return Err(format!("command {i} ({action}): \"{f}\" must be {}", shape.describe()))
            }
            Some(_) => {}
        }
    }
    match spec.iter().find(|(f, _, required)| *required && !o.contains_key(*f)) {
        Some((f, _, _)) => Err(format!("command {i} ({action}): missing \"{f}\"")),
        None => Ok(()),
    }
}

/// A field name the origin sent, quoted and cut short: a name, not a value, but still
/// the origin's text.
fn field_name(name: &str) -> String {
    let short: String = name.chars().take(32).collect();
    format!("{short:?}")
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

pub fn check_data(data: &Map<String, Value>, max_bytes: usize) -> Result<(), String> {
    let d = 1 + data.values().map(depth).max().unwrap_or(0);
    if d > MAX_DATA_DEPTH {
        return Err(format!("data is nested {d} levels deep, more than {MAX_DATA_DEPTH}"));
    }
    // The bound is on what origins receive: the `X-Session-Data` header, where every
    // non-ASCII character is escaped (an emoji is 12 bytes there, 4 in UTF-8 JSON).
    let size = ascii_json(data).len();
    if size > max_bytes {
        return Err(format!(
            "data is {size} bytes as the X-Session-Data header, more than the {max_bytes} allowed (SESSION_DATA_MAX)"
        ));
    }
    Ok(())
}

/// Parses the header: one JSON object or an array of them.
pub fn parse(header: &str, max_data_bytes: usize) -> Result<Vec<Command>, String> {
    if header.len() > MAX_HEADER_BYTES {
        return Err(format!("command is longer than {MAX_HEADER_BYTES} bytes"));
    }
    // serde_json's syntax errors give a position, never the text around it.
    let value: Value = serde_json::from_str(header).map_err(|e| format!("not JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        _ => return Err("expected a JSON object or an array of objects".into()),
    };
    if items.is_empty() {
        return Err("empty command list".into());
    }
    if items.len() > MAX_COMMANDS {
        return Err(format!("more than {MAX_COMMANDS} commands"));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| one(i, item, max_data_bytes))
        .collect()
}

/// One command of the list, checked completely.
fn one(i: usize, item: Value, max_data_bytes: usize) -> Result<Command, String> {
    check_shape(i, &item)?;
    let Value::Object(o) = item else {
        return Err(format!("command {i}: expected a JSON object"));
    };
    let mut f = Fields(o);
    // `check_shape` found every required field with its shape: a `None` here is a bug.
    let malformed = || format!("command {i}: malformed command");
    let action = f.text("action").ok_or_else(malformed)?;
    Ok(match action.as_str() {
        "login" => {
            let user = f.text("user").ok_or_else(malformed)?;
            let roles = f.texts("roles").unwrap_or_default();
            check_user(&user)?;
            check_roles(&roles)?;
            let data = f.object("data").unwrap_or_default();
            check_data(&data, max_data_bytes)?;
            Command::Login {
                user,
                roles,
                data,
                persistent: f.flag("persistent"),
            }
        }
        "set_data" => {
            let data = f.object("data").ok_or_else(malformed)?;
            check_data(&data, max_data_bytes)?;
            Command::SetData { data }
        }
        "logout" => Command::Logout,
        "regenerate" => {
            let reason = match f.text("reason").ok_or_else(malformed)?.as_str() {
                "password_change" => RegenerateReason::PasswordChange,
                "permission_change" => RegenerateReason::PermissionChange,
                _ => {
                    return Err(format!(
                        "command {i}: unknown regenerate reason; accepted: password_change, permission_change"
                    ))
                }
            };
            let roles = f.texts("roles");
            match (&reason, &roles) {
                (RegenerateReason::PermissionChange, None) => return Err(format!("command {i}: permission_change needs \"roles\"")),
                (RegenerateReason::PasswordChange, Some(_)) => return Err(format!("command {i}: password_change takes no \"roles\"")),
                _ => {}
            }
            if let Some(r) = &roles {
                check_roles(r)?;
            }
            Command::Regenerate { reason, roles }
        }
        "elevate" => Command::Elevate,
        "logout_others" => Command::LogoutOthers,
        "logout_all" => Command::LogoutAll,
        _ => return Err(format!("command {i}: unknown action; accepted: {ACTIONS}")),
    })
}

/// Checks that every command in the list has the session it needs, before any is
/// applied: `regenerate`, `elevate`, `logout_others` and `logout_all` need a signed-in
/// session (the request's, or one a preceding `login` created).
pub fn check_sequence(cmds: &[Command], signed_in: bool) -> Result<(), String> {
    let mut signed_in = signed_in;
    for (i, c) in cmds.iter().enumerate() {
        match c {
            Command::Login { .. } => signed_in = true,
            Command::Logout => signed_in = false,
            Command::SetData { .. } => {}
            Command::Regenerate { .. } | Command::Elevate | Command::LogoutOthers | Command::LogoutAll => {
                if !signed_in {
                    return Err(format!(
                        "command {i} ({}) needs a signed-in session and the request has none",
                        c.action()
                    ));
                }
                if matches!(c, Command::LogoutAll) {
                    signed_in = false;
                }
            }
        }
    }
    Ok(())
}

impl Command {
    pub fn action(&self) -> &'static str {
        match self {
            Command::Login { .. } => "login",
            Command::SetData { .. } => "set_data",
            Command::Logout => "logout",
            Command::Regenerate { .. } => "regenerate",
            Command::Elevate => "elevate",
            Command::LogoutOthers => "logout_others",
            Command::LogoutAll => "logout_all",
        }
    }
}

/// Merges `patch` into `data` (top-level keys; `null` removes a key).
pub fn merge_data(data: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            data.remove(k);
        } else {
            data.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_each_action() {
        let c = parse(
            r#"{"action":"login","user":"alice","roles":["admin"],"data":{"a":1},"persistent":true}"#,
            16384,
        )
        .unwrap();
        assert!(matches!(&c[0], Command::Login { user, persistent: true, .. } if user == "alice"));
        let c = parse(r#"[{"action":"set_data","data":{"cart":[1,2]}},{"action":"logout"}]"#, 16384).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1], Command::Logout);
        let c = parse(r#"{"action":"regenerate","reason":"permission_change","roles":["a","b"]}"#, 16384).unwrap();
        assert_eq!(
            c[0],
            Command::Regenerate {
                reason: RegenerateReason::PermissionChange,
                roles: Some(vec!["a".into(), "b".into()])
            }
        );
        assert_eq!(parse(r#"{"action":"elevate"}"#, 1).unwrap()[0], Command::Elevate);
        assert_eq!(parse(r#"{"action":"logout_others"}"#, 1).unwrap()[0], Command::LogoutOthers);
        assert_eq!(parse(r#"{"action":"logout_all"}"#, 1).unwrap()[0], Command::LogoutAll);
    }

    #[test]
    fn refuses_malformed_commands_with_a_reason() {
        let bad = [
            "",
            "not json",
            "42",
            "[]",
            r#"{"action":"fly"}"#,
            r#"{"user":"alice"}"#,
            r#"{"action":"login"}"#,
            r#"{"action":"login","user":""}"#,
            r#"{"action":"login","user":"al\r\nice"}"#,
            r#"{"action":"login","user":"alice","roles":["a,b"]}"#,
            r#"{"action":"login","user":"alice","extra":1}"#,
            r#"{"action":"set_data","data":[1]}"#,
            r#"{"action":"regenerate","reason":"whim"}"#,
            r#"{"action":"regenerate","reason":"permission_change"}"#,
            r#"{"action":"regenerate","reason":"password_change","roles":[]}"#,
        ];
        for b in bad {
            assert!(parse(b, 16384).is_err(), "{b:?} should be refused");
        }
    }

    #[test]
    fn ids_and_roles_with_edge_whitespace_are_refused() {
        for bad in [
            r#"{"action":"login","user":" judy"}"#,
            r#"{"action":"login","user":"judy "}"#,
            r#"{"action":"login","user":"judy\u00a0"}"#,
            r#"{"action":"login","user":"judy","roles":[" admin"]}"#,
            r#"{"action":"regenerate","reason":"permission_change","roles":["admin "]}"#,
        ] {
            let e = parse(bad, 16384).unwrap_err();
            assert!(e.contains("whitespace"), "{bad}: {e}");
        }
        assert!(parse(r#"{"action":"login","user":"Jane Doe","roles":["a b"]}"#, 16384).is_ok());
    }

    #[test]
    fn dot_segments_are_refused_as_user_ids() {
        for bad in [r#"{"action":"login","user":"."}"#, r#"{"action":"login","user":".."}"#] {
            let e = parse(bad, 16384).unwrap_err();
            assert!(e.contains("admin API"), "{bad}: {e}");
        }
        for ok in ["...", ".a", "a.", "a..b"] {
            assert!(check_user(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn errors_name_the_field_never_the_value() {
        let secret = "sk_live_abc123";
        for bad in [
            format!(r#"{{"action":"login","user":"a","persistent":"{secret}"}}"#),
            format!(r#"{{"action":"login","user":["{secret}"]}}"#),
            format!(r#"{{"action":"login","user":"a","roles":"{secret}"}}"#),
            format!(r#"{{"action":"login","user":"a","roles":[1,"{secret}"]}}"#),
            format!(r#"{{"action":"set_data","data":"{secret}"}}"#),
            format!(r#"{{"action":"{secret}"}}"#),
            format!(r#"{{"action":"regenerate","reason":"{secret}"}}"#),
            format!(r#"{{"action":"login","user":"a","roles":["{secret},x"]}}"#),
            format!(r#"["{secret}"]"#),
            format!(r#"{{"action":"login","user":"{secret}\u0000"}}"#),
            format!(r#"{{"action":"login","user":"a", "x": "{secret}"}}"#),
        ] {
            let e = parse(&bad, 16384).unwrap_err();
            assert!(!e.contains(secret), "{bad} -> {e}");
        }
        let e = parse(r#"{"action":"login","user":"a","persistent":"yes"}"#, 16384).unwrap_err();
        assert_eq!(e, r#"command 0 (login): "persistent" must be true or false"#);
        let e = parse(r#"{"action":"set_data"}"#, 16384).unwrap_err();
        assert_eq!(e, r#"command 0 (set_data): missing "data""#);
        let e = parse(r#"{"action":"logout","user":"a"}"#, 16384).unwrap_err();
        assert_eq!(e, r#"command 0 (logout): unknown field "user""#);
    }

    #[test]
    fn data_is_bounded_as_the_header_origins_receive() {
        // 2,000 emoji: 8,000 bytes of UTF-8 JSON, 24,000 as the escaped header.
        let emoji = "\u{1F600}".repeat(2000);
        let cmd = serde_json::json!({"action": "set_data", "data": {"e": emoji}}).to_string();
        assert!(cmd.len() < 8100);
        let e = parse(&cmd, 16384).unwrap_err();
        assert!(e.contains("X-Session-Data") && e.contains("16384"), "{e}");
        let ascii = serde_json::json!({"action": "set_data", "data": {"e": "a".repeat(16000)}}).to_string();
        assert!(parse(&ascii, 16384).is_ok());
    }

    #[test]
    fn data_is_bounded_in_size_and_depth() {
        let big = format!(r#"{{"action":"set_data","data":{{"x":"{}"}}}}"#, "a".repeat(20_000));
        assert!(parse(&big, 16384).unwrap_err().contains("16384"));
        let deep = format!(r#"{{"action":"set_data","data":{{"x":{}1{}}}}}"#, "[".repeat(40), "]".repeat(40));
        assert!(parse(&deep, 16384).unwrap_err().contains("nested"));
        let very_deep = format!(
            r#"{{"action":"set_data","data":{{"x":{}1{}}}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(parse(&very_deep, 16384).is_err());
    }

    #[test]
    fn sequences_need_a_session_where_it_matters() {
        let p = |s: &str| parse(s, 16384).unwrap();
        assert!(check_sequence(&p(r#"{"action":"elevate"}"#), false).is_err());
        assert!(check_sequence(&p(r#"{"action":"elevate"}"#), true).is_ok());
        assert!(check_sequence(&p(r#"[{"action":"login","user":"a"},{"action":"elevate"}]"#), false).is_ok());
        assert!(check_sequence(
            &p(r#"[{"action":"logout"},{"action":"regenerate","reason":"password_change"}]"#),
            true
        )
        .is_err());
        assert!(check_sequence(&p(r#"[{"action":"logout_all"},{"action":"logout_others"}]"#), true).is_err());
        assert!(check_sequence(&p(r#"[{"action":"logout"},{"action":"set_data","data":{}}]"#), false).is_ok());
    }

    #[test]
    fn merge_sets_and_removes_keys() {
        let mut d: Map<String, Value> = serde_json::from_str(r#"{"a":1,"b":2}"#).unwrap();
        let p: Map<String, Value> = serde_json::from_str(r#"{"b":null,"c":3}"#).unwrap();
        merge_data(&mut d, &p);
        assert_eq!(Value::Object(d), serde_json::json!({"a":1,"c":3}));
    }

    proptest! {
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn never_panics(s in "\\PC{0,200}") { let _ = parse(&s, 16384); }

        #[test]
        fn structured_garbage_never_panics(action in "(login|set_data|logout|regenerate|elevate|logout_all|x)", user in "\\PC{0,10}", extra in "\\PC{0,20}") {
            let s = format!(r#"{{"action":"{action}","user":{user:?},"data":{{"k":{extra:?}}}}}"#);
            let _ = parse(&s, 16384);
        }

        #[test]
        fn command_lists_parse_and_sequence_without_panicking(
            items in prop::collection::vec(
                (
                    prop::sample::select(vec!["login", "set_data", "logout", "regenerate", "elevate", "logout_others", "logout_all", "fly", ""]),
                    prop::option::of("\\PC{0,8}"),
                    prop::option::of(prop::collection::vec("[a-z,\\x00-\\x1f\\u{80}-\\u{2FF}]{0,4}", 0..3)),
                    prop::option::of(prop::sample::select(vec!["password_change", "permission_change", "whim"])),
                    any::<bool>(),
                ),
                0..10,
            ),
            signed_in in any::<bool>(),
        ) {
            let list: Vec<Value> = items
                .iter()
                .map(|(action, user, roles, reason, with_data)| {
                    let mut o = Map::new();
                    o.insert("action".into(), Value::from(*action));
                    if let Some(u) = user { o.insert("user".into(), Value::from(u.as_str())); }
                    if let Some(r) = roles { o.insert("roles".into(), Value::from(r.clone())); }
                    if let Some(r) = reason { o.insert("reason".into(), Value::from(*r)); }
                    if *with_data { o.insert("data".into(), serde_json::json!({"k": [user, {"r": roles}]})); }
                    Value::Object(o)
                })
                .collect();
            if let Ok(cmds) = parse(&Value::Array(list).to_string(), 16384) {
                prop_assert!(!cmds.is_empty() && cmds.len() <= MAX_COMMANDS);
                let without = check_sequence(&cmds, signed_in);
                if without.is_ok() {
                    prop_assert!(check_sequence(&cmds, true).is_ok());
                }
                for c in &cmds {
                    if let Command::Login { user, roles, .. } = c {
                        prop_assert!(!user.is_empty() && !user.chars().any(char::is_control));
                        prop_assert!(roles.iter().all(|r| !r.is_empty() && !r.contains(',')));
                    }
                }
            }
        }
    }
}
