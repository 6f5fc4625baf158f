//! Scale: a 100,000-rule batch commits in one `sendmsg` (with and without
//! echoed handles), and an over-long nest is refused before anything is
//! sent. Timings are printed (run with `--nocapture`), never asserted.

// Test code: failing loudly on unexpected errors is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::*;
use nftguard::engine::{DumpFilter, GenCheck, Ruleset, Transaction};
use nftguard::nft::consts::NFTA_RULE_EXPRESSIONS;
use nftguard::nft::expr::{Cmp, CmpOp, Counter, Meta, MetaKey, Payload, PayloadBase};
use nftguard::nft::{Chain, Family, Hook, Rule, Table};
use nftguard::Error;

const IP: Family = Family::Ipv4;
const RULES: usize = 100_000;

/// `ip saddr 10.A.B.C tcp dport P counter accept`, from expression structs.
fn rule(i: usize) -> Rule {
    let addr = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let port = (1024 + i % 60_000) as u16;
    Rule::new(IP, "big", "input")
        .push(Payload::load(PayloadBase::Network, 12, 4, 1))
        .push(Cmp::new(1, CmpOp::Eq, addr.to_vec()))
        .push(Meta::load(MetaKey::L4proto, 1))
        .push(Cmp::new(1, CmpOp::Eq, vec![6]))
        .push(Payload::load(PayloadBase::Transport, 2, 2, 1))
        .push(Cmp::new(1, CmpOp::Eq, port.to_be_bytes().to_vec()))
        .push(Counter::new())
        .accept()
}

fn big_transaction(echo: bool) -> Transaction {
    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "big"));
    tx.add_chain(Chain::base(IP, "big", "input", Hook::Input, 0));
    for i in 0..RULES {
        tx.add_rule(rule(i));
    }
    tx.set_echo(echo);
    tx
}

fn commit_100k(echo: bool) {
    netns();
    let mut s = sock();
    let tx = big_transaction(echo);
    let bytes = tx.encode(1, 1, true, echo).expect("encoding").len();
    let g = genid(&mut s);
    let start = Instant::now();
    let done = tx
        .commit(&mut s, GenCheck::Expect(g))
        .expect("a 100,000-rule batch commits in one sendmsg");
    let commit_time = start.elapsed();
    assert_eq!(done.genid, g + 1);

    let start = Instant::now();
    let rs = Ruleset::dump(&mut s, &DumpFilter::table(IP, "big")).expect("dump");
    let dump_time = start.elapsed();
    println!(
        "100k rules, echo {}: batch {:.1} MB, commit {:.3} s, typed dump {:.3} s",
        if echo { "on" } else { "off" },
        bytes as f64 / 1e6,
        commit_time.as_secs_f64(),
        dump_time.as_secs_f64()
    );
    assert_eq!(rs.genid, g + 1);
    assert_eq!(rs.rules.len(), RULES);
    // Counters were created at zero and no packet has passed: the last rule
    // dumps exactly as it was built.
    assert_eq!(rs.rules[RULES - 1].exprs, rule(RULES - 1).exprs);

    if echo {
        assert_eq!(done.handles.len(), RULES, "a handle for every rule");
        let dumped: Vec<(usize, u64)> = rs
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (i + 2, r.handle.unwrap()))
            .collect();
        assert_eq!(done.handles, dumped);
    } else {
        assert!(done.handles.is_empty());
    }
}

#[test]
fn commit_100k_rules_without_echo() {
    commit_100k(false);
}

#[test]
fn commit_100k_rules_with_echo() {
    commit_100k(true);
}

/// A rule whose expression list is over 65,535 bytes cannot be encoded:
/// the writer fails instead of wrapping `nla_len`, and nothing is sent.
#[test]
fn over_long_nest_is_refused_before_sending() {
    netns();
    let mut s = sock();
    let mut r = Rule::new(IP, "t", "c");
    // Each counter list element is 44 bytes: 1,600 of them make 70,400.
    for _ in 0..1_600 {
        r = r.counter();
    }
    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "t"));
    tx.add_chain(Chain::regular(IP, "t", "c"));
    tx.add_rule(r);

    match tx.encode(1, 0, true, false) {
        Err(Error::AttributeTooLong { kind, len }) => {
            assert_eq!(kind, NFTA_RULE_EXPRESSIONS);
            assert!(len > 70_000, "{len}");
        }
        other => panic!(
            "expected AttributeTooLong, got {:?}",
            other.map(|b| b.len())
        ),
    }
    let g = genid(&mut s);
    assert!(matches!(
        tx.commit(&mut s, GenCheck::Expect(g)),
        Err(Error::AttributeTooLong {
            kind: NFTA_RULE_EXPRESSIONS,
            ..
        })
    ));
    assert_eq!(genid(&mut s), g, "nothing may have been sent");
    assert!(dump(&mut s).tables.is_empty());
}
