//! `explain` on the live ruleset and on a planned one (built in a
//! throwaway namespace, the live ruleset untouched), and `metrics` output
//! parsed back. Each test in its own network namespace; run as root:
//! `cargo test --test verify_explain_metrics`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{dump, genid, netns, nft, nft_apply, nft_list_ruleset, sock};
use nftguard::engine::Transaction;
use nftguard::nft::{Chain, ChainPolicy, Family, Hook, Rule, Table};
use nftguard::verify::explain::{explain_planned, render_human, ExplainHook, ExplainProto};
use nftguard::verify::metrics::{collect, render_prometheus, write_textfile};
use nftguard::verify::{explain, planned_ruleset, CtState, Decision, ExplainRequest, TraceEvent};

const GOOD: &str = r#"
table inet nftguard {
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state established,related accept
        tcp dport 2222 accept comment "ssh"
    }
}
table ip foreign {
    chain input {
        type filter hook input priority -10; policy accept;
        tcp dport 2222 ct state new drop
    }
}
"#;

fn req(dport: u16) -> ExplainRequest {
    ExplainRequest {
        proto: ExplainProto::Tcp,
        src: "198.51.100.10".parse().unwrap(),
        dst: "192.0.2.1".parse().unwrap(),
        dport: Some(dport),
        sport: None,
        // Not `lo`: an unknown interface would leave `iif "lo" accept`
        // undecided.
        iif: Some("eth0".into()),
        ct_state: None,
        hook: ExplainHook::Input,
    }
}

#[test]
fn explain_follows_every_base_chain_of_the_live_ruleset() {
    netns();
    nft_apply(GOOD);
    let e = explain(&mut sock(), &req(2222)).unwrap();
    assert_eq!(e.verdict, Decision::Drop);
    assert_eq!(e.ruleset, "live");
    let chains: Vec<String> = e
        .trace
        .iter()
        .filter_map(|t| match t {
            TraceEvent::Chain {
                family,
                table,
                chain,
                ..
            } => Some(format!("{family} {table} {chain}")),
            _ => None,
        })
        .collect();
    // The foreign chain (priority -10) runs first and drops: final.
    assert_eq!(chains, vec!["ip foreign input"]);
    let rule = e
        .trace
        .iter()
        .find_map(|t| match t {
            TraceEvent::Rule { rule, outcome, .. } => Some((rule.clone(), outcome.clone())),
            _ => None,
        })
        .unwrap();
    // The rule as nft prints it (the real renderer).
    assert_eq!(
        rule,
        (
            "tcp dport 2222 ct state new drop".to_string(),
            "drop".to_string()
        )
    );
    let text = render_human(&e);
    assert!(
        text.starts_with(
            "DROP  tcp 198.51.100.10:54321 -> 192.0.2.1:2222 ct state new, hook input"
        ),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
    assert_eq!(json["verdict"], "drop");
    assert!(json["trace"].as_array().unwrap().len() >= 2);

    // Established traffic passes both tables: the foreign chain accepts
    // by policy, ours by its ct rule.
    let mut r = req(2222);
    r.ct_state = Some(CtState::Established);
    let e = explain(&mut sock(), &r).unwrap();
    assert_eq!(e.verdict, Decision::Accept, "{}", render_human(&e));
    // IPv6 does not meet the ip table.
    let mut r = req(2222);
    r.src = "2001:db8:ffff::7".parse().unwrap();
    r.dst = "2001:db8::1".parse().unwrap();
    let e = explain(&mut sock(), &r).unwrap();
    assert_eq!(e.verdict, Decision::Accept, "{}", render_human(&e));
    assert!(
        render_human(&e).contains("tcp dport 2222 accept comment \"ssh\""),
        "{}",
        render_human(&e)
    );
    // An unknown interface is an error only if it cannot be looked up;
    // `lo` is known.
    let mut r = req(80);
    r.iif = Some("lo".into());
    assert_eq!(explain(&mut sock(), &r).unwrap().verdict, Decision::Accept);
}

/// The batch a plan sends: replace `inet nftguard` with an input chain
/// accepting loopback and `ports`.
fn replace_ours(ports: &[u16]) -> Transaction {
    let mut tx = Transaction::new();
    tx.delete_table(Family::Inet, "nftguard");
    tx.create_table(Table::new(Family::Inet, "nftguard"));
    tx.add_chain(
        Chain::base(Family::Inet, "nftguard", "input", Hook::Input, 0)
            .with_policy(ChainPolicy::Drop),
    );
    tx.add_rule(
        Rule::new(Family::Inet, "nftguard", "input")
            .iifname("lo")
            .accept(),
    );
    for p in ports {
        tx.add_rule(
            Rule::new(Family::Inet, "nftguard", "input")
                .tcp()
                .dport(*p)
                .accept(),
        );
    }
    tx
}

#[test]
fn explain_on_a_planned_ruleset_leaves_the_live_one_alone() {
    netns();
    nft_apply(GOOD);
    let mut s = sock();
    let before_gen = genid(&mut s);
    let before = nft_list_ruleset();
    let tx = replace_ours(&[2222, 8080]);
    let mut r = req(8080);
    r.src = "2001:db8:ffff::7".parse().unwrap();
    r.dst = "2001:db8::1".parse().unwrap();
    assert_eq!(explain(&mut s, &r).unwrap().verdict, Decision::Drop);
    let e = explain_planned(&mut s, &tx, &r).unwrap();
    assert_eq!(e.ruleset, "planned");
    assert_eq!(e.verdict, Decision::Accept, "{}", render_human(&e));
    // Nothing changed live.
    assert_eq!(genid(&mut s), before_gen);
    assert_eq!(nft_list_ruleset(), before);

    // A rule deletion by live handle in a foreign table: translated to
    // the throwaway copy's handles, and the surviving rules keep their
    // live handles.
    let live = dump(&mut s);
    let drop_rule = live.rules.iter().find(|r| r.table == "foreign").unwrap();
    let h = drop_rule.handle.unwrap();
    let mut tx = Transaction::new();
    tx.delete_rule(Family::Ipv4, "foreign", "input", h);
    let planned = planned_ruleset(&live, &tx).unwrap();
    assert!(!planned.rules.iter().any(|r| r.table == "foreign"));
    let ours_live: Vec<_> = live
        .rules
        .iter()
        .filter(|r| r.table == "nftguard")
        .map(|r| r.handle)
        .collect();
    let ours_planned: Vec<_> = planned
        .rules
        .iter()
        .filter(|r| r.table == "nftguard")
        .map(|r| r.handle)
        .collect();
    assert_eq!(ours_live, ours_planned);
    assert_eq!(planned.genid, live.genid);
    let e = nftguard::verify::explain_ruleset(
        &planned,
        &nftguard::verify::HostFacts::none(),
        &req(2222),
        "planned",
    )
    .unwrap();
    assert_eq!(e.verdict, Decision::Accept, "{}", render_human(&e));
    // Added rules carry no (live) handle.
    let planned = planned_ruleset(&live, &replace_ours(&[443])).unwrap();
    assert!(planned
        .rules
        .iter()
        .filter(|r| r.table == "nftguard")
        .all(|r| r.handle.is_none()));
    // A batch the kernel refuses is an error, not a guess.
    let mut bad = Transaction::new();
    bad.add_rule(Rule::new(Family::Inet, "absent", "input").accept());
    let err = planned_ruleset(&live, &bad).unwrap_err().to_string();
    assert!(err.contains("refuses the planned transaction"), "{err}");
    assert_eq!(nft_list_ruleset(), before);
}

/// Parses the exposition format: name{labels} → value, checking every
/// sample has `# HELP` and `# TYPE` lines before it.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut helped = Vec::new();
    let mut typed = Vec::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.push(rest.split(' ').next().unwrap().to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap().to_string();
            assert!(matches!(it.next(), Some("gauge" | "counter")), "{line}");
            typed.push(name);
        } else {
            let (key, value) = line.rsplit_once(' ').unwrap();
            let name = key.split('{').next().unwrap();
            assert!(helped.iter().any(|h| h == name), "no HELP for {name}");
            assert!(typed.iter().any(|h| h == name), "no TYPE for {name}");
            assert!(
                out.insert(key.to_string(), value.parse::<f64>().unwrap())
                    .is_none(),
                "duplicate {key}"
            );
        }
    }
    out
}

#[test]
fn metrics_export_counters_drops_and_state() {
    netns();
    nft_apply(
        r#"
table inet nftguard {
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        tcp dport 2222 counter packets 5 bytes 300 accept comment "ssh admin"
        tcp dport 23 counter packets 2 bytes 120 drop comment "telnet"
        counter packets 7 bytes 420
    }
    chain output {
        type filter hook output priority filter; policy accept;
        counter packets 11 bytes 900
    }
}
"#,
    );
    let live = dump(&mut sock());
    let handle = |comment: &str| {
        live.rules
            .iter()
            .find(|r| r.comment_text().is_some_and(|c| c == comment))
            .and_then(|r| r.handle)
            .unwrap()
    };
    let base = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("verify-tests");
    let state_path = base.join(format!("metrics-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state_path);
    let state = nftguard::txn::StateDir::open(&state_path).unwrap();
    let m = collect(&mut sock(), Some(&state)).unwrap();
    let text = render_prometheus(&m);
    let v = parse(&text);
    let ssh = format!(
        "nftguard_rule_packets_total{{chain=\"input\",handle=\"{}\",comment=\"ssh admin\",verdict=\"accept\"}}",
        handle("ssh admin")
    );
    assert_eq!(v.get(&ssh), Some(&5.0), "{text}");
    let telnet_bytes = format!(
        "nftguard_rule_bytes_total{{chain=\"input\",handle=\"{}\",comment=\"telnet\",verdict=\"drop\"}}",
        handle("telnet")
    );
    assert_eq!(v.get(&telnet_bytes), Some(&120.0), "{text}");
    assert_eq!(
        v["nftguard_dropped_packets_total{chain=\"input\",source=\"rules\"}"],
        2.0
    );
    assert_eq!(
        v["nftguard_dropped_packets_total{chain=\"input\",source=\"policy\"}"],
        7.0
    );
    assert_eq!(
        v["nftguard_dropped_bytes_total{chain=\"input\",source=\"policy\"}"],
        420.0
    );
    // The output chain accepts by policy: its trailing counter is no drop.
    assert_eq!(
        v["nftguard_dropped_packets_total{chain=\"output\",source=\"rules\"}"],
        0.0
    );
    assert!(!v.contains_key("nftguard_dropped_packets_total{chain=\"output\",source=\"policy\"}"));
    assert_eq!(v["nftguard_policy_drops_counted{chain=\"input\"}"], 1.0);
    assert_eq!(v["nftguard_table_present"], 1.0);
    assert_eq!(v["nftguard_rollback_pending"], 0.0);
    assert!(!v.contains_key("nftguard_last_apply_success"));
    // conntrack: exported exactly when this namespace has the sysctls.
    let count = std::fs::read_to_string("/proc/sys/net/netfilter/nf_conntrack_count").ok();
    assert_eq!(
        v.contains_key("nftguard_conntrack_entries"),
        count.is_some()
    );
    if count.is_some() {
        assert!(v["nftguard_conntrack_entries_limit"] > 0.0);
    }

    // Without the counter at the end, policy drops are not counted.
    nft(
        &[
            "delete",
            "rule",
            "inet",
            "nftguard",
            "input",
            "handle",
            &live
                .rules
                .iter()
                .rfind(|r| r.chain == "input")
                .unwrap()
                .handle
                .unwrap()
                .to_string(),
        ],
        None,
    );
    let v = parse(&render_prometheus(&collect(&mut sock(), None).unwrap()));
    assert_eq!(v["nftguard_policy_drops_counted{chain=\"input\"}"], 0.0);
    assert!(!v.contains_key("nftguard_rollback_pending"));

    // The textfile collector's file, replaced atomically.
    let dir = base.join(format!("textfile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nftguard.prom");
    write_textfile(&path, &text).unwrap();
    write_textfile(&path, &text).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(write_textfile(&dir.join("missing/x.prom"), &text).is_err());
}
