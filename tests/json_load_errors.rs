//! Loader errors name the JSON path and what was expected; no input
//! panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nftguard::engine::load::load_json;

fn err(json: &str) -> (String, String) {
    let e = load_json(json).expect_err("must be rejected");
    (e.path, e.message)
}

const T: &str = r#"{"table": {"family": "inet", "name": "t"}}"#;
const C: &str = r#"{"chain": {"family": "inet", "table": "t", "name": "c"}}"#;

fn rule(expr: &str) -> String {
    format!(
        r#"{{"nftables": [{T}, {C}, {{"add": {{"rule": {{"family": "inet", "table": "t", "chain": "c", "expr": {expr}}}}}}}]}}"#
    )
}

#[test]
fn malformed_and_wrong_shapes() {
    assert!(err("{").1.contains("not valid JSON"));
    assert_eq!(err("[]").0, "");
    assert_eq!(err(r#"{"nftables": 3}"#).0, "nftables");
    assert_eq!(err(r#"{"nftables": [1]}"#).0, "nftables[0]");
    let (p, m) = err(r#"{"nftables": [{"table": {"family": "inet6", "name": "t"}}]}"#);
    assert_eq!(p, "nftables[0].table.family");
    assert!(m.contains("unknown family"), "{m}");
    let (p, m) = err(r#"{"nftables": [{"add": {"table": {"family": "inet"}}}]}"#);
    assert_eq!(p, "nftables[0].add.table");
    assert!(m.contains("\"name\""), "{m}");
    let (p, _) = err(r#"{"nftables": [{"add": {"gizmo": {}}}]}"#);
    assert_eq!(p, "nftables[0].add.gizmo");
    let (p, m) = err(r#"{"nftables": [{"table": {"family": "inet", "name": "t", "colour": 1}}]}"#);
    assert_eq!(p, "nftables[0].table.colour");
    assert!(m.contains("unknown key"), "{m}");
    let (p, _) = err(r#"{"nftables": [{"flush": {"ruleset": null}}]}"#);
    assert_eq!(p, "nftables[0].flush.ruleset");
}

#[test]
fn statement_errors_have_exact_paths() {
    let (p, m) = err(&rule(r#"[{"accept": null}, {"frobnicate": null}]"#));
    assert_eq!(p, "nftables[2].add.rule.expr[1].frobnicate");
    assert!(m.contains("unknown or unsupported statement"), "{m}");
    let (p, m) = err(&rule(
        r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 70000}}]"#,
    ));
    assert_eq!(p, "nftables[2].add.rule.expr[0].match.right");
    assert!(m.contains("fits in 2 bytes"), "{m}");
    let (p, _) = err(&rule(
        r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "300.1.1.1"}}]"#,
    ));
    assert_eq!(p, "nftables[2].add.rule.expr[0].match.right");
    let (p, _) = err(&rule(
        r#"[{"match": {"op": "~", "left": {"meta": {"key": "mark"}}, "right": 1}}]"#,
    ));
    assert_eq!(p, "nftables[2].add.rule.expr[0].match.op");
    let (p, _) = err(&rule(
        r#"[{"match": {"op": "==", "left": {"meta": {"key": "nosuchkey"}}, "right": 1}}]"#,
    ));
    assert_eq!(p, "nftables[2].add.rule.expr[0].match.left.meta.key");
    let (p, m) = err(&rule(r#"[{"counter": {"packets": 18446744073709551616}}]"#));
    assert_eq!(p, "nftables[2].add.rule.expr[0].counter.packets");
    assert!(m.contains("integer"), "{m}");
    let (p, _) = err(&rule(r#"[{"jump": {"chain": "x"}}]"#));
    assert_eq!(p, "nftables[2].add.rule.expr[0].jump");
    let (p, m) = err(&rule(
        r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "1.1.1.1"}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "::1"}}]"#,
    ));
    assert_eq!(p, "nftables[2].add.rule.expr[1].match");
    assert!(m.contains("conflicting"), "{m}");
}

#[test]
fn deep_nesting_is_refused() {
    let mut s = String::from(r#"{"nftables": ["#);
    for _ in 0..100 {
        s.push('[');
    }
    for _ in 0..100 {
        s.push(']');
    }
    s.push_str("]}");
    let e = load_json(&s).unwrap_err();
    assert!(
        e.message.contains("nesting") || e.message.contains("JSON"),
        "{e}"
    );
    // Deeper than serde_json's own limit: an error, not a stack overflow.
    let deep = "[".repeat(100_000);
    assert!(load_json(&deep).is_err());
}

#[test]
fn elements_need_a_declared_set() {
    let (p, m) = err(
        r#"{"nftables": [{"add": {"element": {"family": "inet", "table": "t", "name": "s", "elem": [1]}}}]}"#,
    );
    assert_eq!(p, "nftables[0].add.element");
    assert!(m.contains("not declared"), "{m}");
    let ok = load_json(
        r#"{"nftables": [{"add": {"set": {"family": "inet", "table": "t", "name": "s", "type": "inet_service"}}},
                         {"add": {"element": {"family": "inet", "table": "t", "name": "s", "elem": [22, 80]}}}]}"#,
    )
    .unwrap();
    assert_eq!(ok.len(), 2);
    let (p, _) = err(
        r#"{"nftables": [{"add": {"set": {"family": "inet", "table": "t", "name": "s", "type": "inet_service"}}},
                         {"add": {"element": {"family": "inet", "table": "t", "name": "s", "elem": [22, "http"]}}}]}"#,
    );
    assert_eq!(p, "nftables[1].add.element.elem[1]");
}

#[test]
fn overlong_rule_comment_is_refused_at_its_path() {
    let with_comment = |c: &str| {
        format!(
            r#"{{"nftables": [{T}, {C}, {{"add": {{"rule": {{"family": "inet", "table": "t", "chain": "c", "comment": "{c}", "expr": [{{"accept": null}}]}}}}}}]}}"#
        )
    };
    assert!(load_json(&with_comment(&"c".repeat(128))).is_ok());
    let (p, m) = err(&with_comment(&"c".repeat(129)));
    assert_eq!(p, "nftables[2].add.rule.comment");
    assert!(m.contains("129 bytes"), "{m}");
    assert!(m.contains("128-byte limit"), "{m}");
}
