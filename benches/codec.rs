//! Codec micro-benchmarks: encoding and decoding rules of the shape
//! `ip saddr A tcp dport P counter accept` (10k per iteration, so the
//! median per rule is the iteration's median / 10k), and encoding ipv4 set
//! elements (100k per iteration), through the typed `Transaction` and the
//! streaming `BatchBuilder`, and loading the same rules from libnftables
//! JSON (`engine::load`, 10k rules per document). `benches/RESULTS.md`
//! reports the medians per item (`scripts/bench` reads criterion's
//! estimates).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use nftguard::engine::load::load_json;
use nftguard::engine::{BatchBuilder, Op, Transaction};
use nftguard::netlink::{AttrWriter, MessageIter};
use nftguard::nft::expr::{Cmp, CmpOp, Meta, MetaKey, Payload, PayloadBase};
use nftguard::nft::{ElementList, Family, Rule, Set, SetElement, Table};

fn addr(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 | i)
}

fn port(i: u32) -> u16 {
    1024 + (i % 60_000) as u16
}

fn rule(i: u32) -> Rule {
    let (addr, port) = (addr(i), port(i));
    Rule::new(Family::Ipv4, "bench", "input")
        .push(Payload::load(PayloadBase::Network, 12, 4, 1))
        .push(Cmp::new(1, CmpOp::Eq, addr.octets().to_vec()))
        .push(Meta::load(MetaKey::L4proto, 1))
        .push(Cmp::new(1, CmpOp::Eq, vec![6]))
        .push(Payload::load(PayloadBase::Transport, 2, 2, 1))
        .push(Cmp::new(1, CmpOp::Eq, port.to_be_bytes().to_vec()))
        .counter()
        .accept()
}

fn rules(c: &mut Criterion) {
    const N: u32 = 10_000;
    let rules: Vec<Rule> = (0..N).map(rule).collect();
    let mut tx = Transaction::new();
    for r in &rules {
        tx.add_rule(r.clone());
    }

    let mut g = c.benchmark_group("rule");
    g.throughput(Throughput::Elements(N as u64));
    // Whole batch: BEGIN, 10k NEWRULE messages, END.
    g.bench_function("encode_batch", |b| {
        b.iter(|| black_box(tx.encode(1, 0, true, false).map(|v| v.len()).unwrap_or(0)))
    });
    // The rule attributes alone, into one reused buffer.
    let mut one = Vec::new();
    g.bench_function("emit", |b| {
        b.iter(|| {
            one.clear();
            let mut w = AttrWriter::new(&mut one);
            for r in &rules {
                let _ = r.emit(&mut w);
            }
            black_box(one.len())
        })
    });
    // The bulk path: each operation encoded as it is added (the per-op
    // record included), into a buffer sized up front.
    let ops: Vec<Op> = tx.ops().to_vec();
    g.bench_function("batch_builder", |b| {
        b.iter(|| {
            let mut bb = BatchBuilder::with_capacity(N as usize * 420);
            for op in &ops {
                bb.push_ref(op);
            }
            black_box(bb.encoded_len())
        })
    });
    let batch = tx.encode(1, 0, true, false).unwrap_or_default();
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for m in MessageIter::new(&batch).flatten() {
                if let Ok((fam, _, _, attrs)) = m.nfgen() {
                    if let Ok(r) = Rule::parse(Family::from_number(fam), attrs) {
                        n += r.exprs.len();
                    }
                }
            }
            black_box(n)
        })
    });
    g.finish();
}

fn set_elements(c: &mut Criterion) {
    const N: u32 = 100_000;
    let elements = (0..N)
        .map(|i| SetElement::new(Ipv4Addr::from(0x0a00_0000 | i).octets().to_vec()))
        .collect();
    let mut tx = Transaction::new();
    tx.add_table(Table::new(Family::Ipv4, "bench"));
    tx.add_set(Set::new(Family::Ipv4, "bench", "s", 7, 4));
    tx.add_elements(ElementList::new(Family::Ipv4, "bench", "s", elements));

    let mut g = c.benchmark_group("set");
    g.throughput(Throughput::Elements(N as u64));
    // Split into as many NEWSETELEM messages as the 64 KiB limit needs.
    g.bench_function("encode_elements", |b| {
        b.iter(|| black_box(tx.encode(1, 0, true, false).map(|v| v.len()).unwrap_or(0)))
    });
    // The bulk path: keys streamed from an iterator, no `SetElement`s.
    g.bench_function("element_keys", |b| {
        b.iter(|| {
            let mut bb = BatchBuilder::with_capacity(N as usize * 16 + 4096);
            bb.add_element_keys(
                Family::Ipv4,
                "bench",
                "s",
                (0..N).map(|i| Ipv4Addr::from(0x0a00_0000 | i).octets()),
            );
            black_box(bb.encoded_len())
        })
    });
    g.finish();
}

/// The rules of [`rule`] as an `nft -j list ruleset` document (table,
/// chain, then one `rule` object per rule).
fn json_document(n: u32) -> String {
    let mut s = String::with_capacity(260 * n as usize + 256);
    s.push_str(
        r#"{"nftables": [{"table": {"family": "ip", "name": "bench"}}, {"chain": {"family": "ip", "table": "bench", "name": "input", "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}"#,
    );
    for i in 0..n {
        let _ = write!(
            s,
            r#", {{"rule": {{"family": "ip", "table": "bench", "chain": "input", "expr": [{{"match": {{"op": "==", "left": {{"payload": {{"protocol": "ip", "field": "saddr"}}}}, "right": "{}"}}}}, {{"match": {{"op": "==", "left": {{"payload": {{"protocol": "tcp", "field": "dport"}}}}, "right": {}}}}}, {{"counter": null}}, {{"accept": null}}]}}}}"#,
            addr(i),
            port(i)
        );
    }
    s.push_str("]}");
    s
}

fn json_load(c: &mut Criterion) {
    const N: u32 = 10_000;
    let doc = json_document(N);
    // The document must load (table, chain, N rules), or the numbers
    // below would time an error path.
    match load_json(&doc) {
        Ok(tx) if tx.len() == N as usize + 2 => {}
        Ok(tx) => panic!("JSON document loaded {} operations", tx.len()),
        Err(e) => panic!("JSON document does not load: {e}"),
    }
    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Elements(N as u64));
    // Text to a typed `Transaction` (serde_json parse, path-checked
    // conversion, dependency ordering).
    g.bench_function("load", |b| {
        b.iter(|| black_box(load_json(&doc).map(|tx| tx.len()).unwrap_or(0)))
    });
    // Text to the encoded batch `nftguard load` sends.
    g.bench_function("load_encode", |b| {
        b.iter(|| {
            black_box(
                load_json(&doc)
                    .map(|tx| tx.encode(1, 0, true, false).map_or(0, |v| v.len()))
                    .unwrap_or(0),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, rules, set_elements, json_load);
criterion_main!(benches);
