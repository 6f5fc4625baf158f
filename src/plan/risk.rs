//! The plan's risk assessment: can the operator still reach SSH, do
//! established sessions survive, what else on the host filters the same
//! packets, and how disruptive the change is.
//!
//! The check walks the *desired* chains of our table with the operator's
//! own packet (source address from `SSH_CONNECTION`/`SSH_CLIENT`), and the
//! live base chains of every other table on the input hook: an accept in
//! our table ends only our chain, a drop anywhere is final (KERNEL.md,
//! "Verdicts across tables").

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::diff::{policy_entry, rule_entry, Diff, DiffEntry};
use super::intent::Intent;
use crate::detect::Audit;
use crate::nft::{Family, Hook, Ruleset};

/// The operator's SSH session, from `SSH_CONNECTION` (`client_ip
/// client_port server_ip server_port`) or `SSH_CLIENT` (`client_ip
/// client_port server_port`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSession {
    /// The operator's source address.
    pub source: IpAddr,
    /// The server port the session is connected to, when known.
    pub server_port: Option<u16>,
}

impl OperatorSession {
    /// From this process's environment.
    pub fn from_env() -> Option<Self> {
        Self::parse(
            std::env::var("SSH_CONNECTION").ok().as_deref(),
            std::env::var("SSH_CLIENT").ok().as_deref(),
        )
    }

    /// From the values of `SSH_CONNECTION` and `SSH_CLIENT` (the first that
    /// parses wins). IPv4-mapped IPv6 sources are read as IPv4.
    pub fn parse(ssh_connection: Option<&str>, ssh_client: Option<&str>) -> Option<Self> {
        let addr = |s: &str| -> Option<IpAddr> {
            let a: IpAddr = s
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .ok()?;
            Some(match a {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
                v4 => v4,
            })
        };
        if let Some(c) = ssh_connection {
            let f: Vec<&str> = c.split_whitespace().collect();
            if f.len() == 4 {
                if let Some(source) = addr(f[0]) {
                    return Some(OperatorSession {
                        source,
                        server_port: f[3].parse().ok(),
                    });
                }
            }
        }
        let c = ssh_client?;
        let f: Vec<&str> = c.split_whitespace().collect();
        if f.len() != 3 {
            return None;
        }
        Some(OperatorSession {
            source: addr(f[0])?,
            server_port: f[2].parse().ok(),
        })
    }
}

/// `risk_assessment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Nothing risky found.
    Low,
    /// Reachability could not be proven, or defaults tighten.
    Medium,
    /// SSH from the operator's source is not provably allowed, or
    /// established sessions would be cut.
    High,
}

impl RiskLevel {
    /// The JSON word.
    pub fn name(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }
}

/// The outcome of the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// `risk_assessment`.
    pub level: RiskLevel,
    /// `estimated_disruption`: `none`, `low`, `medium` or `high`.
    pub estimated_disruption: String,
    /// Why the level is what it is.
    pub reasons: Vec<String>,
    /// Things to know (become plan warnings).
    pub warnings: Vec<String>,
}

/// A packet the assessment follows.
#[derive(Debug, Clone, Copy)]
struct Probe {
    source: IpAddr,
    dport: u16,
    state: &'static str,
}

/// What a chain does to a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accept(Option<String>),
    Drop(String),
    Unknown(String),
}

#[derive(PartialEq, Eq)]
enum Hit {
    Yes,
    No,
    Maybe,
}

fn family_hit(family: &str, src: IpAddr) -> Hit {
    match (family, src) {
        ("inet", _) | ("ipv4", IpAddr::V4(_)) | ("ipv6", IpAddr::V6(_)) => Hit::Yes,
        ("ipv4" | "ipv6", _) => Hit::No,
        _ => Hit::Maybe,
    }
}

fn net_hit(text: &str, addr: IpAddr) -> Hit {
    if text == "any" {
        return Hit::Yes;
    }
    let (neg, body) = match text.strip_prefix('!') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let net = if body.contains('/') {
        crate::policy::IpNet::parse(body).ok()
    } else {
        body.parse::<IpAddr>()
            .ok()
            .and_then(|a| crate::policy::IpNet::new(a, if a.is_ipv4() { 32 } else { 128 }).ok())
    };
    match net {
        None => Hit::Maybe,
        Some(n) if n.contains(addr) != neg => Hit::Yes,
        Some(_) => Hit::No,
    }
}

fn port_hit(port: &serde_json::Value, dport: u16) -> Hit {
    match port {
        serde_json::Value::String(s) if s == "any" => Hit::Yes,
        serde_json::Value::Number(n) => {
            if n.as_u64() == Some(u64::from(dport)) {
                Hit::Yes
            } else {
                Hit::No
            }
        }
        serde_json::Value::String(s) => match s.split_once('-') {
            Some((a, b)) => match (a.parse::<u16>(), b.parse::<u16>()) {
                (Ok(a), Ok(b)) if (a..=b).contains(&dport) => Hit::Yes,
                (Ok(_), Ok(_)) => Hit::No,
                _ => Hit::Maybe,
            },
            None => Hit::Maybe,
        },
        _ => Hit::Maybe,
    }
}

fn condition_hit(cond: &str, p: &Probe) -> Hit {
    if let Some(states) = cond.strip_prefix("ct state ! ") {
        return if states.split(',').any(|s| s == p.state) {
            Hit::No
        } else {
            Hit::Yes
        };
    }
    if let Some(states) = cond.strip_prefix("ct state ") {
        return if states.split(',').any(|s| s == p.state) {
            Hit::Yes
        } else {
            Hit::No
        };
    }
    match cond {
        // The operator's packets never arrive on lo.
        "iif lo" => Hit::No,
        "iif != lo" => Hit::Yes,
        _ => Hit::Maybe,
    }
}

fn entry_hit(e: &DiffEntry, p: &Probe) -> Hit {
    let mut all = vec![
        family_hit(&e.family, p.source),
        if e.proto == "any" || e.proto == "tcp" {
            Hit::Yes
        } else {
            Hit::No
        },
        port_hit(&e.port, p.dport),
        net_hit(&e.source, p.source),
    ];
    if e.destination.is_some() {
        all.push(Hit::Maybe);
    }
    if let Some(m) = &e.matches {
        all.extend(m.split("; ").map(|c| condition_hit(c, p)));
    }
    if all.contains(&Hit::No) {
        Hit::No
    } else if all.contains(&Hit::Maybe) {
        Hit::Maybe
    } else {
        Hit::Yes
    }
}

/// Walks one base chain's entries (its policy entry first, as
/// [`super::diff::table_entries`] lists them).
fn walk(entries: &[&DiffEntry], p: &Probe, where_: &str) -> Outcome {
    let mut default = Outcome::Accept(None);
    let mut maybe_accept = None;
    for e in entries {
        if e.is_policy() {
            default = if e.action == "drop" {
                Outcome::Drop(format!("the default policy of {where_} is drop"))
            } else {
                Outcome::Accept(None)
            };
            continue;
        }
        let hit = entry_hit(e, p);
        if hit == Hit::No {
            continue;
        }
        let describe = || {
            e.comment.clone().map_or_else(
                || format!("a rule of {where_}"),
                |c| format!("rule \"{c}\" of {where_}"),
            )
        };
        match (hit, e.action.as_str()) {
            (Hit::Yes, "accept") => return Outcome::Accept(e.rate_limit.clone()),
            (Hit::Yes, "drop" | "reject") => return Outcome::Drop(describe()),
            (Hit::Yes | Hit::Maybe, "log" | "continue") => {}
            (Hit::Maybe, "accept") => {
                maybe_accept.get_or_insert_with(describe);
            }
            (_, action) => {
                return Outcome::Unknown(format!(
                    "{} may decide ({action}) in a way nftguard cannot follow here",
                    describe()
                ))
            }
        }
    }
    match (default, maybe_accept) {
        (Outcome::Drop(_), Some(rule)) => Outcome::Unknown(format!(
            "only {rule} might accept it, under conditions nftguard cannot check"
        )),
        (d, _) => d,
    }
}

/// Everything the assessment looks at.
pub struct RiskInput<'a> {
    /// The intent (SSH port, defaults).
    pub intent: &'a Intent,
    /// Entries of the desired table.
    pub desired: &'a [DiffEntry],
    /// Entries of the live table of ours (empty when absent).
    pub live_ours: &'a [DiffEntry],
    /// The live ruleset (foreign tables).
    pub live: &'a Ruleset,
    /// The diff.
    pub diff: &'a Diff,
    /// The audit.
    pub audit: &'a Audit,
    /// The operator's session, if any.
    pub operator: Option<&'a OperatorSession>,
    /// The table we manage.
    pub our_table: (Family, &'a str),
}

fn chain_entries<'e>(entries: &'e [DiffEntry], chain: &str) -> Vec<&'e DiffEntry> {
    entries.iter().filter(|e| e.chain == chain).collect()
}

fn default_of(entries: &[DiffEntry], chain: &str) -> Option<String> {
    entries
        .iter()
        .find(|e| e.chain == chain && e.is_policy())
        .map(|e| e.action.clone())
}

/// Assesses the risk of the change.
pub fn assess(input: &RiskInput<'_>) -> Risk {
    let mut level = RiskLevel::Low;
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    let mut raise = |to: RiskLevel, why: String, level: &mut RiskLevel| {
        if to > *level {
            *level = to;
        }
        reasons.push(why);
    };
    let ssh_port = input.intent.ssh_port;
    let dport = input
        .operator
        .and_then(|o| o.server_port)
        .unwrap_or(ssh_port);
    if dport != ssh_port {
        warnings.push(format!(
            "your SSH session is connected to port {dport}, but the plan keeps SSH on port {ssh_port} (use --ssh-port {dport} if that is the port to keep)"
        ));
    }
    let sources: Vec<(IpAddr, bool)> = match input.operator {
        Some(o) => vec![(o.source, true)],
        // Documentation addresses stand for "somewhere on the Internet".
        None => vec![
            (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), false),
            (
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 10)),
                false,
            ),
        ],
    };
    let input_chain = chain_entries(input.desired, "input");
    for (source, known) in &sources {
        let who = if *known {
            format!("your address {source}")
        } else {
            format!("an arbitrary address ({source})")
        };
        let new = Probe {
            source: *source,
            dport,
            state: "new",
        };
        match walk(&input_chain, &new, "table inet nftguard chain input") {
            Outcome::Accept(limit) => {
                if let Some(l) = limit {
                    warnings.push(format!(
                        "new SSH connections from {who} are rate-limited to {l}"
                    ));
                }
            }
            Outcome::Drop(why) if *known => raise(
                RiskLevel::High,
                format!("a new SSH connection to port {dport} from {who} would be dropped ({why})"),
                &mut level,
            ),
            Outcome::Drop(why) => raise(
                RiskLevel::Medium,
                format!(
                    "SSH to port {dport} is not open to {who} ({why}); no SSH_CONNECTION in the environment, so nftguard cannot check that your own address is allowed"
                ),
                &mut level,
            ),
            Outcome::Unknown(why) => raise(
                RiskLevel::High,
                format!("SSH to port {dport} from {who} is not provably allowed: {why}"),
                &mut level,
            ),
        }
        let established = Probe {
            state: "established",
            ..new
        };
        if let Outcome::Drop(why) | Outcome::Unknown(why) = walk(
            &input_chain,
            &established,
            "table inet nftguard chain input",
        ) {
            raise(
                RiskLevel::High,
                format!("established sessions from {who} could be cut: {why}"),
                &mut level,
            );
        }
        // Foreign base chains on the input hook.
        for c in &input.live.chains {
            if (c.family, c.table.as_str()) == input.our_table || c.hook_kind() != Some(Hook::Input)
            {
                continue;
            }
            let covers = matches!(
                (c.family, source),
                (Family::Inet, _) | (Family::Ipv4, IpAddr::V4(_)) | (Family::Ipv6, IpAddr::V6(_))
            );
            if !covers {
                continue;
            }
            let mut entries: Vec<DiffEntry> = policy_entry(c).into_iter().collect();
            entries.extend(
                input
                    .live
                    .rules_of(c.family, &c.table, &c.name)
                    .map(rule_entry),
            );
            let refs: Vec<&DiffEntry> = entries.iter().collect();
            let where_ = format!("table {} {} chain {}", c.family, c.table, c.name);
            let jumps: Vec<String> = entries
                .iter()
                .filter_map(|e| e.action.strip_prefix("jump ").map(str::to_string))
                .collect();
            let via = if jumps.is_empty() {
                String::new()
            } else {
                format!(" (it jumps to {})", jumps.join(", "))
            };
            match walk(&refs, &new, &where_) {
                Outcome::Accept(_) => {}
                Outcome::Drop(why) => {
                    warnings.push(format!(
                        "an accept in our table cannot override the drop in {where_}{via}"
                    ));
                    raise(
                        if *known {
                            RiskLevel::High
                        } else {
                            RiskLevel::Medium
                        },
                        format!("SSH from {who} would be dropped by {why}"),
                        &mut level,
                    );
                }
                Outcome::Unknown(why) => {
                    let may_drop = entries
                        .iter()
                        .any(|e| e.action == "drop" || e.action == "reject");
                    if may_drop {
                        warnings.push(format!(
                            "an accept in our table cannot override the drop in {where_}{via}"
                        ));
                    }
                    raise(
                        RiskLevel::Medium,
                        format!("{where_} also filters SSH from {who}: {why}"),
                        &mut level,
                    );
                }
            }
        }
    }

    // Defaults that tighten.
    let mut tightening = false;
    for chain in ["input", "output", "forward"] {
        let before = default_of(input.live_ours, chain).unwrap_or_else(|| "accept".into());
        let after = default_of(input.desired, chain).unwrap_or_else(|| "accept".into());
        if before != "drop" && after == "drop" {
            tightening = true;
            let what = match chain {
                "input" => "new inbound connections to ports not in the plan will be refused",
                "output" => "outbound connections not in the plan will be refused",
                _ => "forwarded traffic will be dropped",
            };
            raise(
                RiskLevel::Medium,
                format!("the {chain} default changes to drop: {what}"),
                &mut level,
            );
        }
    }

    if input.audit.docker_host {
        warnings.push(
            "Docker publishes container ports past the host firewall: published ports are DNAT-ed in prerouting and forwarded, so the input chain of table inet nftguard never sees them; filter them in DOCKER-USER (match ct original proto-dst, after an established accept)".into(),
        );
    }

    let removes_accept = input.diff.remove.iter().any(|e| e.action == "accept");
    let estimated_disruption = if input.diff.is_empty() {
        "none"
    } else if level == RiskLevel::High {
        "high"
    } else if tightening || removes_accept {
        "medium"
    } else {
        "low"
    };
    Risk {
        level,
        estimated_disruption: estimated_disruption.into(),
        reasons,
        warnings,
    }
}
