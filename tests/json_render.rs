//! `nft_json(dump) == nft -j list ruleset`, object by object, and
//! `nft_text(dump) == nft list ruleset`, byte for byte, for a corpus of
//! rulesets loaded with `nft -f` (each in its own netns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{netns, nft, nft_apply, sh, sock, without_expiry};
use nftguard::engine::{DumpFilter, Ruleset};
use nftguard::nft::render::json::nft_json;
use nftguard::nft::render::nft_text;
use serde_json::Value;

/// `expires` of set elements counts down between two dumps: its value is
/// replaced by 0 wherever it occurs, so it is compared as present/absent.
fn without_expires(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "expires" {
                    *x = Value::from(0);
                } else {
                    without_expires(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(without_expires),
        _ => {}
    }
}

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
    check_steps(&[], script, &[]);
}

/// In a fresh namespace: `before` shell commands, `nft -f script`, `after`
/// shell commands; then both renderings of the dump against nft's.
fn check_steps(before: &[&str], script: &str, after: &[&str]) {
    netns();
    before.iter().for_each(|c| sh(c));
    nft_apply(script);
    after.iter().for_each(|c| sh(c));
    compare_json();
    compare_text();
}

/// Our JSON of the namespace's ruleset against `nft -j list ruleset`.
fn compare_json() {
    let mut want: Value = serde_json::from_str(&nft(&["-j", "list", "ruleset"], None)).unwrap();
    let rs = Ruleset::dump(&mut sock(), &DumpFilter::all()).unwrap();
    let mut got = nft_json(&rs);
    without_expires(&mut want);
    without_expires(&mut got);
    let (w, g) = (objects(&want), objects(&got));
    let mut differ = String::new();
    for (i, (a, b)) in w.iter().zip(g.iter()).enumerate() {
        let (va, vb): (Value, Value) = (
            serde_json::from_str(a).unwrap(),
            serde_json::from_str(b).unwrap(),
        );
        if va != vb {
            differ.push_str(&format!("object {i} differs:\n  nft: {a}\n ours: {b}\n"));
        }
    }
    assert!(differ.is_empty(), "{differ}");
    assert_eq!(g.len(), w.len(), "object count\nnft: {w:#?}\nours: {g:#?}");
    assert_eq!(got["nftables"][0], want["nftables"][0], "metainfo");
}

/// Our text of the namespace's ruleset against `nft list ruleset`.
fn compare_text() {
    let rs = Ruleset::dump(&mut sock(), &DumpFilter::all()).unwrap();
    let text = without_expiry(&nft(&["list", "ruleset"], None));
    let ours = without_expiry(&nft_text(&rs));
    assert!(
        text == ours,
        "nft_text differs from `nft list ruleset`:\n--- nft\n{text}\n--- nftguard\n{ours}"
    );
}

#[test]
fn inet_mixed() {
    check(include_str!("data/json/inet_mixed.nft"));
}

#[test]
fn ip_matches() {
    check(include_str!("data/json/ip_matches.nft"));
}

#[test]
fn ip6_family() {
    check(include_str!("data/json/ip6_family.nft"));
}

#[test]
fn bridge_family() {
    check(include_str!("data/json/bridge_family.nft"));
}

#[test]
fn arp_family() {
    check(include_str!("data/json/arp_family.nft"));
}

/// Table, chain, set and rule comments; set policy, size, auto-merge,
/// timeout, gc-interval; element timeouts, expiries, comments, counters.
#[test]
fn set_options_and_comments() {
    check(include_str!("data/json/sets_options.nft"));
}

/// Named and anonymous quotas and limits (packet and byte rates, `over`),
/// counters, ct helper/timeout/expectation objects and their statements.
#[test]
fn stateful_objects_and_statements() {
    check(include_str!("data/json/stateful.nft"));
}

/// `iif`/`oif` print the interface name, resolved in the namespace being
/// listed, and the index of an interface that no longer exists (`ve`,
/// removed after loading); a netdev ingress chain on a veth device.
#[test]
fn interfaces_by_index_and_name() {
    check_steps(
        &[
            "ip link add va type veth peer name vb",
            "ip link add vc type veth peer name vd",
            "ip link add ve type veth peer name vf",
        ],
        include_str!("data/json/ifaces.nft"),
        &["ip link del ve"],
    );
}

/// Flowtables (devices listed by name, counter flag), where the kernel has them
/// (CONFIG_NF_FLOW_TABLE; the host kernel of this project's machines has
/// none and answers ENOENT: the test says so and checks nothing else).
#[test]
fn flowtables() {
    netns();
    sh("ip link add fa type veth peer name fb");
    sh("ip link add fc type veth peer name fd");
    let script = include_str!("data/json/flowtable.nft");
    let out = std::process::Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(script.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let missing =
            err.contains("No such file or directory") || err.contains("Operation not supported");
        if missing && !err.contains("File exists") {
            println!(
                "skipped: this kernel has no flowtables (nft: {})",
                err.trim()
            );
            return;
        }
        panic!("nft -f failed: {err}");
    }
    compare_json();
    compare_text();
}

/// Header bit fields (`vlan id`, `vlan pcp`, `ip6 flowlabel`, `ip6
/// dscp`) and a TCP option write: the text renderer names them as nft
/// does.
#[test]
fn bit_fields_and_exthdr_writes_text() {
    netns();
    nft_apply(include_str!("data/json/json_gaps.nft"));
    compare_text();
}

/// The same rules in JSON: the JSON renderer's own delineariser names
/// byte-aligned header fields only, and prints these as raw payloads and
/// opaque expressions.
#[test]
#[ignore = "the JSON renderer does not name header bit fields or exthdr writes yet"]
fn bit_fields_and_exthdr_writes_json() {
    netns();
    nft_apply(include_str!("data/json/json_gaps.nft"));
    compare_json();
}
