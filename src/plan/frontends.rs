//! When ufw or firewalld owns the policy, nftguard does not write: the plan
//! is read-only, lists the equivalent `ufw …` / `firewall-cmd …` commands
//! for the operator, and `apply` refuses (exit 10).

use super::diff::{rule_entry, DiffEntry};
use super::intent::{Action, Direction, Intent, Service, L4};
use crate::nft::{Family, Ruleset};

/// A frontend that owns the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frontend {
    /// ufw.
    Ufw,
    /// firewalld.
    Firewalld,
}

impl Frontend {
    /// From the audit's `active_frontend`.
    pub fn from_audit(active_frontend: &str) -> Option<Frontend> {
        match active_frontend {
            "ufw" => Some(Frontend::Ufw),
            "firewalld" => Some(Frontend::Firewalld),
            _ => None,
        }
    }

    /// The backend name in the plan.
    pub fn name(self) -> &'static str {
        match self {
            Frontend::Ufw => "ufw",
            Frontend::Firewalld => "firewalld",
        }
    }
}

fn ports_text(s: &Service, sep: char) -> Option<String> {
    s.ports.map(|(a, b)| {
        if a == b {
            a.to_string()
        } else {
            format!("{a}{sep}{b}")
        }
    })
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn ufw_service(s: &Service) -> Option<String> {
    let verb = match s.action {
        Action::Accept if s.rate_limit.is_some() => "limit",
        Action::Accept => "allow",
        Action::Drop => "deny",
        Action::Reject => "reject",
    };
    let dir = match s.direction {
        Direction::Input => "in",
        Direction::Output => "out",
    };
    let mut cmd = format!("ufw {verb} {dir}");
    if let Some(i) = &s.interface {
        cmd.push_str(&format!(" on {}", quote(i)));
    }
    let proto = match s.proto {
        Some(L4::Tcp) => Some("tcp"),
        Some(L4::Udp) => Some("udp"),
        // ufw handles ICMP in before.rules, not with commands.
        Some(L4::Icmp | L4::Icmpv6) => return None,
        None => None,
    };
    if let Some(p) = proto {
        cmd.push_str(&format!(" proto {p}"));
    }
    let from = s.source.map_or("any".to_string(), |n| n.to_string());
    let to = s.destination.map_or("any".to_string(), |n| n.to_string());
    cmd.push_str(&format!(" from {from} to {to}"));
    if let Some(p) = ports_text(s, ':') {
        cmd.push_str(&format!(" port {p}"));
    }
    if !s.comment.is_empty() {
        cmd.push_str(&format!(" comment {}", quote(&s.comment)));
    }
    Some(cmd)
}

fn firewalld_service(s: &Service) -> Option<String> {
    let proto = match s.proto {
        Some(L4::Tcp) => "tcp",
        Some(L4::Udp) => "udp",
        _ => return None,
    };
    let ports = ports_text(s, '-')?;
    if s.direction == Direction::Output {
        // firewalld has no outbound zone rules; a policy object does it.
        let verdict = match s.action {
            Action::Accept => "ACCEPT",
            Action::Drop => "DROP",
            Action::Reject => "REJECT",
        };
        return Some(format!(
            "firewall-cmd --permanent --policy=nftguard-out --add-rich-rule={}   # target {verdict}",
            quote(&format!(
                "rule port port=\"{ports}\" protocol=\"{proto}\" {}",
                verdict.to_lowercase()
            ))
        ));
    }
    if s.source.is_none() && s.rate_limit.is_none() && s.action == Action::Accept {
        return Some(format!(
            "firewall-cmd --permanent --add-port={ports}/{proto}"
        ));
    }
    let mut rich = String::from("rule");
    if let Some(n) = s.source {
        let fam = if n.is_ipv4() { "ipv4" } else { "ipv6" };
        rich.push_str(&format!(" family=\"{fam}\" source address=\"{n}\""));
    }
    rich.push_str(&format!(" port port=\"{ports}\" protocol=\"{proto}\""));
    let action = match s.action {
        Action::Accept => "accept",
        Action::Drop => "drop",
        Action::Reject => "reject",
    };
    match s.rate_limit {
        Some(l) => {
            let unit = match l.unit {
                crate::nft::builder::LimitUnit::Second => "s",
                crate::nft::builder::LimitUnit::Minute => "m",
                crate::nft::builder::LimitUnit::Hour => "h",
                _ => "d",
            };
            rich.push_str(&format!(" {action} limit value=\"{}/{unit}\"", l.rate));
        }
        None => rich.push_str(&format!(" {action}")),
    }
    Some(format!(
        "firewall-cmd --permanent --add-rich-rule={}",
        quote(&rich)
    ))
}

/// The commands that give the intent's services with `frontend`, and the
/// warnings about what the frontend cannot express exactly.
pub fn commands(frontend: Frontend, intent: &Intent) -> (Vec<String>, Vec<String>) {
    let mut cmds = Vec::new();
    let mut warnings = Vec::new();
    let limited = intent.services.iter().any(|s| s.rate_limit.is_some());
    match frontend {
        Frontend::Ufw => {
            cmds.push(format!(
                "ufw default {} incoming",
                if intent.input_drop { "deny" } else { "allow" }
            ));
            cmds.push(format!(
                "ufw default {} outgoing",
                if intent.output_drop { "deny" } else { "allow" }
            ));
            cmds.extend(intent.services.iter().filter_map(ufw_service));
            cmds.push("ufw logging low".into());
            cmds.push("ufw --force enable".into());
            if limited {
                warnings.push("ufw limit allows 6 new connections per 30 seconds per source address, not the plan's exact rate".into());
            }
        }
        Frontend::Firewalld => {
            if intent
                .services
                .iter()
                .any(|s| s.direction == Direction::Output)
            {
                cmds.push("firewall-cmd --permanent --new-policy=nftguard-out".into());
                cmds.push(
                    "firewall-cmd --permanent --policy=nftguard-out --add-ingress-zone=HOST --add-egress-zone=ANY"
                        .into(),
                );
                if intent.output_drop {
                    cmds.push(
                        "firewall-cmd --permanent --policy=nftguard-out --set-target=DROP".into(),
                    );
                }
            }
            cmds.extend(intent.services.iter().filter_map(firewalld_service));
            cmds.push("firewall-cmd --permanent --set-log-denied=all".into());
            cmds.push("firewall-cmd --reload".into());
            if limited {
                warnings.push("firewalld rich-rule limits are one bucket per rule, shared by every source address: an attacker can exhaust it (nftguard would limit per source)".into());
            }
        }
    }
    (cmds, warnings)
}

/// The frontend's own rules, read back for the diff: ufw's `ufw-*` /
/// `ufw6-*` chains of the `ip`/`ip6 filter` tables, or firewalld's
/// `inet firewalld` table. Chains are mapped to `input`/`output` by name.
pub fn live_entries(frontend: Frontend, live: &Ruleset) -> Vec<DiffEntry> {
    let mut out = Vec::new();
    for r in &live.rules {
        let ours = match frontend {
            Frontend::Ufw => {
                matches!(r.family, Family::Ipv4 | Family::Ipv6)
                    && r.table == "filter"
                    && (r.chain.starts_with("ufw-") || r.chain.starts_with("ufw6-"))
            }
            Frontend::Firewalld => r.family == Family::Inet && r.table == "firewalld",
        };
        if !ours {
            continue;
        }
        let lower = r.chain.to_lowercase();
        let chain = if lower.contains("input") || lower.contains("_in_") {
            "input"
        } else if lower.contains("output") || lower.contains("_out_") {
            "output"
        } else {
            continue;
        };
        let mut e = rule_entry(r);
        e.chain = chain.into();
        out.push(e);
    }
    out
}

/// Whether a desired service entry is already given by the frontend's
/// rules: the same chain, protocol, port, source and action, for every
/// family the entry covers (ufw keeps IPv4 and IPv6 in separate tables).
/// Conditions the frontend adds of its own (`ct state new`, …) and rate
/// limits are not compared.
pub fn already_given(e: &DiffEntry, frontend_entries: &[DiffEntry]) -> bool {
    let families: &[&str] = match e.family.as_str() {
        "inet" => &["ipv4", "ipv6"],
        "ipv4" => &["ipv4"],
        "ipv6" => &["ipv6"],
        _ => return false,
    };
    families.iter().all(|fam| {
        frontend_entries.iter().any(|l| {
            l.chain == e.chain
                && (l.family == *fam || l.family == "inet")
                && l.proto == e.proto
                && l.port == e.port
                && l.source == e.source
                && l.action == e.action
        })
    })
}
