//! Transactions against the kernel: every operation kind, positions and
//! in-batch references, all-or-nothing application, the generation check
//! and dry runs.

// Test code: failing loudly on unexpected errors is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use nftguard::engine::{DumpFilter, GenCheck, Ruleset, Transaction};
use nftguard::netlink::Socket;
use nftguard::nft::data::ChainRef;
use nftguard::nft::expr::{Cmp, CmpOp, Immediate, Lookup};
use nftguard::nft::{Chain, ChainPolicy, Data, Expr, Family, Hook, Rule, Table, Verdict};
use nftguard::Error;

const IP: Family = Family::Ipv4;

/// A rule recognisable by its comment.
fn tagged(chain: &str, tag: &str) -> Rule {
    Rule::new(IP, "t", chain).counter().accept().comment(tag)
}

fn commit(s: &mut Socket, tx: &Transaction) -> nftguard::engine::Committed {
    let g = genid(s);
    let done = tx
        .commit(s, GenCheck::Expect(g))
        .unwrap_or_else(|e| panic!("commit failed: {e}"));
    assert_eq!(done.genid, g + 1);
    assert_eq!(genid(s), g + 1);
    // Linux 6.10 ("netfilter: nfnetlink: handle ACK flags for batch
    // messages") acknowledges the END of a committed batch; older kernels
    // never do, and success is "no error after draining".
    let kernel = kernel_version();
    assert_eq!(
        done.end_acked,
        kernel >= (6, 10),
        "kernel {kernel:?}: END acknowledged = {}, expected only from 6.10 on",
        done.end_acked
    );
    done
}

fn table_dump(s: &mut Socket, table: &str) -> Ruleset {
    Ruleset::dump(s, &DumpFilter::table(IP, table)).expect("dump")
}

/// `(comment, handle)` of the rules of one chain, in kernel order.
fn chain_rules(s: &mut Socket, chain: &str) -> Vec<(String, u64)> {
    table_dump(s, "t")
        .rules_of(IP, "t", chain)
        .map(|r| (r.comment_text().unwrap_or_default(), r.handle.unwrap()))
        .collect()
}

fn tags(rules: &[(String, u64)]) -> Vec<&str> {
    rules.iter().map(|(t, _)| t.as_str()).collect()
}

fn handle_of(rules: &[(String, u64)], tag: &str) -> u64 {
    rules.iter().find(|(t, _)| t == tag).unwrap().1
}

#[test]
fn every_operation_kind_and_rule_positions() {
    netns();
    let mut s = sock();

    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "t"));
    tx.add_chain(Chain::base(IP, "t", "input", Hook::Input, 0).with_policy(ChainPolicy::Accept));
    tx.create_chain(Chain::regular(IP, "t", "sub"));
    tx.add_rule(tagged("input", "A"));
    tx.add_rule(tagged("input", "B"));
    tx.add_rule(tagged("sub", "S"));
    let done = commit(&mut s, &tx);
    let rules = chain_rules(&mut s, "input");
    assert_eq!(tags(&rules), ["A", "B"]);
    // Committed.handles: (operation index, handle) of every created rule.
    assert_eq!(
        done.handles,
        vec![
            (3, handle_of(&rules, "A")),
            (4, handle_of(&rules, "B")),
            (5, handle_of(&chain_rules(&mut s, "sub"), "S")),
        ]
    );
    let (ha, hb) = (handle_of(&rules, "A"), handle_of(&rules, "B"));

    // `add table` on an existing table is not an error.
    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "t"));
    // insert without position: prepend.
    tx.insert_rule(tagged("input", "Z"));
    // add with position: after that rule.
    let mut c = tagged("input", "C");
    c.position = Some(ha);
    tx.add_rule(c);
    // insert with position: before that rule.
    let mut y = tagged("input", "Y");
    y.position = Some(hb);
    tx.insert_rule(y);
    let done = commit(&mut s, &tx);
    let rules = chain_rules(&mut s, "input");
    assert_eq!(tags(&rules), ["Z", "A", "C", "Y", "B"]);
    assert_eq!(
        done.handles,
        vec![
            (1, handle_of(&rules, "Z")),
            (2, handle_of(&rules, "C")),
            (3, handle_of(&rules, "Y")),
        ]
    );

    // replace by handle, delete by handle.
    let hc = handle_of(&rules, "C");
    let mut c2 = tagged("input", "C2");
    c2.handle = Some(hc);
    let mut tx = Transaction::new();
    tx.replace_rule(c2);
    tx.delete_rule(IP, "t", "input", handle_of(&rules, "Z"));
    let done = commit(&mut s, &tx);
    let rules = chain_rules(&mut s, "input");
    assert_eq!(tags(&rules), ["A", "C2", "Y", "B"]);
    assert_eq!(done.handles, vec![(0, handle_of(&rules, "C2"))]);

    // flush chain: only that chain.
    let mut tx = Transaction::new();
    tx.flush_chain(IP, "t", "input");
    commit(&mut s, &tx);
    assert!(chain_rules(&mut s, "input").is_empty());
    assert_eq!(tags(&chain_rules(&mut s, "sub")), ["S"]);

    // flush table: every chain, chains stay.
    let mut tx = Transaction::new();
    tx.add_rule(tagged("input", "again"));
    tx.flush_table(IP, "t");
    commit(&mut s, &tx);
    let rs = table_dump(&mut s, "t");
    assert!(rs.rules.is_empty(), "{:?}", rs.rules);
    assert_eq!(rs.chains.len(), 2);

    // delete chain, then delete table.
    let mut tx = Transaction::new();
    tx.delete_chain(IP, "t", "sub");
    commit(&mut s, &tx);
    let rs = table_dump(&mut s, "t");
    assert_eq!(
        rs.chains
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["input"]
    );
    let mut tx = Transaction::new();
    tx.delete_table(IP, "t");
    commit(&mut s, &tx);
    assert!(dump(&mut s).tables.is_empty());
}

#[test]
fn create_on_existing_objects_is_rejected_with_eexist_at_its_index() {
    netns();
    let mut s = sock();
    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "t"));
    tx.add_chain(Chain::regular(IP, "t", "c"));
    commit(&mut s, &tx);
    let before = dump(&mut s);

    let mut tx = Transaction::new();
    tx.add_chain(Chain::regular(IP, "t", "new"));
    tx.create_table(Table::new(IP, "t"));
    let g = genid(&mut s);
    match tx.commit(&mut s, GenCheck::Expect(g)) {
        Err(Error::Rejected {
            op_index,
            errno,
            op,
            others,
            ..
        }) => {
            assert_eq!(op_index, 1);
            assert_eq!(errno, libc::EEXIST);
            assert_eq!(op, "create table ip t");
            assert!(others.is_empty(), "{others:?}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }

    let mut tx = Transaction::new();
    tx.create_chain(Chain::regular(IP, "t", "c"));
    match tx.commit(&mut s, GenCheck::Expect(g)) {
        Err(Error::Rejected {
            op_index: 0, errno, ..
        }) => assert_eq!(errno, libc::EEXIST),
        other => panic!("expected Rejected at 0, got {other:?}"),
    }
    assert_eq!(genid(&mut s), g, "nothing was committed");
    assert_eq!(dump(&mut s), before, "chain `new` must not exist");
}

#[test]
fn in_batch_references_by_transaction_id() {
    netns();
    let mut s = sock();
    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "t"));
    tx.add_chain(Chain::base(IP, "t", "input", Hook::Input, 0));
    let target_id = tx.next_id();
    let mut target = Chain::regular(IP, "t", "target");
    target.id = Some(target_id);
    tx.add_chain(target);

    let a_id = tx.next_id();
    let mut a = tagged("input", "A");
    a.id = Some(a_id);
    tx.add_rule(a);
    tx.add_rule(tagged("input", "C"));
    // B goes right after A, which exists only inside this batch.
    let mut b = tagged("input", "B");
    b.position_id = Some(a_id);
    tx.add_rule(b);
    // A rule placed in `target` by the chain's transaction id (no name).
    let mut d = tagged("", "D");
    d.chain_id = Some(target_id);
    tx.add_rule(d);
    // A jump to `target` by its transaction id.
    tx.add_rule(
        Rule::new(IP, "t", "input")
            .verdict(Verdict::Jump(ChainRef::Id(target_id)))
            .comment("J"),
    );
    let done = commit(&mut s, &tx);

    let input = chain_rules(&mut s, "input");
    assert_eq!(tags(&input), ["A", "B", "C", "J"]);
    let target = chain_rules(&mut s, "target");
    assert_eq!(tags(&target), ["D"]);
    let mut expected = vec![
        (3, handle_of(&input, "A")),
        (4, handle_of(&input, "C")),
        (5, handle_of(&input, "B")),
        (6, handle_of(&target, "D")),
        (7, handle_of(&input, "J")),
    ];
    expected.sort_unstable();
    assert_eq!(done.handles, expected);

    // The kernel resolved the id: the jump now names the chain.
    let rs = table_dump(&mut s, "t");
    let j = rs
        .rules_of(IP, "t", "input")
        .find(|r| r.comment_text().as_deref() == Some("J"))
        .unwrap();
    assert_eq!(
        j.exprs,
        vec![Expr::Immediate(Immediate::verdict(Verdict::Jump(
            ChainRef::Name("target".into())
        )))]
    );
}

/// 1,000 operations, one of them invalid: the kernel names exactly that
/// operation and applies nothing.
#[test]
fn one_bad_operation_among_a_thousand_applies_nothing() {
    netns();
    let mut s = sock();
    nft_apply("add table ip keep\n");
    let before = dump(&mut s);

    let jump_to_missing = Rule::new(IP, "t", "input").jump("missing");
    // A lookup in a set that does not exist: ENOENT on every kernel.
    let lookup_missing_set = Rule::new(IP, "t", "input")
        .push(Immediate {
            dreg: 1,
            data: Data::Value(vec![10, 0, 0, 1]),
        })
        .push(Lookup {
            set: "missing".into(),
            set_id: None,
            sreg: 1,
            dreg: None,
            flags: None,
        })
        .accept();
    let mut cases = vec![
        (637, jump_to_missing, libc::ENOENT),
        (998, lookup_missing_set, libc::ENOENT),
        (2, Rule::new(IP, "t", "input").jump("missing"), libc::ENOENT),
    ];
    // A cmp on register 1, which no expression of the rule loaded. Linux
    // 6.12 tracks which registers a rule stored to and refuses the load
    // with ENODATA ("netfilter: nf_tables: allow loads only when register
    // is initialized"); 5.10 and 6.1 accept the rule.
    if kernel_version() >= (6, 12) {
        let cmp_unloaded = Rule::new(IP, "t", "input")
            .push(Cmp::new(1, CmpOp::Eq, vec![0, 22]))
            .accept();
        cases.push((998, cmp_unloaded, libc::ENODATA));
    }
    for (bad_index, bad_rule, bad_errno) in cases {
        let mut tx = Transaction::new();
        tx.add_table(Table::new(IP, "t"));
        tx.add_chain(Chain::base(IP, "t", "input", Hook::Input, 0));
        for i in 2..1000u32 {
            if i as usize == bad_index {
                tx.add_rule(bad_rule.clone());
            } else {
                tx.add_rule(
                    Rule::new(IP, "t", "input")
                        .push(Immediate {
                            dreg: 1,
                            data: Data::Value(i.to_be_bytes().to_vec()),
                        })
                        .counter()
                        .accept(),
                );
            }
        }
        assert_eq!(tx.len(), 1000);
        let g = genid(&mut s);
        match tx.commit(&mut s, GenCheck::Expect(g)) {
            Err(Error::Rejected {
                op_index,
                errno,
                others,
                ..
            }) => {
                assert_eq!(op_index, bad_index);
                assert_eq!(errno, bad_errno, "bad operation at {bad_index}");
                assert!(others.is_empty(), "{others:?}");
            }
            other => panic!("expected Rejected at {bad_index}, got {other:?}"),
        }
        assert_eq!(
            genid(&mut s),
            g,
            "the generation moved: something was applied"
        );
        assert_eq!(dump(&mut s), before, "something of the batch was applied");
    }
}

/// Another writer commits between our generation read and our commit: the
/// commit fails with Conflict and nothing of ours is applied. 100 trials.
#[test]
fn concurrent_writer_gives_conflict_every_time() {
    netns();
    let mut s = sock();
    for trial in 0..100 {
        let g = genid(&mut s);
        let mut tx = Transaction::new();
        tx.add_table(Table::new(IP, "ours"));
        tx.add_chain(Chain::base(IP, "ours", "input", Hook::Input, 0));
        tx.add_rule(Rule::new(IP, "ours", "input").counter().accept());

        nft(&["add", "table", "ip", "intruder"], None);

        match tx.commit(&mut s, GenCheck::Expect(g)) {
            Err(Error::Conflict { expected, current }) => {
                assert_eq!(expected, g, "trial {trial}");
                assert_eq!(current, Some(g + 1), "trial {trial}");
            }
            other => panic!("trial {trial}: expected Conflict, got {other:?}"),
        }
        let rs = dump(&mut s);
        assert!(
            rs.table(IP, "ours").is_none(),
            "trial {trial}: ours applied"
        );
        assert!(rs.table(IP, "intruder").is_some());
        assert_eq!(rs.genid, g + 1, "trial {trial}");
        nft(&["delete", "table", "ip", "intruder"], None);
    }
}

#[test]
fn unconditional_commit_ignores_a_concurrent_writer() {
    netns();
    let mut s = sock();
    let g = genid(&mut s);
    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "ours"));
    nft(&["add", "table", "ip", "intruder"], None);
    let done = tx
        .commit(&mut s, GenCheck::Unconditional)
        .expect("unconditional commit");
    assert_eq!(done.genid, g + 2);
    assert_eq!(genid(&mut s), g + 2);
    let rs = dump(&mut s);
    assert!(rs.table(IP, "ours").is_some());
    assert!(rs.table(IP, "intruder").is_some());
}

#[test]
fn check_validates_without_applying() {
    netns();
    let mut s = sock();
    let g = genid(&mut s);

    let mut bad = Transaction::new();
    bad.add_table(Table::new(IP, "t"));
    bad.add_chain(Chain::base(IP, "t", "input", Hook::Input, 0));
    bad.add_rule(Rule::new(IP, "t", "input").counter().accept());
    bad.add_rule(Rule::new(IP, "t", "input").jump("missing"));
    match bad.check(&mut s, GenCheck::Expect(g)) {
        Err(Error::Rejected {
            op_index, errno, ..
        }) => {
            assert_eq!(op_index, 3);
            assert_eq!(errno, libc::ENOENT);
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(genid(&mut s), g);
    assert!(dump(&mut s).tables.is_empty());

    let mut good = Transaction::new();
    good.add_table(Table::new(IP, "t"));
    good.add_chain(Chain::base(IP, "t", "input", Hook::Input, 0));
    good.add_rule(Rule::new(IP, "t", "input").counter().accept());
    good.check(&mut s, GenCheck::Expect(g))
        .expect("a valid batch checks");
    assert_eq!(genid(&mut s), g, "check must not commit");
    assert!(dump(&mut s).tables.is_empty(), "check must not apply");

    // A stale generation is reported by check too.
    nft(&["add", "table", "ip", "intruder"], None);
    assert!(matches!(
        good.check(&mut s, GenCheck::Expect(g)),
        Err(Error::Conflict { expected, .. }) if expected == g
    ));
    // And the same transaction then commits for real.
    let done = good
        .commit(&mut s, GenCheck::Expect(g + 1))
        .expect("commit");
    assert_eq!(done.genid, g + 2);
    assert_eq!(table_dump(&mut s, "t").rules.len(), 1);
}
