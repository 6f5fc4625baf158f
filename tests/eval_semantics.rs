//! Evaluator semantics that a kernel comparison cannot show directly:
//! what stays undecidable (and why), the branches explored, notes, and
//! the trace. Each test loads real nft text in its own empty network
//! namespace and evaluates the dumped ruleset.
//!
//! Run: `cargo test --test eval_semantics`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use nftguard::engine::{DumpFilter, Ruleset};
use nftguard::netlink::{enter_new_netns, Socket};
use nftguard::nft::Hook;
use nftguard::verify::{
    BranchVerdict, Decision, Evaluation, Evaluator, HostAddress, HostFacts, HostInterface,
    Interface, Packet, Path, TraceEvent,
};

fn load(text: &str) -> Ruleset {
    enter_new_netns().expect("network namespace (run as root)");
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A statement must end with a newline or `;` before a closing brace.
    let text = text.replace(" } }", "\n}\n}");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ruleset::dump(&mut Socket::new().unwrap(), &DumpFilter::all()).unwrap()
}

fn syn(hook: Hook, src: &str, dport: u16) -> Packet {
    Packet::tcp_syn(
        hook,
        src.parse().unwrap(),
        40000,
        "192.0.2.1".parse().unwrap(),
        dport,
    )
}

fn eval(rs: &Ruleset, p: &Packet) -> Evaluation {
    Evaluator::new(rs, &HostFacts::none()).evaluate(p).unwrap()
}

#[test]
fn a_rate_limit_makes_the_verdict_depend_on_traffic() {
    let rs = load(
        "table inet f { chain input { type filter hook input priority 0; policy drop;
           tcp dport 22 limit rate 3/minute accept
           tcp dport 80 limit rate 3/minute log prefix \"web \"
           tcp dport 80 accept } }",
    );
    let e = eval(&rs, &syn(Hook::Input, "198.51.100.7", 22));
    assert_eq!(e.verdict, Decision::Unknown);
    assert_eq!(e.branches.len(), 2);
    let verdicts: Vec<_> = e.branches.iter().map(|b| b.verdict.clone()).collect();
    assert!(verdicts.contains(&BranchVerdict::Accept) && verdicts.contains(&BranchVerdict::Drop));
    assert!(
        e.reasons.iter().any(|r| r.contains("limit")),
        "{:?}",
        e.reasons
    );
    // A limit that only gates a log statement does not change the verdict.
    let e = eval(&rs, &syn(Hook::Input, "198.51.100.7", 80));
    assert_eq!(e.verdict, Decision::Accept);
    assert_eq!(e.branches.len(), 2);
}

#[test]
fn accept_in_one_table_does_not_override_drop_in_another() {
    let rs = load(
        "table inet ours { chain input { type filter hook input priority 0; policy drop; tcp dport 22 accept } }
         table ip theirs { chain input { type filter hook input priority 10; policy accept; ip saddr 198.51.100.0/24 drop } }
         table bridge br { chain input { type filter hook input priority -500; policy drop; } }
         table arp a { chain input { type filter hook input priority -500; policy drop; } }",
    );
    let e = eval(&rs, &syn(Hook::Input, "198.51.100.7", 22));
    assert_eq!(e.verdict, Decision::Drop);
    let chains: Vec<String> = e
        .trace()
        .iter()
        .filter_map(|t| match t {
            TraceEvent::Chain { table, .. } => Some(table.clone()),
            _ => None,
        })
        .collect();
    // Bridge and arp chains never see a routed IP packet.
    assert_eq!(chains, ["ours", "theirs"]);
    assert_eq!(
        eval(&rs, &syn(Hook::Input, "203.0.113.9", 22)).verdict,
        Decision::Accept
    );
    // The trace names the rule that accepted, by handle, with a description.
    let e = eval(&rs, &syn(Hook::Input, "203.0.113.9", 22));
    let hit = e
        .trace()
        .iter()
        .find_map(|t| match t {
            TraceEvent::Rule {
                handle,
                rule,
                outcome,
                ..
            } => Some((*handle, rule.clone(), outcome.clone())),
            _ => None,
        })
        .unwrap();
    assert!(hit.0.is_some());
    assert_eq!(hit.2, "accept");
    assert_eq!(hit.1, "tcp dport 22 accept");
}

#[test]
fn undecodable_and_unmodelled_expressions_are_unknown_with_their_name() {
    let rs = load(
        "table inet f { chain input { type filter hook input priority 0; policy accept;
           tcp dport 5000 numgen random mod 2 vmap { 0 : drop, 1 : accept }
           tcp dport 5001 meta cpu 1 drop } }",
    );
    let e = eval(&rs, &syn(Hook::Input, "198.51.100.7", 5000));
    assert_eq!(e.verdict, Decision::Unknown);
    assert!(
        e.reasons.iter().any(|r| r.contains("numgen")),
        "{:?}",
        e.reasons
    );
    // meta cpu is unknown: both outcomes are explored.
    let e = eval(&rs, &syn(Hook::Input, "198.51.100.7", 5001));
    assert_eq!(e.verdict, Decision::Unknown);
    assert_eq!(e.branches.len(), 2);
    assert_eq!(
        eval(&rs, &syn(Hook::Input, "198.51.100.7", 5002)).verdict,
        Decision::Accept
    );
}

#[test]
fn xt_matches_are_unknown_until_decoded() {
    enter_new_netns().unwrap();
    for args in [
        vec!["-P", "INPUT", "DROP"],
        vec![
            "-A",
            "INPUT",
            "-p",
            "tcp",
            "--dport",
            "22",
            "-m",
            "conntrack",
            "--ctstate",
            "NEW",
            "-j",
            "ACCEPT",
        ],
    ] {
        let st = Command::new("iptables-nft").args(&args).status().unwrap();
        assert!(st.success());
    }
    let rs = Ruleset::dump(&mut Socket::new().unwrap(), &DumpFilter::all()).unwrap();
    let e = eval(&rs, &syn(Hook::Input, "198.51.100.7", 22));
    assert_eq!(e.verdict, Decision::Unknown);
    assert!(
        e.reasons.iter().any(|r| r.contains("conntrack")),
        "{:?}",
        e.reasons
    );
    assert_eq!(
        eval(&rs, &syn(Hook::Input, "198.51.100.7", 23)).verdict,
        Decision::Drop
    );
}

#[test]
fn fib_needs_host_facts() {
    let rs = load(
        "table inet f { chain input { type filter hook input priority 0; policy accept;
           fib daddr type != local drop } }",
    );
    let p = syn(Hook::Input, "198.51.100.7", 22);
    assert_eq!(eval(&rs, &p).verdict, Decision::Unknown);
    let host = HostFacts {
        interfaces: vec![HostInterface {
            name: "eth0".into(),
            index: 2,
            addresses: vec![HostAddress {
                addr: "192.0.2.1".parse().unwrap(),
                prefix: 24,
            }],
        }],
        routes: vec![],
        routes_complete: false,
    };
    let ev = Evaluator::new(&rs, &host);
    assert_eq!(ev.evaluate(&p).unwrap().verdict, Decision::Accept);
    let other = Packet::tcp_syn(
        Hook::Input,
        "198.51.100.7".parse().unwrap(),
        1,
        "192.0.2.9".parse().unwrap(),
        22,
    );
    assert_eq!(ev.evaluate(&other).unwrap().verdict, Decision::Drop);
}

#[test]
fn nat_runs_at_the_nat_core_priority_and_translates() {
    // The nat chain's own priority (50) would put it after the filter
    // chain at 0; the kernel runs it at -100 (NF_IP_PRI_NAT_DST).
    let rs = load(
        "table ip n { chain pre { type nat hook prerouting priority 50; policy accept; tcp dport 8080 dnat to 192.0.2.1:22 } }
         table inet f { chain pre { type filter hook prerouting priority 0; policy accept; tcp dport 8080 drop } }",
    );
    let p = syn(Hook::Prerouting, "198.51.100.7", 8080);
    let e = eval(&rs, &p);
    assert_eq!(e.verdict, Decision::Accept, "{:#?}", e.trace());
    assert!(e.notes.iter().any(|n| n.contains("dnat")), "{:?}", e.notes);
    // An established packet does not traverse nat chains.
    let mut est = p.clone();
    est.ct.state = Some(nftguard::verify::CtState::Established);
    let e = eval(&rs, &est);
    assert_eq!(e.verdict, Decision::Drop);
}

#[test]
fn equal_priorities_matter_only_when_a_chain_changes_the_packet() {
    let rs = load(
        "table inet a { chain input { type filter hook input priority 0; policy accept; meta mark set 1 } }
         table inet b { chain input { type filter hook input priority 0; policy accept; meta mark 1 drop } }",
    );
    let e = eval(&rs, &syn(Hook::Input, "198.51.100.7", 22));
    assert_eq!(e.verdict, Decision::Unknown);
    assert!(
        e.notes.iter().any(|n| n.contains("undefined")),
        "{:?}",
        e.notes
    );
    let rs = load(
        "table inet a { chain input { type filter hook input priority 0; policy accept; tcp dport 22 accept } }
         table inet b { chain input { type filter hook input priority 0; policy accept; tcp dport 22 drop } }",
    );
    let e = eval(&rs, &syn(Hook::Input, "198.51.100.7", 22));
    assert_eq!(e.verdict, Decision::Drop);
    assert!(e.notes.is_empty(), "{:?}", e.notes);
}

#[test]
fn receive_path_routes_by_host_addresses() {
    let rs = load(
        "table inet f {
           chain input { type filter hook input priority 0; policy drop; }
           chain forward { type filter hook forward priority 0; policy accept; } }",
    );
    let host = HostFacts {
        interfaces: vec![
            HostInterface {
                name: "eth0".into(),
                index: 2,
                addresses: vec![HostAddress {
                    addr: "192.0.2.1".parse().unwrap(),
                    prefix: 24,
                }],
            },
            HostInterface {
                name: "eth1".into(),
                index: 3,
                addresses: vec![HostAddress {
                    addr: "203.0.113.1".parse().unwrap(),
                    prefix: 24,
                }],
            },
        ],
        routes: vec![],
        routes_complete: true,
    };
    let ev = Evaluator::new(&rs, &host);
    let local = syn(Hook::Prerouting, "198.51.100.7", 22).with_iif(Interface::new("eth0", 2));
    assert_eq!(
        ev.evaluate_path(&local, &Path::Receive).unwrap().verdict,
        Decision::Drop
    );
    let mut fwd = local.clone();
    fwd.daddr = "203.0.113.9".parse().unwrap();
    let e = ev.evaluate_path(&fwd, &Path::Receive).unwrap();
    assert_eq!(e.verdict, Decision::Accept);
    assert!(e.notes.iter().any(|n| n.contains("forwarded")));
}
