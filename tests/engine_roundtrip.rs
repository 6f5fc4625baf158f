//! Every expression kind, both ways:
//!
//! * nft writes a corpus using every typed expression kind across the inet,
//!   ip, ip6, bridge and netdev families; the engine dumps it raw, and each
//!   table, chain and rule parsed and re-emitted gives identical bytes, with
//!   no expression left opaque.
//! * The engine writes rules built from expression structs; `nft list`
//!   prints exactly the intended text, and nft writing that same text
//!   produces the same expressions.

// Test code: failing loudly on unexpected errors is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use nftguard::engine::{GenCheck, Transaction};
use nftguard::nft::data::ChainRef;
use nftguard::nft::expr::*;
use nftguard::nft::{Chain, ChainPolicy, Data, Expr, Family, Hook, Rule, Table, Verdict};

/// Every expression kind nftguard types (the variants of [`Expr`] other than
/// `Opaque`).
const TYPED_KINDS: &[&str] = &[
    "payload",
    "meta",
    "cmp",
    "bitwise",
    "immediate",
    "lookup",
    "range",
    "counter",
    "ct",
    "limit",
    "log",
    "reject",
    "nat",
    "masq",
    "redir",
    "fib",
    "quota",
    "connlimit",
    "dynset",
    "exthdr",
    "notrack",
];

/// Collects the names of `e` and of the expressions nested in it (dynset),
/// and every expression that stayed opaque.
fn walk<'a>(e: &'a Expr, kinds: &mut BTreeSet<String>, opaque: &mut Vec<&'a Expr>) {
    kinds.insert(e.name().to_string());
    if !e.is_typed() {
        opaque.push(e);
    }
    if let Expr::Dynset(d) = e {
        for inner in d.expr.iter().map(|b| &**b).chain(d.exprs.iter().flatten()) {
            walk(inner, kinds, opaque);
        }
    }
}

#[test]
fn nft_corpus_reencodes_byte_for_byte_and_fully_typed() {
    netns();
    let raw = corpus_raw_dump();

    let families: BTreeSet<Family> = raw.tables.iter().map(|t| t.family).collect();
    for f in [
        Family::Inet,
        Family::Ipv4,
        Family::Ipv6,
        Family::Bridge,
        Family::Netdev,
    ] {
        assert!(families.contains(&f), "the corpus has no {f} table");
    }

    for t in &raw.tables {
        let parsed = Table::parse(t.family, &t.attrs).expect("parsing a dumped table");
        assert_eq!(emit_table(&parsed), t.attrs, "table {parsed:?}");
        assert!(
            parsed.unknown.is_empty(),
            "unknown table attributes: {parsed:?}"
        );
    }
    let inet_t = raw
        .tables
        .iter()
        .map(|t| Table::parse(t.family, &t.attrs).unwrap())
        .find(|t| t.name == "t")
        .unwrap();
    assert_eq!(inet_t.comment().as_deref(), Some("expression corpus"));

    for c in &raw.chains {
        let parsed = Chain::parse(c.family, &c.attrs).expect("parsing a dumped chain");
        assert_eq!(emit_chain(&parsed), c.attrs, "chain {parsed:?}");
        assert!(
            parsed.unknown.is_empty(),
            "unknown chain attributes: {parsed:?}"
        );
    }
    let netdev_ingress = raw
        .chains
        .iter()
        .map(|c| Chain::parse(c.family, &c.attrs).unwrap())
        .find(|c| c.family == Family::Netdev)
        .unwrap();
    assert_eq!(netdev_ingress.hook_kind(), Some(Hook::Ingress));

    let mut kinds = BTreeSet::new();
    let mut verdicts = BTreeSet::new();
    let mut expr_count = 0;
    for r in &raw.rules {
        let parsed = Rule::parse(r.family, &r.attrs).expect("parsing a dumped rule");
        assert_eq!(emit_rule(&parsed), r.attrs, "rule {parsed:?}");
        assert!(
            parsed.unknown.is_empty(),
            "unknown rule attributes: {parsed:?}"
        );
        let mut opaque = Vec::new();
        for e in &parsed.exprs {
            walk(e, &mut kinds, &mut opaque);
            expr_count += 1;
            if let Expr::Immediate(Immediate {
                data: Data::Verdict(v),
                ..
            }) = e
            {
                verdicts.insert(format!("{v:?}").split('(').next().unwrap().to_string());
            }
        }
        assert!(
            opaque.is_empty(),
            "rule {} {} {} (handle {:?}) has expressions that fell back to Opaque: {opaque:?}",
            parsed.family,
            parsed.table,
            parsed.chain,
            parsed.handle
        );
    }
    let missing: Vec<_> = TYPED_KINDS
        .iter()
        .filter(|k| !kinds.contains(**k))
        .collect();
    assert!(missing.is_empty(), "the corpus never uses {missing:?}");
    for v in ["Accept", "Drop", "Jump", "Goto", "Return"] {
        assert!(
            verdicts.contains(v),
            "the corpus has no {v} verdict: {verdicts:?}"
        );
    }
    assert!(raw.rules.len() >= 60, "only {} rules", raw.rules.len());
    assert!(expr_count >= 200, "only {expr_count} expressions");

    // The typed dump sees exactly what the raw dump saw.
    let mut s = sock();
    let rs = dump(&mut s);
    let tables: Vec<_> = raw
        .tables
        .iter()
        .map(|t| Table::parse(t.family, &t.attrs).unwrap())
        .collect();
    let chains: Vec<_> = raw
        .chains
        .iter()
        .map(|c| Chain::parse(c.family, &c.attrs).unwrap())
        .collect();
    let rules: Vec<_> = raw
        .rules
        .iter()
        .map(|r| Rule::parse(r.family, &r.attrs).unwrap())
        .collect();
    assert_eq!(rs.tables, tables);
    assert_eq!(rs.chains, chains);
    assert_eq!(rs.rules, rules);
    let comment = rs
        .rules
        .iter()
        .find_map(|r| r.comment_text())
        .expect("a rule with a comment");
    assert_eq!(comment, "with a comment");
}

// ---------------------------------------------------------------------------
// Engine writes, nft reads.

const R1: u32 = 1;
const R2: u32 = 2;

fn load(base: PayloadBase, offset: u32, len: u32) -> Expr {
    Payload::load(base, offset, len, R1).into()
}

fn eq(value: impl Into<Vec<u8>>) -> Expr {
    Cmp::new(R1, CmpOp::Eq, value).into()
}

fn host_u32(v: u32) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

fn l4proto(proto: u8) -> Vec<Expr> {
    vec![Meta::load(MetaKey::L4proto, R1).into(), eq([proto])]
}

fn tcp_dport(port: u16) -> Vec<Expr> {
    let mut v = l4proto(6);
    v.push(load(PayloadBase::Transport, 2, 2));
    v.push(eq(port.to_be_bytes()));
    v
}

fn verdict(v: Verdict) -> Expr {
    Immediate::verdict(v).into()
}

fn imm(reg: u32, value: Vec<u8>) -> Expr {
    Immediate {
        dreg: reg,
        data: Data::Value(value),
    }
    .into()
}

fn limit_10_per_minute() -> Expr {
    Limit::packets(10, 60, 5).into()
}

fn rule(chain: &str, exprs: Vec<Expr>) -> Rule {
    let mut r = Rule::new(Family::Ipv4, "eng", chain);
    r.exprs = exprs;
    r
}

/// The rules the engine writes, chain by chain, as expression structs.
fn engine_rules() -> Vec<Rule> {
    let mut iifname = [0u8; 16];
    iifname[..2].copy_from_slice(b"lo");
    let input = |e: Vec<Expr>| rule("input", e);
    vec![
        input(vec![
            Meta::load(MetaKey::Iifname, R1).into(),
            eq(iifname),
            verdict(Verdict::Accept),
        ]),
        input(
            [
                vec![load(PayloadBase::Network, 12, 4), eq([10, 0, 0, 1])],
                tcp_dport(22),
                vec![Counter::new().into(), verdict(Verdict::Accept)],
            ]
            .concat(),
        ),
        input(vec![
            load(PayloadBase::Network, 12, 4),
            Bitwise::mask(R1, vec![0xff, 0xf0, 0, 0]).into(),
            eq([10, 16, 0, 0]),
            verdict(Verdict::Drop),
        ]),
        input(
            [
                l4proto(6),
                vec![
                    load(PayloadBase::Transport, 2, 2),
                    Range {
                        sreg: R1,
                        op: RangeOp::Neq,
                        from: Data::Value(1000u16.to_be_bytes().to_vec()),
                        to: Data::Value(2000u16.to_be_bytes().to_vec()),
                    }
                    .into(),
                    verdict(Verdict::Drop),
                ],
            ]
            .concat(),
        ),
        input(vec![
            Ct::load(CtKey::State, R1).into(),
            Bitwise::mask(R1, host_u32(ct::state::ESTABLISHED | ct::state::RELATED)).into(),
            Cmp::new(R1, CmpOp::Neq, host_u32(0)).into(),
            verdict(Verdict::Accept),
        ]),
        input(vec![limit_10_per_minute(), verdict(Verdict::Accept)]),
        input(vec![Log::prefix("eng: ").into()]),
        input(vec![Log {
            prefix: None,
            group: Some(2),
            level: None,
            flags: None,
            snaplen: None,
            qthreshold: None,
        }
        .into()]),
        input(vec![
            Fib {
                dreg: R1,
                result: FibResult::Addrtype,
                flags: fib::flags::DADDR,
            }
            .into(),
            eq(host_u32(2)), // RTN_LOCAL
            verdict(Verdict::Accept),
        ]),
        input(vec![Quota {
            bytes: 1000,
            consumed: None,
            flags: 0,
        }
        .into()]),
        input(vec![
            Connlimit {
                count: 10,
                flags: Some(1),
            }
            .into(),
            verdict(Verdict::Drop),
        ]),
        input(vec![Reject {
            kind: RejectType::IcmpUnreach,
            icmp_code: Some(3),
        }
        .into()]),
        input(
            [
                l4proto(6),
                vec![Reject {
                    kind: RejectType::TcpRst,
                    icmp_code: Some(0),
                }
                .into()],
            ]
            .concat(),
        ),
        input(
            [
                l4proto(6),
                vec![
                    load(PayloadBase::Transport, 2, 2),
                    Lookup {
                        set: "ports".into(),
                        set_id: None,
                        sreg: R1,
                        dreg: None,
                        flags: None,
                    }
                    .into(),
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        input(vec![
            load(PayloadBase::Network, 12, 4),
            Dynset {
                sreg_key: R1,
                sreg_data: None,
                op: DynsetOp::Add,
                set_name: "dyn4".into(),
                set_id: None,
                timeout: None,
                flags: None,
                expr: Some(Box::new(limit_10_per_minute())),
                exprs: None,
            }
            .into(),
        ]),
        input(vec![
            Exthdr {
                dreg: Some(R1),
                sreg: None,
                kind: 2, // maximum segment size
                offset: 2,
                len: 2,
                flags: None,
                op: Some(ExthdrOp::TcpOpt),
            }
            .into(),
            eq(1460u16.to_be_bytes()),
            verdict(Verdict::Accept),
        ]),
        input(vec![
            imm(R1, host_u32(1)),
            Meta {
                key: MetaKey::Mark,
                dreg: None,
                sreg: Some(R1),
            }
            .into(),
        ]),
        input(vec![
            imm(R1, host_u32(42)),
            Ct {
                dreg: None,
                sreg: Some(R1),
                key: CtKey::Mark,
                direction: None,
            }
            .into(),
        ]),
        input(vec![verdict(Verdict::Jump(ChainRef::Name("sub".into())))]),
        input(vec![verdict(Verdict::Goto(ChainRef::Name("sub".into())))]),
        rule("sub", vec![Counter::new().into(), verdict(Verdict::Return)]),
        rule("pre", vec![Notrack {}.into()]),
        rule(
            "natpre",
            [
                tcp_dport(8080),
                vec![
                    imm(R1, vec![10, 0, 0, 1]),
                    imm(R2, 80u16.to_be_bytes().to_vec()),
                    Nat {
                        kind: NatType::Dnat,
                        family: 2, // NFPROTO_IPV4
                        reg_addr_min: Some(R1),
                        reg_addr_max: None,
                        reg_proto_min: Some(R2),
                        reg_proto_max: None,
                        flags: Some(2), // NF_NAT_RANGE_PROTO_SPECIFIED
                    }
                    .into(),
                ],
            ]
            .concat(),
        ),
        rule(
            "natpre",
            [
                tcp_dport(8081),
                vec![
                    imm(R1, 8080u16.to_be_bytes().to_vec()),
                    Redir {
                        reg_proto_min: Some(R1),
                        reg_proto_max: None,
                        flags: Some(2),
                    }
                    .into(),
                ],
            ]
            .concat(),
        ),
        rule(
            "natpost",
            vec![Masq {
                flags: None,
                reg_proto_min: None,
                reg_proto_max: None,
            }
            .into()],
        ),
    ]
}

/// What `nft list table ip eng` must print after the engine wrote
/// [`engine_rules`] (and nft added the two sets).
const ENGINE_TABLE_TEXT: &str = r#"table ip eng {
	set ports {
		type inet_service
		elements = { 22, 443 }
	}

	set dyn4 {
		type ipv4_addr
		size 65535
		flags dynamic
	}

	chain input {
		type filter hook input priority filter; policy accept;
		iifname "lo" accept
		ip saddr 10.0.0.1 tcp dport 22 counter packets 0 bytes 0 accept
		ip saddr 10.16.0.0/12 drop
		tcp dport != 1000-2000 drop
		ct state established,related accept
		limit rate 10/minute accept
		log prefix "eng: "
		log group 2
		fib daddr type local accept
		quota 1000 bytes
		ct count over 10 drop
		reject
		reject with tcp reset
		tcp dport @ports accept
		add @dyn4 { ip saddr limit rate 10/minute }
		tcp option maxseg size 1460 accept
		meta mark set 0x00000001
		ct mark set 0x0000002a
		jump sub
		goto sub
	}

	chain sub {
		counter packets 0 bytes 0 return
	}

	chain pre {
		type filter hook prerouting priority raw; policy accept;
		notrack
	}

	chain natpre {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 8080 dnat to 10.0.0.1:80
		tcp dport 8081 redirect to :8080
	}

	chain natpost {
		type nat hook postrouting priority srcnat; policy accept;
		masquerade
	}
}
"#;

#[test]
fn engine_written_rules_read_back_in_nft_as_intended() {
    netns();
    let mut s = sock();
    let mut tx = Transaction::new();
    tx.add_table(Table::new(Family::Ipv4, "eng"));
    tx.add_chain(
        Chain::base(Family::Ipv4, "eng", "input", Hook::Input, 0).with_policy(ChainPolicy::Accept),
    );
    tx.add_chain(Chain::regular(Family::Ipv4, "eng", "sub"));
    tx.add_chain(
        Chain::base(Family::Ipv4, "eng", "pre", Hook::Prerouting, -300)
            .with_policy(ChainPolicy::Accept),
    );
    tx.add_chain(
        Chain::base(Family::Ipv4, "eng", "natpre", Hook::Prerouting, -100)
            .with_type("nat")
            .with_policy(ChainPolicy::Accept),
    );
    tx.add_chain(
        Chain::base(Family::Ipv4, "eng", "natpost", Hook::Postrouting, 100)
            .with_type("nat")
            .with_policy(ChainPolicy::Accept),
    );
    let g = genid(&mut s);
    tx.commit(&mut s, GenCheck::Expect(g))
        .expect("creating table and chains");

    // Sets are another helper's work; nft creates the two the rules use.
    nft_apply(
        "add set ip eng ports { type inet_service; elements = { 22, 443 }; }\n\
         add set ip eng dyn4 { type ipv4_addr; size 65535; flags dynamic; }\n",
    );

    let mut tx = Transaction::new();
    for r in engine_rules() {
        tx.add_rule(r);
    }
    let g = genid(&mut s);
    tx.commit(&mut s, GenCheck::Expect(g))
        .expect("adding the rules");

    let text = nft(&["list", "table", "ip", "eng"], None);
    assert_eq!(text, ENGINE_TABLE_TEXT, "nft prints:\n{text}");

    // Differential: nft writing the same text gives the same expressions
    // (and the engine's rules dump back exactly as they were built, except
    // for attributes the kernel fills in).
    nft_apply(&ENGINE_TABLE_TEXT.replace("table ip eng", "table ip ora"));
    let rs = dump(&mut s);
    let ours: Vec<_> = rs.rules.iter().filter(|r| r.table == "eng").collect();
    let oracle: Vec<_> = rs.rules.iter().filter(|r| r.table == "ora").collect();
    assert_eq!(ours.len(), engine_rules().len());
    assert_eq!(ours.len(), oracle.len());
    for (a, b) in ours.iter().zip(&oracle) {
        assert_eq!(a.chain, b.chain);
        assert_eq!(
            a.exprs, b.exprs,
            "chain {}: the engine's rule differs from nft's",
            a.chain
        );
        assert!(a.exprs.iter().all(Expr::is_typed), "{a:?}");
    }
}
