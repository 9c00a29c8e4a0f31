//! Origin commands (`X-Session-Command`): `command::parse` then
//! `command::check_sequence`, with and without a signed-in session.
//!
//! Two modes, chosen by the first byte: the rest of the input as the raw header, or a
//! generated JSON array of commands whose fields come from the input (reaches the
//! validation rules far more often than raw bytes do).
//! Invariants on every accepted command list:
//! - 1 to MAX_COMMANDS commands;
//! - users non-empty, at most MAX_USER_LEN bytes, no control characters (they end up
//!   in `X-Session-User`);
//! - at most MAX_ROLES roles, each non-empty, at most MAX_ROLE_LEN bytes, no control
//!   characters, no comma (they are joined with commas in `X-Session-Roles`);
//! - data within the size bound and re-accepted by `check_data`;
//! - `check_sequence` with a session accepts whatever it accepts without one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use sessiongate::core::command::{self, Command};

const MAX_DATA: usize = 4096;

fn check_text(s: &str, max: usize) {
    assert!(!s.is_empty() && s.len() <= max && !s.chars().any(char::is_control), "{s:?}");
}

fn check_roles(roles: &[String]) {
    assert!(roles.len() <= command::MAX_ROLES);
    for r in roles {
        check_text(r, command::MAX_ROLE_LEN);
        assert!(!r.contains(','));
    }
}

fn run(header: &str) {
    let Ok(cmds) = command::parse(header, MAX_DATA) else {
        assert!(command::check_sequence(&[], false).is_ok());
        return;
    };
    assert!(!cmds.is_empty() && cmds.len() <= command::MAX_COMMANDS);
    for c in &cmds {
        match c {
            Command::Login { user, roles, data, .. } => {
                check_text(user, command::MAX_USER_LEN);
                check_roles(roles);
                assert!(command::check_data(data, MAX_DATA).is_ok());
            }
            Command::SetData { data } => assert!(command::check_data(data, MAX_DATA).is_ok()),
            Command::Regenerate { roles: Some(r), .. } => check_roles(r),
            _ => {}
        }
        assert!(!c.action().is_empty());
    }
    if command::check_sequence(&cmds, false).is_ok() {
        assert!(
            command::check_sequence(&cmds, true).is_ok(),
            "a session made a valid sequence invalid"
        );
    }
    // Merging accepted data never panics and null removes keys.
    let mut acc = Map::new();
    for c in &cmds {
        if let Command::SetData { data } | Command::Login { data, .. } = c {
            command::merge_data(&mut acc, data);
            for (k, v) in data {
                if v.is_null() {
                    assert!(!acc.contains_key(k));
                }
            }
        }
    }
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map(|(b, r)| (*b, r)).unwrap_or((0, &[]));
        self.0 = rest;
        b
    }
    fn text(&mut self) -> String {
        let n = (self.byte() % 24) as usize;
        let take = n.min(self.0.len());
        let (t, rest) = self.0.split_at(take);
        self.0 = rest;
        String::from_utf8_lossy(t).into_owned()
    }
    fn value(&mut self, depth: u32) -> Value {
        match self.byte() % 8 {
            0 => Value::Null,
            1 => json!(self.byte() & 1 == 1),
            2 => json!(self.byte() as i64 - 128),
            3 => json!(self.text()),
            4 if depth < 40 => Value::Array((0..self.byte() % 3).map(|_| self.value(depth + 1)).collect()),
            5 if depth < 40 => Value::Object(self.map(depth + 1)),
            6 => json!(self.text().repeat(self.byte() as usize * 4)),
            _ => json!(1.5),
        }
    }
    fn map(&mut self, depth: u32) -> Map<String, Value> {
        (0..self.byte() % 4).map(|_| (self.text(), self.value(depth))).collect()
    }
    fn roles(&mut self) -> Value {
        json!((0..self.byte() % 5).map(|_| self.text()).collect::<Vec<_>>())
    }
}

fn generated(data: &[u8]) -> String {
    let mut b = Bytes(data);
    let n = b.byte() % 10;
    let mut cmds = Vec::new();
    for _ in 0..n {
        let mut o = Map::new();
        let action = [
            "login",
            "set_data",
            "logout",
            "regenerate",
            "elevate",
            "logout_others",
            "logout_all",
            "fly",
        ][(b.byte() % 8) as usize];
        o.insert("action".into(), json!(action));
        let fields = b.byte();
        if fields & 1 != 0 {
            o.insert("user".into(), json!(b.text()));
        }
        if fields & 2 != 0 {
            o.insert("roles".into(), b.roles());
        }
        if fields & 4 != 0 {
            o.insert("data".into(), Value::Object(b.map(0)));
        }
        if fields & 8 != 0 {
            o.insert("persistent".into(), json!(b.byte() & 1 == 1));
        }
        if fields & 16 != 0 {
            let r = ["password_change", "permission_change", "whim"][(b.byte() % 3) as usize];
            o.insert("reason".into(), json!(r));
        }
        if fields & 32 != 0 {
            o.insert(b.text(), b.value(0));
        }
        cmds.push(Value::Object(o));
    }
    if cmds.len() == 1 && b.byte() & 1 == 0 {
        cmds.pop().unwrap_or_default().to_string()
    } else {
        Value::Array(cmds).to_string()
    }
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((m, rest)) if m & 1 == 0 => {
            if let Ok(s) = std::str::from_utf8(rest) {
                run(s);
            }
        }
        Some((_, rest)) => run(&generated(rest)),
        None => {}
    }
});
