//! `nftguard demo`: the engine end to end in a throwaway network namespace.
//!
//! Builds a small hardened `table inet nftguard` with the rule builder,
//! commits it atomically with a generation check, prints it as nft text,
//! then shows a concurrent change being caught as a conflict and a bad
//! batch being refused by the kernel without touching anything.

use serde::Serialize;

use nftguard::engine::{get_generation, DumpFilter, GenCheck, Ruleset, Transaction};
use nftguard::netlink::{enter_netns, enter_new_netns, Socket};
use nftguard::nft::builder::{icmp_type, icmpv6_type, CtState, LimitUnit, LogSpec, RateLimit};
use nftguard::nft::{render, Chain, ChainPolicy, Family, Hook, Rule, Table};
use nftguard::Error;

use super::output::Output;
use super::{exit, CliError};

#[derive(Debug, Serialize)]
struct Step {
    state: &'static str,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

const TABLE: &str = "nftguard";

/// The demo's hardened input policy: default drop, loopback and
/// established traffic, essential ICMP/ICMPv6, rate-limited SSH and
/// rate-limited logging of what is dropped.
fn hardened_table() -> Transaction {
    let f = Family::Inet;
    let mut tx = Transaction::new();
    tx.add_table(Table::new(f, TABLE));
    tx.add_chain(Chain::base(f, TABLE, "input", Hook::Input, 0).with_policy(ChainPolicy::Drop));
    let rule = || Rule::new(f, TABLE, "input");
    let rules = [
        rule().iif("lo").accept().comment("loopback"),
        rule()
            .ip_saddr("127.0.0.0/8")
            .drop()
            .comment("spoofed loopback"),
        rule().ip6_saddr("::1").drop().comment("spoofed loopback"),
        rule().ct_state(CtState::INVALID).drop(),
        rule()
            .ct_state(CtState::ESTABLISHED | CtState::RELATED)
            .accept(),
        rule()
            .icmp_type(icmp_type::ECHO_REQUEST)
            .limit(RateLimit::packets(5, LimitUnit::Second).burst(10))
            .accept(),
        rule()
            .icmpv6_type(icmpv6_type::ND_NEIGHBOR_SOLICIT)
            .accept(),
        rule().icmpv6_type(icmpv6_type::ND_NEIGHBOR_ADVERT).accept(),
        rule()
            .tcp()
            .dport(22)
            .ct_state(CtState::NEW)
            .limit(RateLimit::packets(10, LimitUnit::Minute).burst(20))
            .accept()
            .comment("ssh"),
        rule()
            .limit(RateLimit::packets(5, LimitUnit::Minute).burst(5))
            .log(LogSpec::new().prefix("nftguard drop: "))
            .comment("log what the policy drops"),
    ];
    for r in rules {
        tx.add_rule(r);
    }
    tx
}

pub fn run(out: &Output, netns: Option<&std::path::Path>) -> Result<(), CliError> {
    let mut steps = Vec::new();
    let mut step = |out: &Output, state: &'static str, summary: String, detail: Option<String>| {
        out.say(format!("== {state}: {summary}"));
        if let Some(d) = &detail {
            out.say(d.trim_end());
        }
        steps.push(Step {
            state,
            summary,
            detail,
        });
    };

    // The whole demo runs on this thread, moved into its own namespace:
    // a fresh one that disappears when the demo ends, or (with --netns) an
    // existing one the caller can inspect afterwards.
    let place = match netns {
        Some(p) => {
            enter_netns(p)
                .map_err(|e| CliError::new(exit::OTHER, format!("{}: {e}", p.display())))?;
            format!("network namespace {}", p.display())
        }
        None => {
            enter_new_netns().map_err(|e| {
                CliError::new(
                    exit::OTHER,
                    format!("{e}: the demo needs root (or run it as `unshare -rn nftguard demo`)"),
                )
            })?;
            "fresh network namespace".to_string()
        }
    };
    let mut sock = Socket::new()?;
    if Ruleset::dump(&mut sock, &DumpFilter::table(Family::Inet, TABLE))?
        .table(Family::Inet, TABLE)
        .is_some()
    {
        return Err(CliError::new(
            exit::OTHER,
            format!("{place} already has table inet {TABLE}"),
        ));
    }
    let gen0 = get_generation(&mut sock)?.id;
    step(
        out,
        "namespace",
        format!("{place}, ruleset at generation {gen0}"),
        None,
    );

    let tx = hardened_table();
    let bytes = tx.canonical_bytes()?;
    step(
        out,
        "build",
        format!(
            "table inet {TABLE}: {} operations, one batch of {} bytes",
            tx.len(),
            bytes.len()
        ),
        None,
    );

    let done = tx.commit(&mut sock, GenCheck::Expect(gen0))?;
    let handles: Vec<String> = done.handles.iter().map(|(_, h)| h.to_string()).collect();
    step(
        out,
        "commit",
        format!(
            "committed atomically, generation {gen0} -> {}; rule handles {}",
            done.genid,
            handles.join(", ")
        ),
        None,
    );

    let live = Ruleset::dump(&mut sock, &DumpFilter::table(Family::Inet, TABLE))?;
    step(
        out,
        "ruleset",
        format!("decoded from the kernel at generation {}", live.genid),
        Some(render::nft_text(&live)),
    );

    // A second program writes between our read of the generation and our commit.
    let planned = live.genid;
    let mut other = Socket::new()?;
    let mut intruder = Transaction::new();
    intruder.add_table(Table::new(Family::Inet, "intruder"));
    intruder.commit(&mut other, GenCheck::Unconditional)?;
    let mut change = Transaction::new();
    change.add_rule(
        Rule::new(Family::Inet, TABLE, "input")
            .tcp()
            .dport(80)
            .accept(),
    );
    let conflict = match change.commit(&mut sock, GenCheck::Expect(planned)) {
        Err(e @ Error::Conflict { .. }) => e.to_string(),
        Ok(_) => {
            return Err(CliError::new(
                exit::OTHER,
                "the concurrent change was not detected",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let after = Ruleset::dump(&mut sock, &DumpFilter::table(Family::Inet, TABLE))?;
    step(
        out,
        "conflict",
        format!("planned at generation {planned}; another program committed `table inet intruder` first"),
        Some(format!(
            "{conflict}\nrules in table inet {TABLE}: {} before, {} after",
            live.rules.len(),
            after.rules.len()
        )),
    );

    let mut bad = Transaction::new();
    bad.add_rule(
        Rule::new(Family::Inet, TABLE, "input")
            .tcp()
            .dport(443)
            .accept(),
    );
    bad.add_rule(Rule::new(Family::Inet, TABLE, "input").jump("no-such-chain"));
    let gen_before = get_generation(&mut sock)?.id;
    let refused = match bad.check(&mut sock, GenCheck::Expect(gen_before)) {
        Err(e @ Error::Rejected { .. }) => e.to_string(),
        Ok(()) => {
            return Err(CliError::new(
                exit::OTHER,
                "the kernel accepted a jump to a missing chain",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let gen_after = get_generation(&mut sock)?.id;
    step(
        out,
        "check",
        "a batch with a jump to a missing chain, validated by the kernel without committing".into(),
        Some(format!(
            "{refused}\ngeneration {gen_before} before, {gen_after} after: nothing changed"
        )),
    );

    if out.is_json() {
        out.json(&serde_json::json!({ "steps": steps }));
    }
    Ok(())
}
