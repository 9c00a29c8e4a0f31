//! JSON text of a `serde_json::Value`, always through `serde_json::to_string`.
//!
//! `Value`'s `Display` (`v.to_string()`) serialises through a formatter adapter, a second
//! instance of `Value`'s whole serialiser beside the one the store messages use (through
//! a byte buffer): about 5 KB of the gate's Wasm for nothing (docs/performance.md). Every
//! `Value` the gate turns into text goes through here instead.

use serde_json::Value;

/// The compact JSON text of `v` (the same text `v.to_string()` gives).
pub fn text(v: &Value) -> String {
    // A `Value` always serialises (its map keys are strings): the default is unreachable.
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_text_as_display() {
        let v = json!({"a": [1, 2.5, null, true], "b": "x\"y\u{1}\u{e9}", "c": {}});
        assert_eq!(text(&v), v.to_string());
        assert_eq!(text(&Value::String("s".into())), "\"s\"");
    }
}
