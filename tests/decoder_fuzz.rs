//! The decoder never panics: mutation tests over real dump bytes.
//!
//! The seeds are the raw kernel messages of the expression corpus (tables,
//! chains, rules of five families, and every expression element inside the
//! rules). Each case applies one to four mutations — bit flips, byte
//! overwrites, insertions, deletions, attribute-length corruption,
//! truncation, splicing with another seed — and feeds the result to
//! `Table/Chain/Rule::parse`, `Expr::decode`, `MessageIter` and a recursive
//! `AttrIter` walk. Nothing may panic; whatever parses must re-encode, and
//! re-encoding and parsing again must give the same object.
//!
//! Deterministic: a fixed seed (override with `NFTGUARD_FUZZ_SEED`) and
//! 200,000 cases (override with `NFTGUARD_FUZZ_CASES`). A tiny in-test PRNG
//! keeps this free of dependencies.

// Test code: failing loudly on unexpected errors is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::*;
use nftguard::netlink::{AttrIter, AttrWriter, MessageIter};
use nftguard::nft::consts::{msg, NFTA_LIST_ELEM, NFTA_RULE_EXPRESSIONS};
use nftguard::nft::{Chain, Expr, Family, Rule, Table};

/// splitmix64: small, fast and good enough to drive mutations.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What a seed is, to know which parser it was meant for.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Table,
    Chain,
    Rule,
    /// One `NFTA_LIST_ELEM` payload (name + data of an expression).
    Expr,
    /// Whole netlink messages, as a dump delivers them.
    Messages,
}

struct Seed {
    kind: Kind,
    family: Family,
    bytes: Vec<u8>,
}

/// A netlink message: header, nfgenmsg, attributes.
fn message(kind: u16, family: Family, attrs: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&msg::nft(kind).to_ne_bytes());
    m.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTI
    m.extend_from_slice(&7u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // port id
    m.extend_from_slice(&[family.number(), 0, 0, 1]);
    m.extend_from_slice(attrs);
    m
}

fn collect_seeds() -> Vec<Seed> {
    netns();
    let raw = corpus_raw_dump();
    let mut seeds = Vec::new();
    let mut all_messages = Vec::new();
    for (kind, newkind, objs) in [
        (Kind::Table, msg::NEWTABLE, &raw.tables),
        (Kind::Chain, msg::NEWCHAIN, &raw.chains),
        (Kind::Rule, msg::NEWRULE, &raw.rules),
    ] {
        for o in objs {
            seeds.push(Seed {
                kind,
                family: o.family,
                bytes: o.attrs.clone(),
            });
            let m = message(newkind, o.family, &o.attrs);
            seeds.push(Seed {
                kind: Kind::Messages,
                family: o.family,
                bytes: m.clone(),
            });
            all_messages.extend_from_slice(&m);
        }
    }
    // Every expression element of every rule.
    for r in &raw.rules {
        for a in AttrIter::new(&r.attrs) {
            let a = a.unwrap();
            if a.kind() == NFTA_RULE_EXPRESSIONS {
                for e in a.nested() {
                    let e = e.unwrap();
                    assert_eq!(e.kind(), NFTA_LIST_ELEM);
                    seeds.push(Seed {
                        kind: Kind::Expr,
                        family: r.family,
                        bytes: e.payload.to_vec(),
                    });
                }
            }
        }
    }
    // One buffer holding every message, like a multi-part dump.
    seeds.push(Seed {
        kind: Kind::Messages,
        family: Family::Unspec,
        bytes: all_messages,
    });
    seeds
}

fn mutate(rng: &mut Prng, seeds: &[Seed], input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            b.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(b.len());
        match rng.below(8) {
            // Bit flip.
            0 => b[at] ^= 1 << rng.below(8),
            // Byte overwrite, often with a boundary value.
            1 => b[at] = [0, 1, 3, 4, 0x7f, 0x80, 0xff, rng.next() as u8][rng.below(8)],
            // Insert 1..8 random bytes.
            2 => {
                let n = 1 + rng.below(8);
                let ins: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                b.splice(at..at, ins);
            }
            // Delete 1..8 bytes.
            3 => {
                let end = (at + 1 + rng.below(8)).min(b.len());
                b.drain(at..end);
            }
            // Corrupt a length field: attribute and message headers start
            // on 4-byte boundaries with the length first.
            4 => {
                let at = at & !3;
                if at + 2 <= b.len() {
                    let old = u16::from_ne_bytes([b[at], b[at + 1]]);
                    let new = match rng.below(5) {
                        0 => 0,
                        1 => old.wrapping_add(1 + rng.below(8) as u16),
                        2 => old.wrapping_sub(1 + rng.below(8) as u16),
                        3 => u16::MAX,
                        _ => rng.next() as u16,
                    };
                    b[at..at + 2].copy_from_slice(&new.to_ne_bytes());
                }
            }
            // Truncate.
            5 => b.truncate(at),
            // Splice: overwrite or insert a slice of another seed.
            6 => {
                let other = &seeds[rng.below(seeds.len())].bytes;
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let to = (from + 1 + rng.below(64)).min(other.len());
                    if rng.below(2) == 0 {
                        b.splice(at..at, other[from..to].iter().copied());
                    } else {
                        let end = (at + (to - from)).min(b.len());
                        b.splice(at..end, other[from..to].iter().copied());
                    }
                }
            }
            // Duplicate a chunk (repeated attributes).
            _ => {
                let end = (at + 4 + rng.below(32)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(end..end, chunk);
            }
        }
    }
    b
}

/// Reads every attribute as every scalar type and recurses into it as if
/// it were a nest.
fn walk_attrs(bytes: &[u8], depth: usize) {
    for a in AttrIter::new(bytes) {
        let Ok(a) = a else { return };
        let _ = (
            a.u8(),
            a.be16(),
            a.be32(),
            a.be64(),
            a.strz(),
            a.is_nested(),
        );
        if depth < 8 {
            walk_attrs(a.payload, depth + 1);
        }
    }
}

fn emit_with<F: FnOnce(&mut AttrWriter<'_>) -> nftguard::Result<()>>(f: F) -> Vec<u8> {
    let mut buf = Vec::new();
    f(&mut AttrWriter::new(&mut buf)).expect("a parsed object re-encodes");
    buf
}

/// Parses `attrs` as every object kind; whatever parses must re-encode and
/// parse back to the same object.
fn check_object(family: Family, attrs: &[u8]) {
    if let Ok(t) = Table::parse(family, attrs) {
        let again = emit_with(|w| t.emit(w));
        assert_eq!(Table::parse(family, &again).expect("re-parse"), t);
    }
    if let Ok(c) = Chain::parse(family, attrs) {
        let again = emit_with(|w| c.emit(w));
        assert_eq!(Chain::parse(family, &again).expect("re-parse"), c);
    }
    if let Ok(r) = Rule::parse(family, attrs) {
        let again = emit_with(|w| r.emit(w));
        assert_eq!(Rule::parse(family, &again).expect("re-parse"), r);
    }
}

/// Decodes one expression element; a typed result must reproduce the
/// input exactly (that is the condition for keeping it typed).
fn check_expr(bytes: &[u8]) {
    if let Ok(e) = Expr::decode(bytes) {
        let again = emit_with(|w| e.encode(w));
        if e.is_typed() {
            assert_eq!(again, bytes, "a typed expression must re-encode exactly");
        }
        let back = Expr::decode(&again).expect("re-decode");
        assert_eq!(back.is_typed(), e.is_typed());
        if e.is_typed() {
            assert_eq!(back, e);
        }
    }
}

fn check_messages(bytes: &[u8]) {
    for m in MessageIter::new(bytes) {
        let Ok(m) = m else { return };
        if let Ok((family, _, _, attrs)) = m.nfgen() {
            check_object(Family::from_number(family), attrs);
        }
    }
}

fn check(kind: Kind, family: Family, bytes: &[u8]) {
    walk_attrs(bytes, 0);
    match kind {
        Kind::Messages => check_messages(bytes),
        Kind::Expr => check_expr(bytes),
        Kind::Table | Kind::Chain | Kind::Rule => {
            check_object(family, bytes);
            check_messages(bytes);
        }
    }
    // Every input also goes through the parsers it was not meant for.
    if !matches!(kind, Kind::Expr) {
        check_expr(bytes);
    } else {
        check_object(family, bytes);
    }
}

/// Whether the input still parses as the kind of object its seed was.
fn still_parses(kind: Kind, family: Family, bytes: &[u8]) -> bool {
    match kind {
        Kind::Table => Table::parse(family, bytes).is_ok(),
        Kind::Chain => Chain::parse(family, bytes).is_ok(),
        Kind::Rule => Rule::parse(family, bytes).is_ok(),
        Kind::Expr => Expr::decode(bytes).is_ok(),
        Kind::Messages => MessageIter::new(bytes).all(|m| m.is_ok()),
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn decoders_survive_mutated_dumps() {
    let seeds = collect_seeds();
    assert!(seeds.len() > 300, "{} seeds", seeds.len());
    // The unmutated seeds satisfy the properties too.
    for s in &seeds {
        check(s.kind, s.family, &s.bytes);
    }

    let seed = env_u64("NFTGUARD_FUZZ_SEED", 0x6e66_7467_7561_7264);
    let cases = env_u64("NFTGUARD_FUZZ_CASES", 200_000);
    let mut rng = Prng(seed);
    let mut still_parsed = 0u64;
    for case in 0..cases {
        let s = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, &seeds, &s.bytes);
        let outcome = catch_unwind(AssertUnwindSafe(|| check(s.kind, s.family, &input)));
        if outcome.is_err() {
            panic!(
                "case {case} (seed {seed:#x}, {:?}, family {}) panicked on input {:02x?}",
                s.kind, s.family, input
            );
        }
        if still_parses(s.kind, s.family, &input) {
            still_parsed += 1;
        }
    }
    println!("{cases} mutated inputs, {still_parsed} of them still parsed as what they were");
    // The mutations must not be so destructive that nothing parses: then the
    // re-encoding properties are exercised too, not only the error paths.
    assert!(
        still_parsed > cases / 10,
        "only {still_parsed} mutated inputs parsed"
    );
}
