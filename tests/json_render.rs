//! `nft_json(dump) == nft -j list ruleset`, object by object, for a
//! corpus of rulesets loaded with `nft -f` (each in its own netns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{netns, nft, nft_apply, sock};
use nftguard::engine::{DumpFilter, Ruleset};
use nftguard::nft::render::json::nft_json;
use serde_json::Value;

/// Every object of the listing but `metainfo` (tests may normalise only
/// metainfo), one per line for readable failures.
fn objects(v: &Value) -> Vec<String> {
    v["nftables"]
        .as_array()
        .expect("an nftables array")
        .iter()
        .filter(|o| o.get("metainfo").is_none())
        .map(|o| o.to_string())
        .collect()
}

fn check(script: &str) {
    netns();
    nft_apply(script);
    let want: Value = serde_json::from_str(&nft(&["-j", "list", "ruleset"], None)).unwrap();
    let rs = Ruleset::dump(&mut sock(), &DumpFilter::all()).unwrap();
    let got = nft_json(&rs);
    let (w, g) = (objects(&want), objects(&got));
    for (i, (a, b)) in w.iter().zip(g.iter()).enumerate() {
        let (va, vb): (Value, Value) = (
            serde_json::from_str(a).unwrap(),
            serde_json::from_str(b).unwrap(),
        );
        assert_eq!(vb, va, "object {i} differs:\n nft: {a}\n ours: {b}");
    }
    assert_eq!(g.len(), w.len(), "object count\nnft: {w:#?}\nours: {g:#?}");
    assert_eq!(got["nftables"][0], want["nftables"][0], "metainfo");
}

#[test]
fn inet_mixed() {
    check(include_str!("data/json/inet_mixed.nft"));
}

#[test]
fn ip_matches() {
    check(include_str!("data/json/ip_matches.nft"));
}
