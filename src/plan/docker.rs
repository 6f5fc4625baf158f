//! Docker opt-in (`nftguard plan --docker-user [--docker-ext-if IFACE]`):
//! filtering of published container ports in Docker's `DOCKER-USER`
//! chain.
//!
//! Packets to a published port are DNATed in `table ip nat` (prerouting)
//! and then *forwarded* to the container: they never reach our input
//! chain, and Docker's own `FORWARD` rules accept them. The one place
//! Docker leaves for users is `DOCKER-USER` in `table ip filter` (jumped
//! to first from `FORWARD`). nftguard writes there only on this explicit
//! opt-in, encoded exactly as iptables-nft encodes the equivalent commands
//! ([`crate::compat::encode`]), so that `iptables-nft -S`/`-save` keep
//! parsing the table. The rules, in this order (the seed got every one of
//! these points wrong):
//!
//! ```text
//! -A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment nftguard -j RETURN
//! -A DOCKER-USER -p tcp -m conntrack --ctorigdstport 80 --ctdir ORIGINAL -m comment --comment nftguard -j RETURN
//! …one per intended inbound port (with -s when the service has a source)…
//! -A DOCKER-USER -i EXT -m comment --comment nftguard -j DROP
//! ```
//!
//! 1. established/related first: replies of connections containers open
//!    themselves come in on the external interface too;
//! 2. the allows match `ct original proto-dst` (`--ctorigdstport`), the
//!    port the client asked for *before* DNAT — after DNAT the packet's
//!    own destination port is the container's port, which is not what the
//!    policy names;
//! 3. the drop comes last and only for the external interface, so
//!    container-to-container and host-to-container traffic is untouched.
//!
//! They are inserted at the head of the chain (the older Docker versions
//! end `DOCKER-USER` with their own `-j RETURN`). Every rule carries the
//! comment `nftguard`: a later plan recognises its own rules, keeps them
//! when they are already exactly right, and otherwise deletes them (by
//! handle) in the same batch that inserts the new ones. A plan without
//! `--docker-user` deletes them (the plan is the whole desired state).
//!
//! The change is part of the same atomic batch as `table inet nftguard`;
//! the backup records the chain's rules and the rollback removes exactly
//! the handles the apply added (and re-adds what it deleted), so rules
//! Docker adds meanwhile survive ([`crate::txn::backup`]).
//!
//! Not done here: the boot unit restores only `table inet nftguard`
//! (Docker recreates `DOCKER-USER` when it starts, after the unit); a
//! warning in the plan says to re-run the plan after Docker starts.

use serde::{Deserialize, Serialize};

use super::diff::DiffEntry;
use super::intent::{Action, Direction, Intent, L4};
use super::PlanError;
use crate::compat::encode::{CtDir, CtState, IptRule, PortMatch, TargetSpec, PROTO_TCP, PROTO_UDP};
use crate::compat::xt::{XtExpr, XtInfo};
use crate::engine::Op;
use crate::nft::{Chain, Family, Rule, Ruleset, Table};

/// Docker's chain for user rules.
pub const CHAIN: &str = "DOCKER-USER";
/// The iptables table it lives in.
pub const TABLE: &str = "filter";
/// The comment that marks nftguard's rules in `DOCKER-USER`.
pub const MARK: &str = "nftguard";

/// The `--docker-user` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerUserRequest {
    /// The external interface (`--docker-ext-if`) whose new connections
    /// to published ports are dropped unless intended.
    pub ext_if: String,
}

/// What the plan does in `DOCKER-USER` (the plan's `docker_user` key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerUserPlan {
    /// The chains written (`ip filter DOCKER-USER`, and `ip6 filter
    /// DOCKER-USER` when Docker runs with IPv6).
    pub chains: Vec<String>,
    /// The external interface.
    pub ext_if: Option<String>,
    /// The rules as `iptables-nft -S` prints them, per chain, in order.
    pub rules: Vec<String>,
    /// nftguard's earlier rules deleted by this plan.
    pub removed: usize,
    /// Our rules are already exactly right: nothing changes there.
    pub unchanged: bool,
}

/// The `DOCKER-USER` part of a plan: the operations (appended to the
/// batch after our table's), the summary, diff entries and warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerUserChange {
    /// Operations for the batch.
    pub ops: Vec<Op>,
    /// The summary (`None` when the plan neither asks for `DOCKER-USER`
    /// filtering nor finds rules of ours there).
    pub summary: Option<DockerUserPlan>,
    /// Diff entries to add.
    pub add: Vec<DiffEntry>,
    /// Diff entries already live.
    pub skip: Vec<DiffEntry>,
    /// Diff entries removed.
    pub remove: Vec<DiffEntry>,
    /// Warnings for the operator.
    pub warnings: Vec<String>,
}

fn usage(s: impl Into<String>) -> PlanError {
    PlanError::Usage(s.into())
}

/// The interface of the IPv4 default route in the calling thread's
/// network namespace (`/proc/thread-self/net/route`), the default for
/// `--docker-ext-if`.
pub fn default_route_interface() -> Option<String> {
    let text = std::fs::read_to_string("/proc/thread-self/net/route").ok()?;
    default_route_in(&text)
}

/// The default route's interface in `/proc/net/route` text: the first
/// line whose destination and mask are 0 (and which is up: flag 1).
pub fn default_route_in(route_table: &str) -> Option<String> {
    route_table.lines().skip(1).find_map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        let flags = w.get(3).and_then(|f| u32::from_str_radix(f, 16).ok())?;
        (w.len() >= 8 && w[1] == "00000000" && w[7] == "00000000" && flags & 1 != 0)
            .then(|| w[0].to_string())
    })
}

/// The rules nftguard wants in `DOCKER-USER` of `family`, in order.
pub fn desired_rules(
    intent: &Intent,
    family: Family,
    ext_if: &str,
) -> Result<Vec<IptRule>, PlanError> {
    let base = || IptRule::new(family, TABLE, CHAIN);
    let mut out = vec![base()
        .ctstate(&[CtState::Related, CtState::Established])
        .comment(MARK)
        .target(TargetSpec::Return)];
    for s in &intent.services {
        if s.direction != Direction::Input || s.action != Action::Accept {
            continue;
        }
        if let Some(src) = &s.source {
            if src.is_ipv4() != (family == Family::Ipv4) {
                continue; // a source of the other family: that table's rule
            }
        }
        let protos: Vec<u8> = match s.proto {
            Some(L4::Tcp) => vec![PROTO_TCP],
            Some(L4::Udp) => vec![PROTO_UDP],
            Some(L4::Icmp | L4::Icmpv6) => continue,
            None if s.ports.is_some() => vec![PROTO_TCP, PROTO_UDP],
            None => vec![0],
        };
        for proto in protos {
            let mut r = base();
            if proto != 0 {
                r = r.proto(proto, false);
            }
            if let Some(src) = &s.source {
                r = r
                    .source(&src.to_string(), false)
                    .map_err(|e| usage(format!("--docker-user: {e}")))?;
            }
            if let Some((from, to)) = s.ports {
                r.matches
                    .push(crate::compat::encode::MatchSpec::CtOrigDstPort {
                        port: PortMatch {
                            from,
                            to,
                            invert: false,
                        },
                        dir: Some(CtDir::Original),
                    });
            }
            out.push(r.comment(MARK).target(TargetSpec::Return));
        }
    }
    out.push(
        base()
            .in_iface(ext_if, false)
            .comment(MARK)
            .target(TargetSpec::Drop),
    );
    Ok(out)
}

/// Whether `r` carries the xt comment `nftguard`.
pub fn is_ours(r: &Rule) -> bool {
    r.exprs.iter().any(|e| {
        matches!(
            XtExpr::from_expr(e, r.family),
            Some(Ok(XtExpr { info: XtInfo::Comment(ref c), .. })) if c.comment == MARK
        )
    })
}

/// Whether two rules do the same, whatever their counters' values and
/// handles (the live ones have counted packets).
fn same_rule(a: &Rule, b: &Rule) -> bool {
    let zeroed = |r: &Rule| {
        let mut r = r.clone();
        for e in &mut r.exprs {
            if let crate::nft::Expr::Counter(c) = e {
                *c = crate::nft::expr::Counter::new();
            }
        }
        crate::txn::backup::rule_signature(&r)
    };
    zeroed(a) == zeroed(b)
}

/// `DOCKER-USER` exists in `family`'s `filter` table.
fn chain_exists(live: &Ruleset, family: Family) -> bool {
    live.chains_of(family, TABLE).any(|c| c.name == CHAIN)
}

/// The rules as `iptables-nft -S` / `-save` prints them (our own reader
/// of the encoded rules, [`crate::compat::save`]).
fn save_lines(family: Family, rules: &[Rule]) -> Result<Vec<String>, PlanError> {
    let rs = Ruleset {
        tables: vec![Table::new(family, TABLE)],
        chains: vec![Chain::regular(family, TABLE, CHAIN)],
        rules: rules.to_vec(),
        ..Ruleset::default()
    };
    let text = crate::compat::save::iptables_save_with(&rs, family, false, &|i| {
        Err(crate::Error::Invalid {
            what: "ipset",
            detail: format!("no set {i} in DOCKER-USER rules"),
        })
    })?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("-A "))
        .map(str::to_string)
        .collect())
}

fn entry(family: Family, r: &IptRule) -> DiffEntry {
    let proto = match r.proto {
        Some((PROTO_TCP, _)) => "tcp",
        Some((PROTO_UDP, _)) => "udp",
        _ => "any",
    };
    let mut port = serde_json::json!("any");
    let mut matches = Vec::new();
    for m in &r.matches {
        match m {
            crate::compat::encode::MatchSpec::CtOrigDstPort { port: p, .. } => {
                port = if p.from == p.to {
                    serde_json::json!(p.from)
                } else {
                    serde_json::json!(format!("{}-{}", p.from, p.to))
                };
                matches.push("ct original proto-dst".to_string());
            }
            crate::compat::encode::MatchSpec::CtState { .. } => {
                matches.push("ct state established,related".to_string())
            }
            crate::compat::encode::MatchSpec::Comment(_) => {}
        }
    }
    if let Some(i) = &r.iniface {
        matches.push(format!("iifname {}", i.name));
    }
    DiffEntry {
        chain: CHAIN.into(),
        family: if family == Family::Ipv4 {
            "ipv4"
        } else {
            "ipv6"
        }
        .into(),
        proto: proto.into(),
        port,
        source: r
            .src
            .map_or_else(|| "any".into(), |a| format!("{}/{}", a.addr, a.prefix)),
        destination: None,
        action: match r.target {
            Some(TargetSpec::Drop) => "drop",
            _ => "return",
        }
        .into(),
        rate_limit: None,
        comment: Some(MARK.into()),
        matches: (!matches.is_empty()).then(|| matches.join("; ")),
        reason: None,
    }
}

fn live_entry(r: &Rule) -> DiffEntry {
    let mut e = super::diff::rule_entry(r);
    e.comment = Some(MARK.into());
    e
}

/// The `DOCKER-USER` part of the plan. `req` is the `--docker-user`
/// request (`None`: only remove rules of ours found there). Refused (exit
/// 2) when `--docker-user` is asked for and `ip filter DOCKER-USER` does
/// not exist (Docker is not running with its iptables backend).
pub fn change(
    req: Option<&DockerUserRequest>,
    intent: &Intent,
    live: &Ruleset,
) -> Result<DockerUserChange, PlanError> {
    let mut out = DockerUserChange::default();
    if req.is_some() && !chain_exists(live, Family::Ipv4) {
        return Err(usage(
            "--docker-user: table ip filter has no chain DOCKER-USER (is Docker running with its iptables backend?)",
        ));
    }
    let mut summary = DockerUserPlan {
        chains: Vec::new(),
        ext_if: req.map(|r| r.ext_if.clone()),
        rules: Vec::new(),
        removed: 0,
        unchanged: true,
    };
    for family in [Family::Ipv4, Family::Ipv6] {
        if !chain_exists(live, family) {
            continue;
        }
        let ours: Vec<&Rule> = live
            .rules_of(family, TABLE, CHAIN)
            .filter(|r| is_ours(r))
            .collect();
        let wanted = match req {
            Some(r) => desired_rules(intent, family, &r.ext_if)?,
            None => Vec::new(),
        };
        if wanted.is_empty() && ours.is_empty() {
            continue;
        }
        let encoded: Vec<Rule> = wanted
            .iter()
            .map(IptRule::to_rule)
            .collect::<crate::Result<_>>()?;
        summary
            .chains
            .push(format!("{} {TABLE} {CHAIN}", family.name()));
        summary.rules.extend(save_lines(family, &encoded)?);
        // Already exactly right: ours, in this order, at the head of the chain.
        let head: Vec<&Rule> = live
            .rules_of(family, TABLE, CHAIN)
            .take(encoded.len())
            .collect();
        let in_place = ours.len() == encoded.len()
            && head.len() == encoded.len()
            && head.iter().zip(&encoded).all(|(l, w)| same_rule(l, w));
        if in_place {
            for r in &wanted {
                let mut e = entry(family, r);
                e.reason = Some("already_exists".into());
                out.skip.push(e);
            }
            continue;
        }
        summary.unchanged = false;
        for r in &ours {
            if let Some(h) = r.handle {
                out.ops.push(Op::DeleteRule {
                    family,
                    table: TABLE.into(),
                    chain: CHAIN.into(),
                    handle: h,
                });
                out.remove.push(live_entry(r));
                summary.removed += 1;
            }
        }
        // Each insert goes to the head: insert in reverse to end up in order.
        for r in encoded.into_iter().rev() {
            out.ops.push(Op::InsertRule(r));
        }
        out.add.extend(wanted.iter().map(|r| entry(family, r)));
    }
    if req.is_none() && summary.removed > 0 {
        out.warnings.push(format!(
            "this plan has no --docker-user: it deletes nftguard's {} earlier rule(s) from DOCKER-USER",
            summary.removed
        ));
    }
    if req.is_some() {
        if !chain_exists(live, Family::Ipv6) {
            out.warnings.push(
                "no ip6 filter DOCKER-USER chain: only IPv4 published ports are filtered".into(),
            );
        }
        out.warnings.push(
            "DOCKER-USER rules are not restored at boot by nftguard-restore.service (Docker recreates the chain after it); plan and apply again with --docker-user once Docker runs"
                .into(),
        );
    }
    if !summary.chains.is_empty() {
        out.summary = Some(summary);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_route_is_read_from_proc_net_route() {
        let t =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                 eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                 ens3\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        assert_eq!(default_route_in(t).as_deref(), Some("ens3"));
        assert_eq!(default_route_in("Iface\tDestination\n"), None);
    }
}
