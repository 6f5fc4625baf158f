//! Which program manages each nf_tables table, from table and chain names
//! alone (see KERNEL.md, "Who else is here").
//!
//! Speed: tables and chains are decoded (there are few); rules are only
//! *counted* from a rule dump by reading each message's top-level
//! `NFTA_RULE_TABLE` attribute — no expression is decoded — so a host with
//! 10,000 rules is audited in milliseconds.

use crate::engine::dump::dump_kind;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::get_generation;
use crate::error::{Error, Result};
use crate::netlink::{AttrIter, Socket};
use crate::nft::consts::{msg, NFTA_RULE_TABLE};
use crate::nft::{Chain, Family, Table};

/// Who manages a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Manager {
    /// `inet nftguard`: ours.
    Nftguard,
    /// iptables-nft's `filter`/`nat`/… tables with only plain user chains.
    IptablesNft,
    /// ufw (`ufw-*` / `ufw6-*` chains).
    Ufw,
    /// firewalld (`inet firewalld`, `inet firewalld_policy_drop`).
    Firewalld,
    /// Docker (`DOCKER*` chains, `docker-bridges` tables).
    Docker,
    /// kube-proxy / kubelet (`kube-proxy` tables, `KUBE-*` chains).
    KubeProxy,
    /// Calico (`cali-*` chains, `calico` tables).
    Calico,
    /// Cilium (`CILIUM_*` chains, `cilium*` tables).
    Cilium,
    /// Tailscale (`ts-*` chains).
    Tailscale,
    /// Nobody we recognise (hand-written nft, a distro firewall, …).
    Unknown,
}

impl Manager {
    /// The name used in JSON and human output.
    pub fn name(self) -> &'static str {
        match self {
            Manager::Nftguard => "nftguard",
            Manager::IptablesNft => "iptables-nft",
            Manager::Ufw => "ufw",
            Manager::Firewalld => "firewalld",
            Manager::Docker => "docker",
            Manager::KubeProxy => "kube-proxy",
            Manager::Calico => "calico",
            Manager::Cilium => "cilium",
            Manager::Tailscale => "tailscale",
            Manager::Unknown => "unknown",
        }
    }
}

/// One live table in the audit report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Family (`ip`, `ip6`, `inet`, …).
    pub family: String,
    /// Table name.
    pub name: String,
    /// Who manages it.
    pub managed_by: Manager,
    /// Other managers whose chains also live in this table (ufw and Docker
    /// share `ip filter`, for example).
    pub also_used_by: Vec<Manager>,
    /// Number of chains.
    pub chains: usize,
    /// Number of rules.
    pub rules: usize,
    /// Names of its chains (used by the other detectors).
    #[serde(skip)]
    pub chain_names: Vec<String>,
    /// Names of its base chains.
    #[serde(skip)]
    pub base_chain_names: Vec<String>,
}

impl TableInfo {
    /// Whether the table holds a chain of this exact name.
    pub fn has_chain(&self, name: &str) -> bool {
        self.chain_names.iter().any(|c| c == name)
    }
}

/// The tables iptables-nft creates (in the ip, ip6, arp and bridge families).
const IPTABLES_TABLES: [&str; 5] = ["filter", "nat", "mangle", "raw", "security"];
/// The builtin chains iptables-nft creates, always upper case.
const IPTABLES_BUILTINS: [&str; 5] = ["INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"];

/// The manager a chain name belongs to, when the name is characteristic.
pub fn chain_manager(name: &str) -> Option<Manager> {
    if name.starts_with("ufw-") || name.starts_with("ufw6-") {
        Some(Manager::Ufw)
    } else if name.starts_with("DOCKER") {
        Some(Manager::Docker)
    } else if name.starts_with("KUBE-") {
        Some(Manager::KubeProxy)
    } else if name.starts_with("cali-") {
        Some(Manager::Calico)
    } else if name.starts_with("CILIUM_") || name.starts_with("cilium_") {
        Some(Manager::Cilium)
    } else if name.starts_with("ts-") {
        Some(Manager::Tailscale)
    } else {
        None
    }
}

/// When several managers' chains share one table, the one that owns the
/// table's policy is named: the frontends first (they set the base chain
/// policy), then orchestrators, then Docker, then Tailscale.
const PRECEDENCE: [Manager; 7] = [
    Manager::Ufw,
    Manager::KubeProxy,
    Manager::Calico,
    Manager::Cilium,
    Manager::Docker,
    Manager::Tailscale,
    Manager::Firewalld,
];

/// Classifies a table from its family, name and chain names.
pub fn classify(
    family: Family,
    name: &str,
    chains: &[String],
    base_chains: &[String],
) -> (Manager, Vec<Manager>) {
    let by_table = match (family, name) {
        (Family::Inet, "nftguard") => Some(Manager::Nftguard),
        (Family::Inet, "firewalld" | "firewalld_policy_drop") => Some(Manager::Firewalld),
        (Family::Ipv4 | Family::Ipv6, "docker-bridges") => Some(Manager::Docker),
        (Family::Ipv4 | Family::Ipv6 | Family::Inet, "kube-proxy" | "kube-network-policies") => {
            Some(Manager::KubeProxy)
        }
        (_, n) if n == "calico" || n.starts_with("calico-") => Some(Manager::Calico),
        (_, n) if n.starts_with("cilium") => Some(Manager::Cilium),
        (_, n) if n.starts_with("ts-") || n == "tailscale" => Some(Manager::Tailscale),
        _ => None,
    };
    let mut seen: Vec<Manager> = Vec::new();
    for c in chains {
        if let Some(m) = chain_manager(c) {
            if !seen.contains(&m) {
                seen.push(m);
            }
        }
    }
    if let Some(m) = by_table {
        seen.retain(|s| *s != m);
        seen.sort();
        return (m, seen);
    }
    if let Some(owner) = PRECEDENCE.iter().copied().find(|m| seen.contains(m)) {
        seen.retain(|s| *s != owner);
        seen.sort();
        return (owner, seen);
    }
    let iptables_family = matches!(
        family,
        Family::Ipv4 | Family::Ipv6 | Family::Arp | Family::Bridge
    );
    let iptables_like = iptables_family
        && IPTABLES_TABLES.contains(&name)
        && base_chains
            .iter()
            .all(|c| IPTABLES_BUILTINS.contains(&c.as_str()));
    if iptables_like {
        (Manager::IptablesNft, Vec::new())
    } else {
        (Manager::Unknown, Vec::new())
    }
}

/// Lists the live tables with their manager and chain and rule counts,
/// consistent with one ruleset generation.
pub fn list_tables(sock: &mut Socket) -> Result<Vec<TableInfo>> {
    const ATTEMPTS: u32 = 8;
    for _ in 0..ATTEMPTS {
        if let Some(t) = try_list(sock)? {
            return Ok(t);
        }
    }
    Err(Error::DumpUnstable { attempts: ATTEMPTS })
}

type Key = (Family, String);

fn try_list(sock: &mut Socket) -> Result<Option<Vec<TableInfo>>> {
    let genid = get_generation(sock)?.id;
    let mut tables: Vec<Table> = Vec::new();
    if !dump_kind(
        sock,
        msg::GETTABLE,
        Family::Unspec,
        &[],
        genid,
        |fam, attrs| {
            tables.push(Table::parse(fam, attrs)?);
            Ok(())
        },
    )? {
        return Ok(None);
    }
    let mut chains: BTreeMap<Key, (Vec<String>, Vec<String>)> = BTreeMap::new();
    if !dump_kind(
        sock,
        msg::GETCHAIN,
        Family::Unspec,
        &[],
        genid,
        |fam, attrs| {
            let c = Chain::parse(fam, attrs)?;
            let entry = chains.entry((fam, c.table.clone())).or_default();
            if c.is_base() {
                entry.1.push(c.name.clone());
            }
            entry.0.push(c.name);
            Ok(())
        },
    )? {
        return Ok(None);
    }
    let mut rules: BTreeMap<Key, usize> = BTreeMap::new();
    if !dump_kind(
        sock,
        msg::GETRULE,
        Family::Unspec,
        &[],
        genid,
        |fam, attrs| {
            for a in AttrIter::new(attrs) {
                let a = a?;
                if a.kind() == NFTA_RULE_TABLE {
                    let name = a.strz()?;
                    // Avoid allocating a key per rule: look up by reference first.
                    if let Some(n) = rules.iter_mut().find(|((f, t), _)| *f == fam && t == name) {
                        *n.1 += 1;
                    } else {
                        rules.insert((fam, name.to_string()), 1);
                    }
                    break;
                }
            }
            Ok(())
        },
    )? {
        return Ok(None);
    }
    if get_generation(sock)?.id != genid {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let key = (t.family, t.name.clone());
        let (chain_names, base_chain_names) = chains.remove(&key).unwrap_or_default();
        let (managed_by, also_used_by) =
            classify(t.family, &t.name, &chain_names, &base_chain_names);
        out.push(TableInfo {
            family: t.family.name(),
            name: t.name,
            managed_by,
            also_used_by,
            chains: chain_names.len(),
            rules: rules.get(&key).copied().unwrap_or(0),
            chain_names,
            base_chain_names,
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn classifies_by_table_name() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            classify(Family::Inet, "nftguard", &none, &none).0,
            Manager::Nftguard
        );
        assert_eq!(
            classify(Family::Inet, "firewalld", &none, &none).0,
            Manager::Firewalld
        );
        assert_eq!(
            classify(Family::Ipv6, "docker-bridges", &none, &none).0,
            Manager::Docker
        );
        assert_eq!(
            classify(Family::Ipv4, "kube-proxy", &none, &none).0,
            Manager::KubeProxy
        );
        assert_eq!(
            classify(Family::Inet, "nixos-fw", &none, &none).0,
            Manager::Unknown
        );
    }

    #[test]
    fn classifies_shared_iptables_tables_by_chains() {
        let base = names(&["INPUT", "FORWARD", "OUTPUT"]);
        let mut chains = base.clone();
        chains.extend(names(&["ufw-user-input", "DOCKER", "DOCKER-USER"]));
        let (m, also) = classify(Family::Ipv4, "filter", &chains, &base);
        assert_eq!((m, also), (Manager::Ufw, vec![Manager::Docker]));
        assert_eq!(
            classify(Family::Ipv4, "filter", &base, &base).0,
            Manager::IptablesNft
        );
        // nft's own lower-case "table ip filter" is not iptables-nft.
        let nft_base = names(&["input"]);
        assert_eq!(
            classify(Family::Ipv4, "filter", &nft_base, &nft_base).0,
            Manager::Unknown
        );
        let k = names(&["KUBE-SERVICES", "cali-INPUT"]);
        assert_eq!(
            classify(Family::Ipv4, "filter", &k, &[]).0,
            Manager::KubeProxy
        );
        assert_eq!(
            classify(Family::Ipv4, "mangle", &names(&["ts-input"]), &[]).0,
            Manager::Tailscale
        );
        assert_eq!(
            classify(Family::Ipv4, "raw", &names(&["CILIUM_PRE_raw"]), &[]).0,
            Manager::Cilium
        );
    }
}
