//! Speed check for `nftguard audit` (no criterion, no timed assertions):
//! in a throwaway network namespace, loads N rules (default 10,000: an
//! iptables-nft-like `ip filter` with 100 chains plus an `inet` table) and
//! prints the audit's wall time (median and best of 20 runs).
//!
//! `cargo run --release --example audit_speed -- [RULES]` (root).

use std::time::{Duration, Instant};

use nftguard::detect::{audit, AuditOptions, Host};
use nftguard::engine::{GenCheck, Transaction};
use nftguard::netlink::{enter_new_netns, Socket};
use nftguard::nft::expr::{Cmp, CmpOp, Meta, MetaKey, Payload, PayloadBase};
use nftguard::nft::{Chain, Family, Hook, Rule, Table};

fn main() -> nftguard::Result<()> {
    let rules: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    enter_new_netns()?;
    let mut sock = Socket::new()?;
    let mut tx = Transaction::new();
    tx.add_table(Table::new(Family::Ipv4, "filter"));
    tx.add_chain(Chain::base(Family::Ipv4, "filter", "INPUT", Hook::Input, 0));
    let chains = 100;
    for c in 0..chains {
        tx.add_chain(Chain::regular(Family::Ipv4, "filter", format!("CHAIN-{c}")));
    }
    tx.add_table(Table::new(Family::Inet, "mine"));
    tx.add_chain(Chain::base(Family::Inet, "mine", "input", Hook::Input, 0));
    for i in 0..rules {
        let rule = if i % 2 == 0 {
            Rule::new(Family::Ipv4, "filter", format!("CHAIN-{}", i % chains))
        } else {
            Rule::new(Family::Inet, "mine", "input")
        };
        // `tcp dport N counter accept`, as nft encodes it.
        let port = (i % 60_000) as u16 + 1;
        let rule = rule
            .push(Meta::load(MetaKey::L4proto, 1))
            .push(Cmp::new(1, CmpOp::Eq, vec![6]))
            .push(Payload::load(PayloadBase::Transport, 2, 2, 1))
            .push(Cmp::new(1, CmpOp::Eq, port.to_be_bytes().to_vec()))
            .counter()
            .accept();
        tx.add_rule(rule);
    }
    tx.commit(&mut sock, GenCheck::Unconditional)?;

    let host = Host::default();
    let opts = AuditOptions::default();
    let mut times: Vec<Duration> = Vec::new();
    let mut counted = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let a = audit(&mut sock, &host, &opts)?;
        times.push(t.elapsed());
        counted = a.tables.iter().map(|t| t.rules).sum::<usize>();
    }
    times.sort();
    let mut dump_times: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            let _ = nftguard::detect::tables::list_tables(&mut sock);
            t.elapsed()
        })
        .collect();
    dump_times.sort();
    println!(
        "of which the nf_tables listing (tables, chains, rule counts): median {:.1} ms",
        dump_times[dump_times.len() / 2].as_secs_f64() * 1e3
    );
    println!(
        "audit of {counted} rules: median {:.1} ms, best {:.1} ms (20 runs)",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
    Ok(())
}
