//! Codec micro-benchmarks: encoding and decoding one rule of the shape
//! `ip saddr A tcp dport P counter accept`, as in a large batch.

use std::net::Ipv4Addr;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use nftguard::engine::Transaction;
use nftguard::netlink::{AttrWriter, MessageIter};
use nftguard::nft::expr::{Cmp, CmpOp, Meta, MetaKey, Payload, PayloadBase};
use nftguard::nft::{Family, Rule};

fn rule(i: u32) -> Rule {
    let addr = Ipv4Addr::from(0x0a00_0000 | i);
    let port = 1024 + (i % 60_000) as u16;
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

fn bench(c: &mut Criterion) {
    const N: u32 = 10_000;
    let rules: Vec<Rule> = (0..N).map(rule).collect();
    let mut tx = Transaction::new();
    for r in &rules {
        tx.add_rule(r.clone());
    }

    let mut g = c.benchmark_group("rule");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("encode batch of 10k rules", |b| {
        b.iter(|| black_box(tx.encode(1, 0, true, false).map(|v| v.len()).unwrap_or(0)))
    });
    let mut one = Vec::new();
    g.bench_function("emit 10k rules into one buffer", |b| {
        b.iter(|| {
            one.clear();
            let mut w = AttrWriter::new(&mut one);
            for r in &rules {
                let _ = r.emit(&mut w);
            }
            black_box(one.len())
        })
    });
    let batch = tx.encode(1, 0, true, false).unwrap_or_default();
    g.bench_function("decode 10k rule messages", |b| {
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

criterion_group!(benches, bench);
criterion_main!(benches);
