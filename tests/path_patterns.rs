//! Path patterns (`PUBLIC_PATHS`, `SENSITIVE_PATHS`, `STATIC_PATHS`) at the edges the
//! unit tests did not reach (found by cargo-mutants): a path holding a space is not a
//! method list, a trailing slash is dropped from the base, and which patterns name
//! methods.

use sessiongate::core::path::PathPattern;

#[test]
fn path_pattern_with_a_space_in_the_path_is_not_a_method_list() {
    // The first word starts with `/`: the whole value is the path, methods or not.
    let p = PathPattern::parse("/a b", false).expect("a path, not a method list");
    assert!(p.matches("GET", "/a b"));
    assert!(!p.is_method_scoped());
    assert!(PathPattern::parse("/a b", true).is_ok());
    assert_eq!(
        PathPattern::parse("POST /a", false),
        Err("\"POST /a\": methods are not allowed here".to_string())
    );
}

#[test]
fn path_pattern_base_drops_its_trailing_slash() {
    assert_eq!(PathPattern::parse("/x/", false), PathPattern::parse("/x", false));
    assert_eq!(PathPattern::parse("/x//", false), PathPattern::parse("/x", false));
    assert_eq!(PathPattern::parse("/x/*", false), PathPattern::parse("/x//*", false));
    let root = PathPattern::parse("/", false).unwrap();
    assert!(
        root.matches("GET", "/") && !root.matches("GET", "/x"),
        "the root keeps its slash and matches only itself"
    );
}

#[test]
fn path_pattern_is_method_scoped_only_with_methods() {
    assert!(PathPattern::parse("POST /account/password", true).unwrap().is_method_scoped());
    assert!(PathPattern::parse("post|put /x/*", true).unwrap().is_method_scoped());
    assert!(!PathPattern::parse("/account/password", true).unwrap().is_method_scoped());
    assert!(!PathPattern::parse("/x/*", false).unwrap().is_method_scoped());
}

#[test]
fn path_pattern_get_covers_head_and_nothing_else_does() {
    let get = PathPattern::parse("GET /x", true).unwrap();
    for (m, yes) in [
        ("GET", true),
        ("get", true),
        ("HEAD", true),
        ("head", true),
        ("POST", false),
        ("DELETE", false),
    ] {
        assert_eq!(get.matches(m, "/x"), yes, "GET /x for {m}");
    }
    let post = PathPattern::parse("POST /x", true).unwrap();
    for (m, yes) in [("POST", true), ("post", true), ("HEAD", false), ("GET", false)] {
        assert_eq!(post.matches(m, "/x"), yes, "POST /x for {m}");
    }
}

#[test]
fn path_set_emptiness_and_method_scoped_matches() {
    use sessiongate::core::path::PathSet;
    assert!(PathSet::parse("", false).unwrap().is_empty());
    assert!(PathSet::parse(" , ,", false).unwrap().is_empty());
    assert!(!PathSet::parse("/x", false).unwrap().is_empty());
    let set = PathSet::parse("/public/*, POST /account/password, DELETE /items/*", true).unwrap();
    assert!(set.method_scoped_matches("/account/password"));
    assert!(set.method_scoped_matches("/items/7"));
    assert!(!set.method_scoped_matches("/public/x"), "matched, but by a pattern without methods");
    assert!(!set.method_scoped_matches("/account"));
    assert!(!PathSet::parse("/a/*", false).unwrap().method_scoped_matches("/a/b"));
}
