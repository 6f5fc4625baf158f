//! `nft -j list ruleset` → `load_json` → commit in a fresh empty netns
//! → `nft list ruleset` is identical to the original, and the rules'
//! expressions are the ones nft itself produced.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{netns, nft, nft_apply, nft_list_ruleset, sock};
use nftguard::engine::load::load_json;
use nftguard::engine::{DumpFilter, GenCheck, Ruleset};

fn roundtrip(script: &str) {
    netns();
    nft(&["-f", "-"], Some("")); // nft works here
    nft(&["add", "table", "inet", "probe"], None);
    nft(&["delete", "table", "inet", "probe"], None);
    nft_apply(script);
    let text = nft_list_ruleset();
    let json = nft(&["-j", "list", "ruleset"], None);
    let original = Ruleset::dump(&mut sock(), &DumpFilter::all()).unwrap();

    netns(); // a fresh, empty namespace
    let tx = load_json(&json).unwrap_or_else(|e| panic!("loading: {e}\n{json}"));
    let mut s = sock();
    tx.check(&mut s, GenCheck::Unconditional)
        .unwrap_or_else(|e| panic!("check: {e}"));
    let gen = nftguard::engine::get_generation(&mut s).unwrap().id;
    tx.commit(&mut s, GenCheck::Expect(gen))
        .unwrap_or_else(|e| panic!("commit: {e}"));
    assert_eq!(
        nft_list_ruleset(),
        text,
        "nft list ruleset after the round trip"
    );
    let loaded = Ruleset::dump(&mut s, &DumpFilter::all()).unwrap();
    for (a, b) in original.rules.iter().zip(loaded.rules.iter()) {
        assert_eq!(
            b.exprs, a.exprs,
            "expressions of rule {} {} {}",
            a.family, a.table, a.chain
        );
    }
}

#[test]
fn inet_mixed() {
    roundtrip(include_str!("data/json/inet_mixed.nft"));
}

#[test]
fn ip_matches() {
    roundtrip(include_str!("data/json/ip_matches.nft"));
}

#[test]
fn nat_and_iif() {
    roundtrip(
        "table inet n {\n\tchain post {\n\t\ttype nat hook postrouting priority srcnat;\n\t\tsnat ip to 1.2.3.4\n\t\ttcp dport 80 snat ip to 1.2.3.4:8080\n\t\tmeta l4proto tcp masquerade to :1000-2000 random\n\t}\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat;\n\t\ttcp dport 8080 redirect to :80\n\t\tiif \"lo\" accept\n\t}\n}\n",
    );
}

/// A listing whose verdict map refers to a chain listed after it: `nft -j
/// -f` rejects it; the loader orders chains before elements.
#[test]
fn vmap_to_a_later_chain() {
    netns();
    let json = r#"{"nftables": [
        {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "t", "handle": 1}},
        {"map": {"family": "inet", "name": "m", "table": "t", "type": "ipv4_addr", "handle": 2, "map": "verdict",
                 "elem": [["1.1.1.1", {"jump": {"target": "later"}}], ["2.2.2.2", {"drop": null}]]}},
        {"chain": {"family": "inet", "table": "t", "name": "input", "handle": 3, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
        {"rule": {"family": "inet", "table": "t", "chain": "input", "handle": 5,
                  "expr": [{"vmap": {"key": {"payload": {"protocol": "ip", "field": "saddr"}}, "data": "@m"}}]}},
        {"rule": {"family": "inet", "table": "t", "chain": "input", "handle": 6,
                  "expr": [{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": {"set": [[22, {"goto": {"target": "later"}}]]}}}]}},
        {"chain": {"family": "inet", "table": "t", "name": "later", "handle": 4}},
        {"rule": {"family": "inet", "table": "t", "chain": "later", "handle": 7, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}
    ]}"#;
    let tx = load_json(json).unwrap();
    tx.commit(&mut sock(), GenCheck::Unconditional).unwrap();
    let text = nft_list_ruleset();
    assert!(
        text.contains("elements = { 1.1.1.1 : jump later, 2.2.2.2 : drop }"),
        "{text}"
    );
    assert!(text.contains("ip saddr vmap @m"), "{text}");
    assert!(
        text.contains("tcp dport vmap { 22 : goto later }"),
        "{text}"
    );
    assert!(
        text.contains("chain later {\n\t\tcounter packets 0 bytes 0 accept"),
        "{text}"
    );
}

/// An anonymous interval set's size counts both elements of each
/// interval, including the end left out of an interval that reaches the
/// top of the key space: kernels before 6.5 refuse more elements than the
/// size with ENFILE (the VM matrix runs this file on 5.10 and 6.1).
#[test]
fn anonymous_interval_set_size() {
    let json = r#"{"nftables": [
        {"table": {"family": "ip", "name": "t"}},
        {"chain": {"family": "ip", "table": "t", "name": "c"}},
        {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                       "right": {"set": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, "192.168.1.1",
                                         {"range": ["255.255.255.0", "255.255.255.255"]}]}}},
            {"accept": null}]}}
    ]}"#;
    let tx = load_json(json).unwrap();
    let sizes: Vec<(u32, usize)> = tx
        .ops()
        .iter()
        .filter_map(|op| match op {
            nftguard::engine::transaction::Op::AddSet(s) => Some(s.size().unwrap_or(0)),
            _ => None,
        })
        .zip(tx.ops().iter().filter_map(|op| match op {
            nftguard::engine::transaction::Op::AddElements(l) => Some(l.elements.len()),
            _ => None,
        }))
        .collect();
    // Three intervals; five elements sent (the last interval has no end).
    assert_eq!(sizes, [(6, 5)]);
    netns();
    let mut s = sock();
    tx.commit(&mut s, GenCheck::Unconditional)
        .unwrap_or_else(|e| panic!("commit: {e}"));
    let text = nft_list_ruleset();
    assert!(
        text.contains("ip saddr { 10.0.0.0/8, 192.168.1.1, 255.255.255.0/24 } accept"),
        "{text}"
    );
}
