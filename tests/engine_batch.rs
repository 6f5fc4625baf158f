//! `BatchBuilder`, the streaming form of a transaction: it must encode
//! exactly the bytes `Transaction::encode` gives for the same operations
//! (every operation kind, element lists split over several messages, keys
//! streamed without `SetElement`s, any sequence base, generation and echo
//! setting), commit and check like a transaction (several times from the
//! same buffer), report kernel rejections with the same operation index
//! and description, and report operations it could not encode.

// Test code: failing loudly on unexpected errors is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::Ipv4Addr;

use common::*;
use nftguard::engine::{BatchBuilder, GenCheck, Op, Transaction};
use nftguard::netlink::MessageIter;
use nftguard::nft::expr::Counter;
use nftguard::nft::object::ObjectData;
use nftguard::nft::{
    Chain, ChainPolicy, ElementList, Family, Hook, Object, Rule, Set, SetElement, Table,
};
use nftguard::Error;

const IP: Family = Family::Ipv4;
/// nft's data type number of `ipv4_addr`.
const IPV4_ADDR: u32 = 7;

fn rule(i: u32) -> Rule {
    Rule::new(IP, "t", "input")
        .ip_saddr(Ipv4Addr::from(0x0a00_0000 | i))
        .tcp()
        .dport(1024 + (i % 1000) as u16)
        .counter()
        .accept()
}

fn keys(n: u32) -> Vec<[u8; 4]> {
    (0..n).map(|i| (0x0a00_0000 | i).to_be_bytes()).collect()
}

/// A transaction with every kind of operation the builder encodes.
fn every_kind() -> Transaction {
    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "t"));
    tx.add_chain(Chain::base(IP, "t", "input", Hook::Input, 0).with_policy(ChainPolicy::Accept));
    tx.add_chain(Chain::regular(IP, "t", "sub"));
    for i in 0..50 {
        tx.add_rule(rule(i));
    }
    tx.insert_rule(rule(99).comment("first"));
    let mut r = rule(7);
    r.handle = Some(12);
    tx.replace_rule(r);
    tx.delete_rule(IP, "t", "input", 13);
    tx.add_set(Set::new(IP, "t", "s", IPV4_ADDR, 4));
    // 20k elements: several messages of at most 64 KiB of elements each.
    let elements = keys(20_000).iter().map(SetElement::new).collect();
    tx.add_elements(ElementList::new(IP, "t", "s", elements));
    tx.delete_elements(ElementList::new(
        IP,
        "t",
        "s",
        vec![SetElement::new([10, 0, 0, 1])],
    ));
    tx.add_anonymous_set(
        Set::new(IP, "t", "", IPV4_ADDR, 4),
        vec![SetElement::new([192, 0, 2, 1])],
    );
    tx.add_object(Object::new(
        IP,
        "t",
        "c",
        ObjectData::Counter(Counter::new()),
    ));
    tx.delete_object(IP, "t", "c", 1);
    tx.flush_set(IP, "t", "s");
    tx.flush_chain(IP, "t", "sub");
    tx.delete_chain(IP, "t", "sub");
    tx.flush_table(IP, "t");
    tx.delete_set(IP, "t", "s");
    tx.push(Op::Raw {
        kind: nftguard::nft::consts::msg::GETGEN,
        flags: 0,
        family: Family::Unspec,
        attrs: Vec::new(),
        what: "a raw message".into(),
    });
    tx.delete_table(IP, "t");
    tx
}

#[test]
fn encodes_the_bytes_of_the_same_transaction() {
    let tx = every_kind();
    let b = BatchBuilder::from_transaction(&tx);
    assert_eq!(b.len(), tx.len());
    assert!(b.error().is_none());
    for (seq, genid, end, echo) in [
        (1, 0, true, false),
        (77, 5, true, true),
        (u32::MAX - 3, 9, false, true), // sequence numbers wrap
        (0, 0, true, false),
    ] {
        assert_eq!(
            b.encode(seq, genid, end, echo).unwrap(),
            tx.encode(seq, genid, end, echo).unwrap(),
            "seq {seq} genid {genid} end {end} echo {echo}"
        );
    }
    assert_eq!(b.canonical_bytes().unwrap(), tx.canonical_bytes().unwrap());
    for (i, op) in tx.ops().iter().enumerate() {
        assert_eq!(b.describe(i).unwrap(), op.describe(), "operation {i}");
    }
    assert_eq!(b.describe(tx.len()), None);
}

#[test]
fn streamed_keys_encode_like_typed_elements() {
    for n in [0, 1, 4095, 4096, 4097, 30_000] {
        let k = keys(n);
        let mut tx = Transaction::new();
        let elements = k.iter().map(SetElement::new).collect();
        tx.add_elements(ElementList::new(IP, "t", "s", elements));
        let elements = k.iter().map(SetElement::new).collect();
        tx.delete_elements(ElementList::new(IP, "t", "s", elements));
        let mut b = BatchBuilder::new();
        b.add_element_keys(IP, "t", "s", &k);
        b.delete_element_keys(IP, "t", "s", k.iter());
        assert_eq!(
            b.encode(3, 4, true, false).unwrap(),
            tx.encode(3, 4, true, false).unwrap(),
            "{n} keys"
        );
        assert_eq!(b.describe(0).unwrap(), tx.ops()[0].describe());
        assert_eq!(b.describe(1).unwrap(), tx.ops()[1].describe());
    }
    // Keys of another length (an ipv6 set) and odd lengths (padding).
    for len in [16usize, 3, 5] {
        let k: Vec<Vec<u8>> = (0..9000u32)
            .map(|i| {
                let mut v = vec![0u8; len];
                v[..3].copy_from_slice(&i.to_be_bytes()[1..]);
                v
            })
            .collect();
        let mut tx = Transaction::new();
        let elements = k.iter().cloned().map(SetElement::new).collect();
        tx.create_elements(ElementList::new(Family::Ipv6, "t", "s6", elements));
        let mut b = BatchBuilder::with_capacity(1 << 20);
        b.create_element_keys(Family::Ipv6, "t", "s6", &k);
        assert_eq!(b.canonical_bytes().unwrap(), tx.canonical_bytes().unwrap());
    }
}

#[test]
fn encoding_errors_are_reported_at_the_end() {
    // A 70,000-byte key cannot be encoded: nla_len is 16 bits.
    let big = vec![0u8; 70_000];
    let mut tx = Transaction::new();
    tx.add_table(Table::new(IP, "t"));
    tx.add_elements(ElementList::new(
        IP,
        "t",
        "s",
        vec![SetElement::new(big.clone())],
    ));
    let want = tx.encode(1, 0, true, false).unwrap_err();
    let mut b = BatchBuilder::new();
    b.add_table(Table::new(IP, "t"));
    b.add_element_keys(IP, "t", "s", [&big]);
    b.add_table(Table::new(IP, "u"));
    let (index, e) = b.error().expect("the key is refused");
    assert_eq!(index, 1);
    assert!(matches!(e, Error::AttributeTooLong { .. }), "{e}");
    let got = b.encode(1, 0, true, false).unwrap_err();
    assert!(matches!(got, Error::AttributeTooLong { .. }), "{got}");
    assert!(matches!(want, Error::AttributeTooLong { .. }), "{want}");
    // Commit refuses too, before anything is sent.
    netns();
    let mut s = sock();
    assert!(matches!(
        b.commit(&mut s, GenCheck::Unconditional),
        Err(Error::AttributeTooLong { .. })
    ));
    assert!(dump(&mut s).tables.is_empty());

    // A rule the high-level builder refused.
    let bad = Rule::new(Family::Ipv6, "t", "input").ip_saddr(Ipv4Addr::LOCALHOST);
    assert!(bad.build_error.is_some());
    let mut b = BatchBuilder::new();
    b.add_rule(bad);
    assert!(matches!(b.error(), Some((0, Error::Invalid { .. }))));
}

fn base_table(b: &mut BatchBuilder) {
    b.add_table(Table::new(IP, "t"));
    b.add_chain(Chain::base(IP, "t", "input", Hook::Input, 0).with_policy(ChainPolicy::Accept));
}

#[test]
fn commits_rules_and_keys() {
    netns();
    let mut s = sock();
    let mut b = BatchBuilder::with_capacity(1 << 20);
    base_table(&mut b);
    for i in 0..2000 {
        b.add_rule(rule(i));
    }
    b.add_set(Set::new(IP, "t", "s", IPV4_ADDR, 4));
    b.add_element_keys(IP, "t", "s", keys(10_000));
    let g = genid(&mut s);
    let done = b.commit(&mut s, GenCheck::Expect(g)).unwrap();
    assert_eq!(done.genid, g + 1);
    assert!(done.end_acked);
    let rs = dump(&mut s);
    assert_eq!(rs.rules.len(), 2000);
    for (i, r) in rs.rules.iter().enumerate() {
        assert_eq!(r.exprs, rule(i as u32).exprs, "rule {i}");
    }
    // The kernel echoed every rule (2000 ≤ the default echo limit): the
    // handles are those of the dumped rules, by operation index.
    assert_eq!(done.handles.len(), 2000);
    for (k, (idx, h)) in done.handles.iter().enumerate() {
        assert_eq!(*idx, k + 2);
        assert_eq!(Some(*h), rs.rules[k].handle);
    }
    let elements: usize = rs.elements.iter().map(|l| l.elements.len()).sum();
    assert_eq!(elements, 10_000);

    // The same buffer commits again with fresh sequence numbers (the
    // rules are appended once more, `add table`/`add chain` are no-ops),
    // this time without echo.
    b.set_echo(false);
    let g = genid(&mut s);
    let again = b.commit(&mut s, GenCheck::Expect(g)).unwrap();
    assert!(again.handles.is_empty());
    assert_eq!(dump(&mut s).rules.len(), 4000);
}

#[test]
fn rejections_name_the_operation_like_a_transaction() {
    netns();
    let mut s = sock();
    let build = |b: &mut dyn FnMut(Op)| {
        b(Op::AddTable(Table::new(IP, "t")));
        b(Op::AddChain(Chain::regular(IP, "t", "input")));
        b(Op::AddRule(rule(1)));
        // No such chain.
        b(Op::AddRule(Rule::new(IP, "t", "nope").counter().accept()));
        b(Op::AddRule(rule(2)));
    };
    let mut tx = Transaction::new();
    build(&mut |op| {
        tx.push(op);
    });
    let mut b = BatchBuilder::new();
    build(&mut |op| {
        b.push(op);
    });
    let g = genid(&mut s);
    let want = tx.commit(&mut s, GenCheck::Expect(g)).unwrap_err();
    let got = b.commit(&mut s, GenCheck::Expect(g)).unwrap_err();
    match (&want, &got) {
        (
            Error::Rejected {
                op_index: i1,
                op: o1,
                errno: e1,
                ..
            },
            Error::Rejected {
                op_index: i2,
                op: o2,
                errno: e2,
                ..
            },
        ) => {
            assert_eq!((i1, o1, e1), (i2, o2, e2));
            assert_eq!(*i2, 3);
            assert_eq!(o2, "add rule ip t nope");
        }
        _ => panic!("{want} / {got}"),
    }
    assert_eq!(genid(&mut s), g, "nothing was applied");
    assert!(dump(&mut s).tables.is_empty());

    // A stale generation is a conflict.
    let mut ok = BatchBuilder::new();
    ok.add_table(Table::new(IP, "t"));
    assert!(matches!(
        ok.commit(&mut s, GenCheck::Expect(g + 7)),
        Err(Error::Conflict { .. })
    ));
}

#[test]
fn check_validates_without_committing() {
    netns();
    let mut s = sock();
    let mut b = BatchBuilder::new();
    base_table(&mut b);
    b.add_rule(rule(1));
    let g = genid(&mut s);
    b.check(&mut s, GenCheck::Expect(g)).unwrap();
    assert_eq!(genid(&mut s), g);
    assert!(dump(&mut s).tables.is_empty());
    // Then commits from the same buffer.
    b.commit(&mut s, GenCheck::Expect(g)).unwrap();
    assert_eq!(dump(&mut s).rules.len(), 1);
    // The sent bytes are well-framed messages.
    let bytes = b.encode(1, 0, true, false).unwrap();
    assert_eq!(MessageIter::new(&bytes).count(), 2 + 3);
}
